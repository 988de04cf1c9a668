"""Wrong passwords, counted per name: after a few in a short time that name waits, so a password
cannot be guessed by trying many. Each check is counted in the store before it runs
(pipeline/store/login_attempts.py): guesses sent at the same moment count as many, whether one
process or several serve them, and a restart forgets nothing. Names nobody has are counted the
same way, so the wait does not tell who has an account."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from pipeline.store.login_attempts import (
    Refused,
    Reserved,
    clear_attempts,
    release_attempt,
    reserve_attempt,
)
from pipeline.store.store import Store

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def reserve_check(store: Store, name: str, now: datetime | None = None) -> Reserved | Refused:
    """Count one more check of this name's password before it runs, or say how long it waits."""
    return reserve_attempt(store, name_key(name), MAX_FAILURES, WINDOW,
                           now or datetime.now(UTC))


def check_not_run(store: Store, reserved: Reserved) -> None:
    """Give back a reserved check that never ran (the app was too busy to hash), so it is not
    counted."""
    release_attempt(store, reserved)


def succeeded(store: Store, name: str) -> None:
    """A right password: forget the name's counted checks, so its next wrong one starts afresh."""
    clear_attempts(store, name_key(name))


def wait_seconds(refused: Refused, now: datetime | None = None) -> int:
    """Whole seconds until the name's password is checked again (at least 1)."""
    return max(1, round((refused.until - (now or datetime.now(UTC))).total_seconds()))


def name_key(name: str) -> str:
    """The name as the throttle counts it: trimmed, case-folded, and hashed, so that a password
    typed into the name box by mistake is not kept."""
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()
