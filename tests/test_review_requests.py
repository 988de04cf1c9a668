"""What the review app answers to an address it was not meant to be asked: ids out of every range
the store holds (404, on SQLite and PostgreSQL, never a server error), a Host it is not served as,
and a form posted from another origin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from flows.cli import main
from pipeline.errors import ExitCode
from pipeline.forms.build import BuiltForm
from pipeline.registry import register_layout
from pipeline.review.accounts import add_user
from pipeline.review.app import create_app
from pipeline.review.hosts import served_hosts
from pipeline.review.web import Settings
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.review_site import PASSWORD, log_in, review_process, workspace_with_user

HUGE = "99999999999999999999"  # past 64 bits
PAST_32_BITS = str(2**31)  # PostgreSQL's INTEGER ends at 2**31 - 1
SHA = "ab" * 32


@pytest.fixture
def client(built: tuple[Workspace, BuiltForm], store_url: str, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    """A supervisor logged in to the app of a workspace with the shipped form registered (and
    nothing read yet), on each store; with the form's key."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    register_layout(workspace, form.layout)
    store = Store.open(workspace.store_url)
    try:
        add_user(store, "sam", PASSWORD, "supervisor")
    finally:
        store.close()
    with TestClient(create_app(Settings(workspace)), base_url="https://127.0.0.1") as logged_in:
        assert log_in(logged_in, "sam", PASSWORD).status_code == 303
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


# -- hosts and origins ---------------------------------------------------------------------------

def _login_form(client: httpx.Client | TestClient) -> tuple[str, str]:
    """The login form's CSRF token and its cookie, which no client but a browser sends back over
    plain http (it is a secure cookie)."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1), page.cookies["papertwin_login"]


def _post_login(client: httpx.Client | TestClient, origin: str | None,
                **headers: str) -> httpx.Response:
    token, cookie = _login_form(client)
    sent = {"Cookie": f"papertwin_login={cookie}", **headers}
    if origin is not None:
        sent["Origin"] = origin
    return client.post("/login", data={"name": "sam", "password": PASSWORD, "csrf": token},
                       headers=sent, follow_redirects=False)


@pytest.fixture
def sam(tmp_path: Path) -> Workspace:
    return workspace_with_user(tmp_path, "sam", "supervisor")


def test_only_the_names_it_is_served_as(sam: Workspace) -> None:
    allowed = served_hosts("127.0.0.1", 8800, ["review.example.org"])
    app = create_app(Settings(sam, allowed_hosts=allowed))
    with TestClient(app, base_url="http://127.0.0.1:8800") as client:
        for host in ("127.0.0.1:8800", "localhost:8800", "[::1]:8800", "review.example.org",
                     "REVIEW.example.org:443"):
            assert client.get("/login", headers={"Host": host}).status_code == 200, host
        for host in ("evil.example", "evil.example:8800", "127.0.0.1:8801", "127.0.0.1",
                     "localhost.evil.example:8800", "[::1", ""):
            refused = client.get("/login", headers={"Host": host})
            assert refused.status_code == 400, host
            assert "does not answer to that host name" in refused.text
        assert client.post("/login", headers={"Host": "evil.example"}).status_code == 400


def test_a_form_from_another_scheme_is_another_origin(sam: Workspace) -> None:
    """On an app served over http, a login posted from https://127.0.0.1:PORT (the same name and
    port) is refused; from http://127.0.0.1:PORT it logs in."""
    app = create_app(Settings(sam, allowed_hosts=served_hosts("127.0.0.1", 8800)))
    with TestClient(app, base_url="http://127.0.0.1:8800") as client:
        refused = _post_login(client, "https://127.0.0.1:8800")
        assert refused.status_code == 403 and "another site" in refused.text
        assert _post_login(client, "http://127.0.0.1:8801").status_code == 403
        assert _post_login(client, "http://localhost:8800").status_code == 403
        assert _post_login(client, "null").status_code == 403
        assert _post_login(client, "http://127.0.0.1:8800").status_code == 303
        assert _post_login(client, None).status_code == 303  # the CSRF token still guards


def test_behind_a_tls_proxy_the_scheme_is_the_proxys(sam: Workspace) -> None:
    """A proxy that forwards the browser's Host and X-Forwarded-Proto: https (uvicorn applies it
    for the proxies it trusts)."""
    allowed = served_hosts("127.0.0.1", 8800, ["review.example.org"])
    app = ProxyHeadersMiddleware(create_app(Settings(sam, allowed_hosts=allowed)),
                                 trusted_hosts="*")
    proxied = {"Host": "review.example.org", "X-Forwarded-Proto": "https"}
    with TestClient(app, base_url="http://127.0.0.1:8800") as client:
        client.headers.update(proxied)
        assert _post_login(client, "https://review.example.org").status_code == 303
        assert _post_login(client, "http://review.example.org").status_code == 403


def test_papertwin_review_answers_its_names_and_the_allowed_one(sam: Workspace) -> None:
    """The command: --allowed-host added to the address it listens on; a foreign Host refused;
    an https Origin on its http address refused; a page number past 64 bits not found, with no
    traceback in its output."""
    with (review_process(sam, "--allowed-host", "review.example.org") as server,
          httpx.Client(base_url=server.url) as client):
        assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
        assert client.get("/login", headers={"Host": "review.example.org"}
                          ).status_code == 200
        assert client.get("/login", headers={"Host": f"localhost:{server.port}"}
                          ).status_code == 200
        assert _post_login(client, f"https://127.0.0.1:{server.port}").status_code == 403
        logged_in = _post_login(client, f"http://127.0.0.1:{server.port}")
        assert logged_in.status_code == 303
        cookie = {"Cookie": f"papertwin_session={logged_in.cookies['papertwin_session']}"}
        image = client.get(f"/pages/{SHA}/{HUGE}/image.png", headers=cookie)
        assert image.status_code == 404
    log = server.log.read_text()
    assert f"answers to 127.0.0.1:{server.port}, localhost:{server.port}" in log
    assert "review.example.org" in log and "Traceback" not in log


def test_an_allowed_host_that_is_no_host_name_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--allowed-host", "https://review.example.org/", "--workspace",
                 str(tmp_path / "ws")]) == ExitCode.USAGE
    assert "--allowed-host 'https://review.example.org/'" in capsys.readouterr().err
