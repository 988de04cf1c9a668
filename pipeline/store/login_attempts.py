"""Password checks, counted per name before they run: the review app's login throttle.

A check is reserved (a row here) before the password is hashed, and refused when the name has
`limit` rows within the window. Counting and inserting happen in one locked transaction
(locks.py), so guesses sent at the same moment, to one process or to several, count as as many
guesses. A reservation stays when its password was wrong, and when the process died while it was
checked; a right password clears the name's rows; a check that never ran (the app was too busy)
gives its reservation back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select

from pipeline.errors import WorkspaceError
from pipeline.store import schema
from pipeline.store.locks import locked_transaction
from pipeline.store.store import Store


@dataclass(frozen=True)
class Reserved:
    id: int


@dataclass(frozen=True)
class Refused:
    until: datetime  # when the oldest check counted leaves the window


def reserve_attempt(store: Store, name_key: str, limit: int, window: timedelta,
                    now: datetime) -> Reserved | Refused:
    """One more check for the name, or the time until one is allowed again."""
    t = schema.login_attempts
    since = _iso(now - window)
    with locked_transaction(store, f"login_attempts:{name_key}") as conn:
        # Rows older than the window count for nobody; those another transaction is deleting
        # are left to it (SKIP LOCKED on PostgreSQL; SQLite has one writer at a time).
        expired = select(t.c.id).where(t.c.attempted_at <= since).with_for_update(
            skip_locked=True)
        conn.execute(delete(t).where(t.c.id.in_(expired)))
        count, oldest = conn.execute(
            select(func.count(), func.min(t.c.attempted_at))
            .where(t.c.name_key == name_key, t.c.attempted_at > since)).one()
        if count >= limit:
            return Refused(datetime.fromisoformat(oldest) + window)
        key = conn.execute(insert(t).values(name_key=name_key, attempted_at=_iso(now))
                           ).inserted_primary_key
    if key is None:
        raise WorkspaceError("the store did not return the id of a new login attempt")
    return Reserved(int(key[0]))


def release_attempt(store: Store, reserved: Reserved) -> None:
    """A reserved check that did not run counts for nothing."""
    t = schema.login_attempts
    with store.engine.begin() as conn:
        conn.execute(delete(t).where(t.c.id == reserved.id))


def clear_attempts(store: Store, name_key: str) -> None:
    """The right password: the name starts again from nothing."""
    t = schema.login_attempts
    with store.engine.begin() as conn:
        conn.execute(delete(t).where(t.c.name_key == name_key))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()
