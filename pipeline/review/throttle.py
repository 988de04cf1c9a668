"""Wrong passwords, counted per name: after a few in a short time that name waits, so a password
cannot be guessed by trying many. Kept by the running app (one process), not in the store: a
restart forgets them, which costs a guesser more than it gives."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def wait_seconds(self, name: str) -> float:
        """How long this name must wait before its password is checked again (0: go ahead)."""
        failures = self._recent(name)
        if len(failures) < MAX_FAILURES:
            return 0.0
        return max(0.0, failures[0] + WINDOW_SECONDS - self._clock())

    def failed(self, name: str) -> None:
        self._recent(name).append(self._clock())

    def succeeded(self, name: str) -> None:
        self._failures.pop(_key(name), None)

    def _recent(self, name: str) -> deque[float]:
        failures = self._failures[_key(name)]
        while failures and failures[0] < self._clock() - WINDOW_SECONDS:
            failures.popleft()
        return failures


def _key(name: str) -> str:
    return name.strip().casefold()
