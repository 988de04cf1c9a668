"""Who may use the review app: accounts, passwords, sessions, the `users` and `review` commands,
and the queue's arithmetic, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from flows.cli import main
from pipeline.errors import ExitCode, UsageError
from pipeline.review.accounts import (
    add_user,
    check_login,
    list_users,
    open_session,
    session_of,
    set_disabled,
    set_password,
)
from pipeline.review.app import create_app
from pipeline.review.dual import record_dual_decision
from pipeline.review.queue import FieldItem, next_item, reviewer_rates
from pipeline.review.web import Settings
from pipeline.store import schema
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.review_site import log_in, review_process

PASSWORD = "a long enough password"


def test_a_password_is_kept_only_as_an_argon2_hash(store: Store) -> None:
    add_user(store, "rita", PASSWORD, "reviewer")
    with store.engine.connect() as conn:
        (stored,) = conn.execute(select(schema.users.c.password_hash)).scalars().all()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert check_login(store, "rita", PASSWORD) is not None
    assert check_login(store, "rita", PASSWORD + "x") is None
    assert check_login(store, "nobody", PASSWORD) is None


def test_accounts_refuse_what_would_go_wrong_later(store: Store) -> None:
    add_user(store, "rita", PASSWORD, "reviewer")
    with pytest.raises(UsageError, match="exists already"):
        add_user(store, "rita", PASSWORD, "supervisor")
    with pytest.raises(UsageError, match="at least 10 characters"):
        add_user(store, "sam", "short", "supervisor")
    with pytest.raises(UsageError, match="choose one of reviewer, supervisor, admin"):
        add_user(store, "sam", PASSWORD, "boss")
    with pytest.raises(UsageError, match="no user 'sam'"):
        set_password(store, "sam", PASSWORD)
    assert [(u.name, u.role) for u in list_users(store)] == [("rita", "reviewer")]


def test_a_session_ends_on_expiry_new_password_or_disabling(store: Store) -> None:
    user = add_user(store, "rita", PASSWORD, "reviewer")
    token, session = open_session(store, user)
    found = session_of(store, token)
    assert found is not None and found.user.name == "rita"
    assert found.csrf_token == session.csrf_token and len(session.csrf_token) >= 40
    with store.engine.connect() as conn:
        (kept,) = conn.execute(select(schema.sessions.c.token_hash)).scalars().all()
    assert token not in kept  # only its hash: a copy of the store opens no session
    assert session_of(store, token + "x") is None
    expired, _ = open_session(store, user, hours=-1)
    assert session_of(store, expired) is None
    set_password(store, "rita", PASSWORD + "!")
    assert session_of(store, token) is None
    token, _ = open_session(store, user)
    set_disabled(store, "rita", True)
    assert session_of(store, token) is None
    assert check_login(store, "rita", PASSWORD + "!") is None
    set_disabled(store, "rita", False)
    assert check_login(store, "rita", PASSWORD + "!") is not None


def test_the_users_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    workspace = str(tmp_path / "ws")
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "sam", "--role", "supervisor", "--password-stdin",
                 "--workspace", workspace]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["users", "add", "rita", "--role", "reviewer", "--password-stdin",
                 "--workspace", workspace]) == ExitCode.USAGE
    assert "at least 10 characters" in capsys.readouterr().err
    assert main(["users", "disable", "sam", "--workspace", workspace]) == 0
    assert main(["users", "list", "--workspace", workspace]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("sam\tsupervisor (disabled)")
    store = Store.open(Workspace.resolve(workspace).store_url)
    try:
        assert check_login(store, "sam", PASSWORD) is None
    finally:
        store.close()


def test_papertwin_review_serves_the_login_page_on_loopback(tmp_path: Path) -> None:
    with review_process(Workspace.resolve(tmp_path / "ws")) as server:
        response = httpx.get(f"{server.url}/", follow_redirects=True)
        assert response.status_code == 200 and 'action="/login"' in response.text
        assert response.url.path == "/login"
    assert "nobody can log in yet" in server.log.read_text()


def _item(serial: str) -> FieldItem:
    return FieldItem("form", serial, "q", 1, 1, "", 0.5, "ambiguous", "scan.pdf p1", None)


def test_the_next_item_wraps_round_the_queue() -> None:
    items = [_item("000001"), _item("000002"), _item("000003")]
    assert next_item(items, None) == items[0]
    assert next_item(items, items[0].key) == items[1]
    assert next_item(items, items[2].key) == items[0]  # skipped ones come round again
    assert next_item(items, ("form", "000009", "q")) == items[0]  # decided: the first left
    assert next_item([items[0]], items[0].key) is None
    assert next_item([], None) is None


def test_reviewer_rates_count_every_kind_of_decision(store: Store) -> None:
    for n in range(3):
        record_dual_decision(store, f"paper-{n}", f"online-{n}", "both", "rita")
    record_dual_decision(store, "paper-9", "online-9", "paper", "sam")
    with store.engine.begin() as conn:
        conn.execute(schema.page_decisions.insert().values(
            file_sha256="0" * 64, page_index=1, action="not_a_form", form_key="", serial="",
            page=0, reviewer="rita", decided_at="2020-01-01T09:00:00+00:00", why=""))
    rates = {r.reviewer: r for r in reviewer_rates(store)}
    assert (rates["rita"].last_hour, rates["rita"].today, rates["rita"].total) == (3, 3, 4)
    assert (rates["sam"].last_hour, rates["sam"].total) == (1, 1)
    tomorrow = reviewer_rates(store, datetime(2999, 1, 1, tzinfo=UTC))
    assert [(r.reviewer, r.last_hour, r.today) for r in tomorrow] == [("rita", 0, 0),
                                                                       ("sam", 0, 0)]


def _login(client: TestClient, name: str, password: str) -> httpx.Response:
    return log_in(client, name, password)


def test_a_name_that_keeps_failing_waits(tmp_path: Path) -> None:
    """Five wrong passwords in a quarter of an hour: that name's password is not checked again
    for a while, even the right one; other people log in as usual."""
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    store = Store.open(workspace.store_url)
    try:
        add_user(store, "rita", PASSWORD, "reviewer")
        add_user(store, "sam", PASSWORD, "supervisor")
    finally:
        store.close()
    with TestClient(create_app(Settings(workspace)), base_url="https://127.0.0.1") as client:
        assert [_login(client, "rita", f"guess {n}").status_code for n in range(5)] == [401] * 5
        refused = _login(client, "rita", PASSWORD)
        assert refused.status_code == 429 and "Too many wrong passwords" in refused.text
        assert _login(client, "sam", PASSWORD).status_code == 303


def test_a_port_in_use_is_said_plainly(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["review", "--port", str(port), "--workspace",
                     str(tmp_path / "ws")]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"cannot serve the review app on 127.0.0.1:{port}" in err
    assert "choose another with --port" in err
