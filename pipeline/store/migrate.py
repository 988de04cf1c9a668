"""Bring any papertwin store to the newest schema with Alembic, from code (no alembic.ini).

Three kinds of store exist: empty (every revision runs), one made by the first release's
create_all (store_info says schema 1 and there is no alembic_version table: it is stamped 0001,
then upgraded) and one managed by Alembic (upgraded from its revision). A store whose revision
this code does not know was made by a newer papertwin and is refused rather than guessed at.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import Connection

from pipeline.errors import StoreNotWritableError, WorkspaceError
from pipeline.store.schema import LEGACY_SCHEMA_VERSION, metadata, store_info

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"


def alembic_config(connection: Connection | None = None) -> Config:
    """A Config built in code: the migrations ship inside the package, the connection is ours."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision(script: ScriptDirectory | None = None) -> str:
    """The newest revision this papertwin knows."""
    script = script or ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if head is None:
        raise WorkspaceError(f"no migrations found in {MIGRATIONS}: the installation is broken")
    return head


def store_revision(connection: Connection) -> str | None:
    """The revision recorded in the store, or None when Alembic has never run on it."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> str:
    """Migrate the store in one transaction; returns the revision it is at afterwards."""
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision(script)
    with engine.begin() as conn:
        current = store_revision(conn)
        if current is None:
            current = _adopt_unversioned(conn)
        else:
            _check_known(engine, script, current, head)
        if current != head:
            command.upgrade(alembic_config(conn), "head")
    return head


def check_at_head(engine: Engine) -> str:
    """For reading only: the store must be at the newest revision already, since upgrading it
    would write."""
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision(script)
    with engine.connect() as conn:
        current = store_revision(conn)
    if current is not None:
        _check_known(engine, script, current, head)
    if current != head:
        raise StoreNotWritableError(
            f"the store {engine.url.render_as_string(hide_password=True)} is at schema revision "
            f"{current or 'none'} and this papertwin reads {head}: run a command that writes "
            "(papertwin ingest, for instance) on a writable store once, to upgrade it")
    return head


def _check_known(engine: Engine, script: ScriptDirectory, current: str, head: str) -> None:
    """A revision this papertwin does not know was written by a newer one: refused."""
    try:
        script.get_revision(current)
    except CommandError as exc:
        raise WorkspaceError(
            f"the store {engine.url!r} is at schema revision {current}, which this "
            f"papertwin does not know (it knows up to {head}): it was written by a newer "
            "papertwin; upgrade papertwin to use it"
        ) from exc


def _adopt_unversioned(conn: Connection) -> str | None:
    """An empty database starts from nothing; a first-release store is stamped 0001."""
    tables = set(inspect(conn).get_table_names())
    if "store_info" not in tables:
        ours = sorted(tables & set(metadata.tables))
        if ours:
            raise WorkspaceError(
                f"the database holds tables named like papertwin's ({', '.join(ours)}) but no "
                "store_info table: it is not a papertwin store; use an empty database"
            )
        return None
    found = conn.execute(
        select(store_info.c.value).where(store_info.c.key == "schema")
    ).scalar()
    if found != str(LEGACY_SCHEMA_VERSION):
        raise WorkspaceError(
            f"the store's store_info says schema {found!r} but it has no Alembic revision; "
            f"only schema {LEGACY_SCHEMA_VERSION} (the first release) can be adopted"
        )
    command.stamp(alembic_config(conn), FIRST_REVISION)
    return FIRST_REVISION
