"""People who may use the review app, and their sessions.

Passwords are kept only as argon2id hashes. A session cookie carries a random token; the store
keeps its SHA-256, so a copy of the store lets nobody in, and a session ends on the server when a
person logs out or it expires. Each session has its own CSRF token, which every form posts back.
The web app checks a password only through passwords.check_password, which counts the check
and bounds how many hashes run at once; check_login here is the bare check beneath it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from pipeline.errors import UsageError
from pipeline.store.accounts import (
    UserRecord,
    add_session,
    add_user_record,
    end_session,
    session_record,
    set_password_hash,
    set_user_disabled,
    user_record,
    user_records,
)
from pipeline.store.store import Store, now_iso

Role = Literal["reviewer", "supervisor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
# What each role may do beyond reviewing answers and pages.
SEES_CONTACTS: frozenset[Role] = frozenset({"supervisor", "admin"})
SUPERVISES: frozenset[Role] = frozenset({"supervisor", "admin"})
MIN_PASSWORD = 10
SESSION_HOURS = 12  # a working day; a person logs in again the next morning
# Checked against a password given with an unknown name, so that a wrong name takes as long as a
# wrong password. Made with HASH_PARAMETERS from a random password nobody kept (a test checks
# that the parameters agree).
UNKNOWN_USER_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$HBbIhM5I+6q0d8puUe01pw$"
                     "E6d06TMAJ3I60rMWZ1J9vmJew7q2P6Qf+DThSDvn8b8")
# RFC 9106's second recommended choice (argon2id, 3 passes over 64 MiB, 4 lanes): stated here
# rather than taken from argon2-cffi's default, so that a new version of the library does not
# quietly re-hash every password. A hash made with other parameters still verifies, and is made
# again with these at its owner's next good login.
HASH_PARAMETERS = RFC_9106_LOW_MEMORY


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: str
    disabled: bool = False

    @property
    def sees_contacts(self) -> bool:
        """Whether the person may see the recipients' names and addresses (supervisors and
        admins)."""
        return self.role in SEES_CONTACTS

    @property
    def supervises(self) -> bool:
        """Whether the person may do a supervisor's work: decide what reviewers refer, and open
        the supervisors' pages (supervisors and admins)."""
        return self.role in SUPERVISES


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: str


def role_of(text: str) -> Role:
    """The role a person typed, checked; UsageError naming the roles there are for any other
    text."""
    for role in ROLES:
        if role == text:
            return role
    raise UsageError(f"role {text!r}: choose one of {', '.join(ROLES)}")


def add_user(store: Store, name: str, password: str, role: str) -> User:
    """A new person who may use the review app, their password kept only as its argon2id hash.
    UsageError for a name that is not 1 to 64 printable characters, an unknown role, a password
    shorter than MIN_PASSWORD, or a name someone has already."""
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise UsageError("a user name is 1 to 64 printable characters")
    checked = role_of(role)
    _check_password(password)
    created = now_iso()
    if not add_user_record(store, UserRecord(name, checked, created, False,
                                             password_hasher().hash(password))):
        raise UsageError(f"user {name!r} exists already: use 'papertwin users password' "
                         "to change the password")
    return User(name, checked, created)


def set_password(store: Store, name: str, password: str) -> None:
    """A new password ends every session the person had."""
    _check_password(password)
    if not set_password_hash(store, name, password_hasher().hash(password)):
        raise UsageError(f"no user {name!r}: 'papertwin users list' shows who there is")


def set_disabled(store: Store, name: str, disabled: bool) -> None:
    """A disabled person cannot log in and is logged out at once; their decisions stay."""
    if not set_user_disabled(store, name, disabled):
        raise UsageError(f"no user {name!r}: 'papertwin users list' shows who there is")


def list_users(store: Store) -> list[User]:
    """Everyone who may use the review app, disabled people included, by name."""
    return [User(r.name, role_of(r.role), r.created_at, r.disabled) for r in user_records(store)]


def password_hasher() -> PasswordHasher:
    """The argon2id hasher with papertwin's own parameters (HASH_PARAMETERS), not the library's
    defaults."""
    return PasswordHasher.from_parameters(HASH_PARAMETERS)


def check_login(store: Store, name: str, password: str) -> User | None:
    """The user, if the name and password match an enabled account; None otherwise. Takes one
    argon2 hash's time and memory (two when it upgrades an old hash)."""
    row = user_record(store, name.strip())
    hasher = password_hasher()
    try:
        hasher.verify(row.password_hash if row is not None else UNKNOWN_USER_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if hasher.check_needs_rehash(row.password_hash):
        set_password_hash(store, row.name, hasher.hash(password), end_sessions=False)
    return User(row.name, role_of(row.role), row.created_at, False)


def open_session(store: Store, user: User, hours: float = SESSION_HOURS) -> tuple[str, Session]:
    """A new session: the token for the cookie, and the session as the store keeps it."""
    token = secrets.token_urlsafe(32)
    session = Session(user, secrets.token_urlsafe(32),
                      _iso(datetime.now(UTC) + timedelta(hours=hours)))
    add_session(store, _token_hash(token), user.name, session.csrf_token, now_iso(),
                session.expires_at)
    return token, session


def session_of(store: Store, token: str) -> Session | None:
    """The live session a cookie's token opens, or None (unknown, expired, user disabled)."""
    if not token:
        return None
    found = session_record(store, _token_hash(token))
    if found is None or found.user.disabled or found.expires_at < now_iso():
        return None
    user = found.user
    return Session(User(user.name, role_of(user.role), user.created_at), found.csrf_token,
                   found.expires_at)


def close_session(store: Store, token: str) -> None:
    """End the session of this cookie token on the server (logging out); an unknown token is
    ignored."""
    end_session(store, _token_hash(token))


def tokens_match(given: str, expected: str) -> bool:
    """Whether a token given (a CSRF token posted back) is the expected one, compared in constant
    time; an empty token never matches."""
    return bool(given) and secrets.compare_digest(given.encode(), expected.encode())


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()

