"""Writing many rows at once on SQLite and PostgreSQL alike.

Replacing rows by key is an upsert (INSERT ... ON CONFLICT DO UPDATE, which both databases have)
rather than DELETE ... WHERE key IN (...) then INSERT: a list of 100,000 keys passes PostgreSQL's
65,535 bind parameters, and right after a bulk load PostgreSQL's planner, without statistics yet,
may scan the whole table once per slice of keys. ON CONFLICT always goes through the key's index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from pipeline.errors import WorkspaceError


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing those whose primary key is already there; of rows that share a
    key, the last wins (PostgreSQL refuses to update one row twice in a statement)."""
    keys = [c.name for c in table.primary_key.columns]
    rows = list({tuple(row[k] for k in keys): row for row in rows}.values())
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        conn.execute(pg.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: pg.excluded[c.name] for c in table.columns if c.name not in keys}),
            rows)
    elif dialect == "sqlite":
        lite = sqlite.insert(table)
        conn.execute(lite.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: lite.excluded[c.name] for c in table.columns if c.name not in keys}),
            rows)
    else:
        raise WorkspaceError(f"papertwin's store runs on SQLite or PostgreSQL, not {dialect}")
