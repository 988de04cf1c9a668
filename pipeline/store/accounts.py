"""People who may use the review app, and their sessions, as the store keeps them.

Only hashes are stored: a password's argon2id hash and a session token's SHA-256. The rules (who
may do what, how passwords are checked, when a session ends) are the review app's
(pipeline/review/accounts.py); this module only reads and writes the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from pipeline.store import schema
from pipeline.store.store import Store


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    created_at: str
    disabled: bool
    password_hash: str


@dataclass(frozen=True)
class SessionRecord:
    user: UserRecord
    csrf_token: str
    expires_at: str


def add_user_record(store: Store, user: UserRecord) -> bool:
    """False, and nothing written, when the name is taken."""
    t = schema.users
    with store.engine.begin() as conn:
        if conn.execute(select(t.c.name).where(t.c.name == user.name)).first():
            return False
        conn.execute(insert(t).values(
            name=user.name, password_hash=user.password_hash, role=user.role,
            created_at=user.created_at, disabled=user.disabled))
    return True


def set_password_hash(store: Store, name: str, password_hash: str,
                      end_sessions: bool = True) -> bool:
    """False when there is no such user. A changed password ends the person's sessions; a hash
    made again with new parameters (the same password) does not."""
    return _update_user(store, name, {"password_hash": password_hash}, end_sessions)


def set_user_disabled(store: Store, name: str, disabled: bool) -> bool:
    """False when there is no such user; disabling ends the person's sessions at once."""
    return _update_user(store, name, {"disabled": disabled}, end_sessions=disabled)


def _update_user(store: Store, name: str, values: dict[str, Any], end_sessions: bool) -> bool:
    with store.engine.begin() as conn:
        changed = conn.execute(update(schema.users).where(schema.users.c.name == name)
                               .values(**values)).rowcount
        if changed and end_sessions:
            conn.execute(delete(schema.sessions).where(schema.sessions.c.user_name == name))
    return bool(changed)


def user_records(store: Store) -> list[UserRecord]:
    """Every person's row, by name, disabled people included."""
    t = schema.users
    with store.engine.connect() as conn:
        return [_user(row) for row in conn.execute(select(t).order_by(t.c.name))]


def user_record(store: Store, name: str) -> UserRecord | None:
    """The row of the person of that name, or None when there is none."""
    t = schema.users
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.name == name)).first()
    return None if row is None else _user(row)


def add_session(store: Store, token_hash: str, user_name: str, csrf_token: str,
                created_at: str, expires_at: str) -> None:
    """A new session; sessions expired by `created_at` go at the same time."""
    s = schema.sessions
    with store.engine.begin() as conn:
        conn.execute(delete(s).where(s.c.expires_at < created_at))
        conn.execute(insert(s).values(
            token_hash=token_hash, user_name=user_name, csrf_token=csrf_token,
            created_at=created_at, expires_at=expires_at))


def session_record(store: Store, token_hash: str) -> SessionRecord | None:
    """The session with this token hash and its user, expired or not; None when there is no
    such session (ended, or never begun)."""
    s, u = schema.sessions, schema.users
    with store.engine.connect() as conn:
        row = conn.execute(
            select(s.c.csrf_token, s.c.expires_at, u.c.name, u.c.role, u.c.created_at,
                   u.c.disabled, u.c.password_hash)
            .join(u, u.c.name == s.c.user_name)
            .where(s.c.token_hash == token_hash)).first()
    if row is None:
        return None
    user = UserRecord(str(row.name), str(row.role), str(row.created_at), bool(row.disabled),
                      str(row.password_hash))
    return SessionRecord(user, str(row.csrf_token), str(row.expires_at))


def end_session(store: Store, token_hash: str) -> None:
    """Delete the session of this token hash; one that is not there (ended already) is no error."""
    with store.engine.begin() as conn:
        conn.execute(delete(schema.sessions).where(schema.sessions.c.token_hash == token_hash))


def _user(row: Row[Any]) -> UserRecord:
    return UserRecord(str(row.name), str(row.role), str(row.created_at), bool(row.disabled),
                      str(row.password_hash))
