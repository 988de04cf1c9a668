"""The one way the review app checks a password, whichever form asks for one (the login page
now, and any later form that asks for a password again).

First the check is counted against the name (throttle.py), in the store, before anything else:
guesses sent together cannot get more checks than the throttle allows. Then the hash runs in one
of a few slots shared by the whole app (argon2id takes 64 MiB and a few tenths of a second per
hash, by design), so logins sent together wait their turn instead of taking the server's memory;
one that waits too long is told to try again, and its check is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio
from starlette.concurrency import run_in_threadpool

from pipeline.errors import PapertwinError
from pipeline.review import throttle
from pipeline.review.accounts import User, check_login
from pipeline.store.login_attempts import Refused
from pipeline.store.store import Store

BUSY_RETRY_SECONDS = 5


class TryLater(PapertwinError):
    """The password was not checked: the name has had too many wrong ones lately, or the app is
    busy checking others."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class PasswordSlots:
    """At most `size` password hashes at once in the app; a check waits up to `wait_seconds`
    for a slot."""

    size: int
    wait_seconds: float
    semaphore: anyio.Semaphore


def password_slots(size: int, wait_seconds: float) -> PasswordSlots:
    """Made once per app, in its event loop (the app's lifespan)."""
    return PasswordSlots(size, wait_seconds, anyio.Semaphore(size))


async def check_password(store: Store, slots: PasswordSlots, name: str,
                         password: str) -> User | None:
    """The user, if the name and password match an enabled account; None otherwise (the check
    stays counted). Raises TryLater when the password is not checked at all."""
    reserved = await run_in_threadpool(throttle.reserve_check, store, name)
    if isinstance(reserved, Refused):
        wait = throttle.wait_seconds(reserved)
        raise TryLater(f"Too many wrong passwords for {name.strip()}: try again in "
                       f"{max(1, round(wait / 60))} minutes, or ask a supervisor.", wait)
    acquired = False
    with anyio.move_on_after(slots.wait_seconds):
        await slots.semaphore.acquire()
        acquired = True
    if not acquired:
        await run_in_threadpool(throttle.check_not_run, store, reserved)
        raise TryLater("Many people are logging in at this moment: try again in a few "
                       "seconds.", BUSY_RETRY_SECONDS)
    try:
        # Off the event loop: other pages do not wait while a hash runs.
        user = await run_in_threadpool(check_login, store, name, password)
    finally:
        slots.semaphore.release()
    if user is not None:
        await run_in_threadpool(throttle.succeeded, store, name)
    return user
