"""What the review app answers to an address it was not meant to be asked: ids out of every range
the store holds (404, on SQLite and PostgreSQL, never a server error), a Host it is not served as,
and a form posted from another origin."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from pipeline.forms.build import BuiltForm
from pipeline.review.accounts import add_user
from pipeline.review.app import create_app
from pipeline.review.web import Settings
from pipeline.store.store import Store
from pipeline.workspace import Workspace

PASSWORD = "a long enough password"
HUGE = "99999999999999999999"  # past 64 bits
PAST_32_BITS = str(2**31)  # PostgreSQL's INTEGER ends at 2**31 - 1
SHA = "ab" * 32


@pytest.fixture
def client(built: tuple[Workspace, BuiltForm], store_url: str, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    """A supervisor logged in to the app of a workspace with the shipped form registered (and
    nothing read yet), on each store; with the form's key."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    registered, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    shutil.copytree(registered.layouts_dir, workspace.layouts_dir, dirs_exist_ok=True)
    store = Store.open(workspace.store_url)
    try:
        add_user(store, "sam", PASSWORD, "supervisor")
    finally:
        store.close()
    with TestClient(create_app(Settings(workspace)), base_url="https://127.0.0.1") as logged_in:
        page = logged_in.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        assert logged_in.post("/login", data={"name": "sam", "password": PASSWORD,
                                              "csrf": token.group(1)},
                              follow_redirects=False).status_code == 303
        yield logged_in, form.layout.form_key


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found is not None
    return found.group(1)


def test_an_id_out_of_range_is_not_found(client: tuple[TestClient, str]) -> None:
    """Every route that takes a number or an id, given one no store could hold, or none it holds:
    404 with a page saying so (a server error would raise here: the test client re-raises)."""
    app, form_key = client
    form = quote(form_key, safe="")
    gets = [
        f"/pages/{SHA}/{HUGE}/image.png", f"/pages/{SHA}/{PAST_32_BITS}/image.png",
        f"/pages/{SHA}/1/image.png", f"/pages/{SHA}/0", f"/pages/{SHA}/-1", f"/pages/{SHA}/one",
        f"/pages/{SHA}/{HUGE}", f"/pages/{SHA[:-1]}%00/1", "/pages/not-a-hash/1",
        "/pages/next?after=x%00",
        f"/duplicates/{form}/000001/{HUGE}", f"/duplicates/{form}/000001/{PAST_32_BITS}",
        f"/duplicates/{form}/000001/0", f"/duplicates/{form}/0%0001/1",
        f"/fields/{form}/{HUGE}/visit_frequency", f"/fields/{form}/000001%00/visit_frequency",
        f"/fields/{form}/000001/visit_frequency/crop.png", f"/fields/{form}/{'9' * 40}/q",
        "/fields/no-such-form/000001/visit_frequency",
        f"/fields/next?batch={HUGE}", f"/fields/next?batch={PAST_32_BITS}",
        f"/fields/next?from_batch={HUGE}&after={form}|000001|visit_frequency",
        f"/fields/next?from_batch={PAST_32_BITS}&after={form}|000001|visit_frequency",
        f"/fields/next?from_batch=1&after={form}|000001%00|visit_frequency",
        f"/dual/{HUGE}/{HUGE}", "/dual/paper%00/online", "/dual?form=a%00",
    ]
    for url in gets:
        response = app.get(url, follow_redirects=False)
        assert response.status_code == 404, (url, response.status_code, response.text[:300])
        assert "<html" in response.text.lower(), url
    csrf = _csrf(app)
    posts = [
        f"/pages/{SHA}/{HUGE}", f"/pages/{SHA}/{PAST_32_BITS}", f"/pages/{SHA}/1",
        f"/duplicates/{form}/000001/{HUGE}", f"/fields/{form}/{HUGE}/visit_frequency",
        f"/fields/{form}/000001%00/visit_frequency", f"/dual/{HUGE}/{HUGE}",
    ]
    for url in posts:
        response = app.post(url, data={"csrf": csrf, "action": "skip"}, follow_redirects=False)
        assert response.status_code == 404, (url, response.status_code, response.text[:300])
