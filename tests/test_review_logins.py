"""Guessing passwords against the review app: many guesses sent at once for one name count as
many, in the store on SQLite and PostgreSQL and against a real `papertwin review` process, and
many logins at once do not take the server's memory with them."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import func, select, update

from pipeline.review.accounts import (
    UNKNOWN_USER_HASH,
    add_user,
    check_login,
    password_hasher,
)
from pipeline.review.throttle import (
    MAX_FAILURES,
    check_not_run,
    name_key,
    reserve_check,
    succeeded,
    wait_seconds,
)
from pipeline.store import schema
from pipeline.store.login_attempts import Refused, Reserved
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.review_site import PASSWORD, review_process, workspace_with_user

MiB = 1024 * 1024
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _attempts(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.login_attempts))
                   .scalar_one())


# -- the count, in the store ---------------------------------------------------------------------

def test_checks_reserved_at_the_same_moment_count_as_many(store_url: str) -> None:
    """20 checks of one name at the same moment, each from a store of its own (as from 20
    processes): 5 go ahead, 15 wait, and the store counts 5."""
    stores = [Store.open(store_url) for _ in range(20)]
    barrier = threading.Barrier(len(stores))

    def reserve(store: Store) -> Reserved | Refused:
        barrier.wait()
        return reserve_check(store, "Rita")

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            outcomes = list(pool.map(reserve, stores))
        assert sum(isinstance(o, Reserved) for o in outcomes) == MAX_FAILURES
        assert sum(isinstance(o, Refused) for o in outcomes) == 20 - MAX_FAILURES
        assert _attempts(stores[0]) == MAX_FAILURES
    finally:
        for store in stores:
            store.close()


def test_the_wait_ends_a_quarter_of_an_hour_after_the_first_check(store: Store) -> None:
    for minute in range(5):
        assert isinstance(reserve_check(store, "Rita", T0 + timedelta(minutes=minute)),
                          Reserved)
    refused = reserve_check(store, " rita", T0 + timedelta(minutes=5))  # one name, as typed
    assert refused == Refused(T0 + timedelta(minutes=15))
    assert wait_seconds(refused, T0 + timedelta(minutes=5)) == 10 * 60
    assert isinstance(reserve_check(store, "sam", T0 + timedelta(minutes=5)), Reserved)
    # The first check leaves the window: one more may run, and the expired row is gone.
    assert isinstance(reserve_check(store, "rita", T0 + timedelta(minutes=15)), Reserved)
    assert isinstance(reserve_check(store, "rita", T0 + timedelta(minutes=15)), Refused)
    assert _attempts(store) == 6


def test_a_right_password_clears_the_count_and_a_check_not_run_gives_its_place_back(
        store: Store) -> None:
    reserved = [reserve_check(store, "rita", T0) for _ in range(5)]
    assert isinstance(reserve_check(store, "rita", T0), Refused)
    last = reserved[-1]
    assert isinstance(last, Reserved)
    check_not_run(store, last)
    assert isinstance(reserve_check(store, "rita", T0), Reserved)
    succeeded(store, "Rita")
    assert _attempts(store) == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(schema.login_attempts)).all() == []
    reserve_check(store, "rita", T0)
    with store.engine.connect() as conn:
        (kept,) = conn.execute(select(schema.login_attempts.c.name_key)).scalars().all()
    assert kept == name_key("rita") and "rita" not in kept


# -- the hash ------------------------------------------------------------------------------------

def test_hashes_are_rfc_9106s_second_choice_and_a_wrong_name_costs_the_same(
        store: Store) -> None:
    add_user(store, "rita", PASSWORD, "reviewer")
    with store.engine.connect() as conn:
        stored = conn.execute(select(schema.users.c.password_hash)).scalar_one()
    assert extract_parameters(stored) == RFC_9106_LOW_MEMORY
    assert extract_parameters(UNKNOWN_USER_HASH) == extract_parameters(stored)
    assert not password_hasher().check_needs_rehash(UNKNOWN_USER_HASH)


def test_a_hash_of_older_parameters_verifies_and_is_made_again(store: Store) -> None:
    add_user(store, "rita", PASSWORD, "reviewer")
    older = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1).hash(PASSWORD)
    with store.engine.begin() as conn:
        conn.execute(update(schema.users).values(password_hash=older))
    assert check_login(store, "rita", PASSWORD + "x") is None
    assert check_login(store, "rita", PASSWORD) is not None
    with store.engine.connect() as conn:
        again = conn.execute(select(schema.users.c.password_hash)).scalar_one()
    assert again != older and extract_parameters(again) == RFC_9106_LOW_MEMORY
    assert check_login(store, "rita", PASSWORD) is not None


# -- against a real server -----------------------------------------------------------------------


def _workspace_with_rita(root: Path) -> Workspace:
    return workspace_with_user(root, "rita", "reviewer")


def _login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    return _post_login(client, _login_form(client), name, password)


def _login_form(client: httpx.Client) -> tuple[str, str]:
    """The login form's CSRF token and its cookie (a secure cookie, which a client other than a
    browser keeps to itself over http, even on loopback)."""
    page = client.get("/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1), page.cookies["papertwin_login"]


def _post_login(client: httpx.Client, form: tuple[str, str], name: str,
                password: str) -> httpx.Response:
    token, cookie = form
    return client.post("/login", data={"name": name, "password": password, "csrf": token},
                       headers={"Cookie": f"papertwin_login={cookie}"})


def _burst(url: str, guesses: list[tuple[str, str]]) -> list[str]:
    """Every (name, password) posted at the same moment, each from a client of its own that has
    fetched the login form first; how each was answered: "303" (logged in), "401" (checked,
    wrong), "429 throttled" (too many for the name) or "429 busy" (no turn to check it)."""
    barrier = threading.Barrier(len(guesses))

    def guess(name_password: tuple[str, str]) -> str:
        name, password = name_password
        with httpx.Client(base_url=url, timeout=120) as client:
            form = _login_form(client)
            barrier.wait()
            answer = _post_login(client, form, name, password)
        if answer.status_code != 429:
            return str(answer.status_code)
        assert int(answer.headers["Retry-After"]) >= 1
        if f"Too many wrong passwords for {name}: try again in " in answer.text:
            return "429 throttled"
        assert "Many people are logging in at this moment" in answer.text, answer.text
        return "429 busy"

    with ThreadPoolExecutor(len(guesses)) as pool:
        return list(pool.map(guess, guesses))


def _kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert found is not None, status
    return int(found.group(1))


@pytest.mark.slow
def test_thirty_guesses_at_once_check_at_most_five_passwords(tmp_path: Path) -> None:
    """30 wrong passwords for one name posted at the same moment: 5 are counted and checked
    (401), 25 wait (429), and the right password right after them does not get in."""
    workspace = _workspace_with_rita(tmp_path)
    with review_process(workspace) as server:
        answers = _burst(server.url, [("rita", f"guess {n}") for n in range(30)])
        # 5 checks counted; each waits its turn to be hashed (a few tenths of a second, one at
        # a time), well within the 5 seconds a login waits, on a machine not badly overloaded.
        assert answers.count("429 throttled") == 25, answers
        assert answers.count("401") + answers.count("429 busy") == 5, answers
        with httpx.Client(base_url=server.url) as client:
            right = _login(client, "rita", PASSWORD)
        if "429 busy" in answers:  # a guess never checked gave its count back: one more check
            assert right.status_code == 303, answers
        else:
            assert right.status_code == 429 and "Too many wrong passwords" in right.text
    assert "Traceback" not in server.log.read_text()


@pytest.mark.slow
def test_fifty_logins_at_once_leave_memory_flat(tmp_path: Path) -> None:
    """50 logins at once under 50 names (each name's password is checked, or would be): the
    server's peak memory during the burst stays within 100 MB of its memory at rest."""
    workspace = _workspace_with_rita(tmp_path)
    with review_process(workspace) as server:
        with httpx.Client(base_url=server.url) as client:  # warm: one login's worth of work
            assert _login(client, "rita", PASSWORD).status_code == 303
        idle = _kib(server.pid, "VmRSS")
        # VmHWM is the peak since the process started: start it again from here.
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")
        started = time.monotonic()
        answers = _burst(server.url, [(f"guesser {n}", f"guess {n}") for n in range(50)])
        seconds = time.monotonic() - started
        peak = _kib(server.pid, "VmHWM")
        with server.log.open() as log:
            assert "Traceback" not in log.read()
    print(f"\nidle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB during 50 logins at once "
          f"in {seconds:.1f} s; {answers.count('401')} checked, {answers.count('429 busy')} "
          "told to try again")
    assert set(answers) <= {"401", "429 busy"}, answers
    assert answers.count("401") >= 1
    assert (peak - idle) * 1024 < 100 * MiB, (idle, peak)
