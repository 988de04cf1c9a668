"""What every page of the review app shares: the session, CSRF, security headers, rendering.

Pages are rendered on the server; the little JavaScript there is (keyboard shortcuts) is inline
with a per-response nonce, so the Content-Security-Policy allows nothing else. A GET without a
session is sent to the login page; a POST without a session, or without the session's CSRF token,
is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.records import Layout
from pipeline.registry import registered_layouts
from pipeline.review.accounts import Session, session_of, tokens_match
from pipeline.review.hosts import LOOPBACK_NAMES, host_allowed, same_origin
from pipeline.review.passwords import PasswordSlots
from pipeline.store.store import Store
from pipeline.workspace import Workspace

SESSION_COOKIE = "papertwin_session"
LOGIN_COOKIE = "papertwin_login"  # the login form's CSRF token, before there is a session


@dataclass(frozen=True)
class Settings:
    workspace: Workspace
    secure_cookies: bool = True  # False only for plain HTTP beyond loopback in a test
    # Password hashes at once (each takes 64 MiB), and how long a login waits for its turn.
    password_checks: int = 1
    password_wait_seconds: float = 5.0
    # Host names the app answers to (hosts.py); `papertwin review` gives its own, with its port.
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES


class NeedsLogin(Exception):
    """A page asked for without a live session."""


def templates() -> Environment:
    """The app's Jinja templates, every value escaped and an undefined name an error rather than
    blank."""
    env = Environment(loader=PackageLoader("pipeline.review", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: f"{100 * float(v):.0f} %"
    env.filters["q"] = lambda v: quote(str(v), safe="")
    return env


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def password_slots_of(request: Request) -> PasswordSlots:
    slots: PasswordSlots = request.app.state.password_slots
    return slots


def layouts_of(request: Request) -> dict[str, Layout]:
    """The workspace's registered layouts, read afresh for each request (through the app's own
    store), so a form published while the app runs is seen."""
    return registered_layouts(settings_of(request).workspace, store_of(request))


def session(request: Request) -> Session:
    """The live session, for every page but the login page (a FastAPI dependency)."""
    found = session_of(store_of(request), request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        raise NeedsLogin()
    return found


def supervisor(request: Request) -> Session:
    """The live session of a supervisor or admin (a FastAPI dependency); anyone else is answered
    403."""
    found = session(request)
    if not found.user.supervises:
        raise HTTPException(403, "this page is for supervisors")
    return found


async def checked_form(request: Request, current: Session) -> Mapping[str, str]:
    """The posted form, once its CSRF token matches the session's; refused otherwise."""
    form = await request.form()
    given = form.get("csrf")
    if not isinstance(given, str) or not tokens_match(given, current.csrf_token):
        raise HTTPException(403, "the form's security token is missing or stale: reload the "
                                 "page and try again")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def render(request: Request, name: str, current: Session | None, status: int = 200,
           **context: Any) -> HTMLResponse:
    """A template rendered as the page, with the session's user and CSRF token, under a
    Content-Security-Policy that allows only this response's own inline script and style (its
    nonce) and the app's images."""
    nonce = secrets.token_urlsafe(16)
    env: Environment = request.app.state.templates
    html = env.get_template(name).render(
        request=request, user=current.user if current else None,
        csrf=current.csrf_token if current else "", nonce=nonce, **context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; img-src 'self'; style-src 'nonce-{nonce}'; "
        f"script-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'")
    return response


def see_other(url: str) -> RedirectResponse:
    """A 303 redirect: after a POST, the browser fetches `url` with GET."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path on this site: a login link cannot send a person elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def trusted_hosts(request: Request,
                        call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Only the names the app is served as: a page under another name could be read by that
    name's scripts."""
    if not host_allowed(request.headers.get("host", ""), _scheme(request),
                        settings_of(request).allowed_hosts):
        return HTMLResponse("Refused: this review app does not answer to that host name. Use "
                            "the address it was started on, or start it with --allowed-host "
                            "NAME.", status_code=400,
                            headers={"Cache-Control": "no-store",
                                     "X-Content-Type-Options": "nosniff"})
    return await call_next(request)


async def security_headers(request: Request,
                           call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Pages show names and addresses: never cached, never framed, no referrer leaves."""
    if request.method == "POST" and not _same_origin(request):
        return HTMLResponse("Refused: a form posted from another site.", status_code=403)
    response = await call_next(request)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # no Origin (older clients): the CSRF token still guards
    return same_origin(origin, request.headers.get("host", ""), _scheme(request))


def _scheme(request: Request) -> str:
    """http or https as the app was asked (from X-Forwarded-Proto behind a trusted proxy); read
    from the scope, as request.url would fail on a malformed Host."""
    return str(request.scope.get("scheme", "http"))
