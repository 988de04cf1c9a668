"""Transactions that must not run beside another of their kind, in any process.

Counting rows and then inserting one if there are few enough is atomic only if nothing inserts in
between. PostgreSQL at its default isolation (read committed) lets two such transactions count
the same rows; SQLite's deferred BEGIN lets both count, then refuses the second writer. So such a
transaction takes a lock before it reads: on PostgreSQL a transaction-level advisory lock named by
its key (transactions under other keys go on beside it); on SQLite the database's write lock,
taken at BEGIN (SQLite has one writer at a time anyway). Each waits for the holder (SQLite up to
its busy timeout) and is released when the transaction ends, committed or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from pipeline.store.engine import WRITE_LOCK
from pipeline.store.store import Store


@contextmanager
def locked_transaction(store: Store, key: str) -> Iterator[Connection]:
    """A transaction that no other transaction locked under the same key overlaps."""
    with store.engine.connect() as conn:
        conn.execution_options(**{WRITE_LOCK: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(advisory_key(key))))
            yield conn


def advisory_key(key: str) -> int:
    """PostgreSQL's advisory locks are named by a signed 64-bit number."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
