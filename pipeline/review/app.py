"""The review web app: login, the batch overview, and the queue of flagged answers.

Pages of whole scans (unidentified pages, duplicates), dual-channel pairs, keyed entry and letters
have their routes in page_routes.py, dual_routes.py, keyed_routes.py and letter_routes.py;
everything here and there goes through web.py for the session, CSRF and rendering.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.errors import NotFoundError, PapertwinError, UsageError
from pipeline.records import Layout
from pipeline.review import dual_routes, keyed_routes, letter_routes, page_routes
from pipeline.review.accounts import Session, close_session, open_session
from pipeline.review.params import (
    AnswerKeyText,
    BatchId,
    FormKey,
    QueryText,
    QuestionName,
    Serial,
)
from pipeline.review.passwords import TryLater, check_password, password_slots
from pipeline.review.queue import (
    FieldItem,
    batch_overview,
    box_readings,
    decide,
    field_item,
    flagged_fields,
    next_in_question,
    next_item,
    queue_counts,
    refer,
    reviewer_rates,
)
from pipeline.review.web import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    NeedsLogin,
    Settings,
    checked_form,
    layouts_of,
    password_slots_of,
    render,
    safe_next,
    security_headers,
    see_other,
    session,
    settings_of,
    store_of,
    supervisor,
    templates,
    trusted_hosts,
)
from pipeline.store.review import AnswerKey
from pipeline.store.store import Store

Current = Annotated[Session, Depends(session)]
Supervisor = Annotated[Session, Depends(supervisor)]


def create_app(settings: Settings) -> FastAPI:
    """The app for one workspace; its store is opened at start-up and closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store.open(settings.workspace.store_url)
        app.state.password_slots = password_slots(settings.password_checks,
                                                  settings.password_wait_seconds)
        try:
            yield
        finally:
            app.state.store.close()

    app = FastAPI(title="papertwin review", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.templates = templates()
    app.middleware("http")(security_headers)
    app.middleware("http")(trusted_hosts)  # added last: runs first
    app.add_exception_handler(NeedsLogin, _to_login)
    app.add_exception_handler(RequestValidationError, _no_such_address)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    app.add_exception_handler(PapertwinError, _error_page)
    _login_routes(app)
    _field_routes(app)
    _team_routes(app)
    page_routes.add_routes(app)
    dual_routes.add_routes(app)
    keyed_routes.add_routes(app)
    letter_routes.add_routes(app)
    return app


# -- login ---------------------------------------------------------------------------------------

def _login_routes(app: FastAPI) -> None:
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> Response:
        return _login_form(request, safe_next(next), "")

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        target = safe_next(values.get("next"))
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not secrets.compare_digest(values.get("csrf", ""), expected):
            raise HTTPException(403, "the login form's security token is missing or stale: "
                                     "reload the page and try again")
        try:
            user = await check_password(store_of(request), password_slots_of(request),
                                        values.get("name", ""), values.get("password", ""))
        except TryLater as exc:
            refused = _login_form(request, target, str(exc), status=429)
            refused.headers["Retry-After"] = str(exc.retry_after)
            return refused
        if user is None:
            return _login_form(request, target, "Wrong name or password.", status=401)
        token, _ = open_session(store_of(request), user)
        response = see_other(target)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                            secure=settings_of(request).secure_cookies, path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout")
    async def logout(request: Request, current: Current) -> Response:
        await checked_form(request, current)
        close_session(store_of(request), request.cookies.get(SESSION_COOKIE, ""))
        response = see_other("/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _login_form(request: Request, target: str, problem: str, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, status=status, next=target, problem=problem,
                      login_csrf=token)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings_of(request).secure_cookies, path="/login")
    return response


async def _to_login(request: Request, _exc: Exception) -> Response:
    if request.method != "GET":
        return HTMLResponse("Refused: log in first.", status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return see_other(f"/login?next={_quoted(target)}")


async def _no_such_address(request: Request, exc: Exception) -> Response:
    """An id the address gives that the app cannot hold (params.py) names nothing here."""
    wrong = sorted({str(e["loc"][-1]).replace("_", " ") for e in exc.errors()}
                   if isinstance(exc, RequestValidationError) else set())
    return await _error_page(request, StarletteHTTPException(
        404, f"there is no such {' or '.join(wrong) or 'page'} here: check the link"))


async def _error_page(request: Request, exc: Exception) -> Response:
    """An error as a page a person can act on; a papertwin error says what to do instead."""
    if isinstance(exc, StarletteHTTPException):
        status, detail = exc.status_code, str(exc.detail)
    elif isinstance(exc, TryLater):
        status, detail = 429, str(exc)
    elif isinstance(exc, NotFoundError):
        status, detail = 404, str(exc)
    else:
        status, detail = (400 if isinstance(exc, UsageError) else 409), str(exc)
    current = None
    with suppress(NeedsLogin):
        current = session(request)
    page = render(request, "error.html", current, status=status, status_code=status,
                  detail=detail)
    if isinstance(exc, TryLater):
        page.headers["Retry-After"] = str(exc.retry_after)
    return page


def _quoted(text: str) -> str:
    return quote(text, safe="")


# -- overview and flagged fields -----------------------------------------------------------------

def _field_routes(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request, current: Current) -> Response:
        store = store_of(request)
        counts = queue_counts(store, layouts_of(request))
        return render(request, "overview.html", current,
                      batches=batch_overview(store, counts),
                      waiting=sum(c.waiting for c in counts),
                      referred=sum(c.referred for c in counts),
                      pages=page_routes.waiting_pages(store),
                      duplicates=page_routes.waiting_duplicates(store))

    @app.get("/fields", response_class=HTMLResponse)
    def field_queue(request: Request, current: Current) -> Response:
        layouts = layouts_of(request)
        return render(request, "fields.html", current, counts=queue_counts(store_of(request),
                                                                           layouts),
                      labels=_question_labels(layouts))

    @app.get("/fields/next")
    def next_field(request: Request, current: Current, after: AnswerKeyText = "",
                   queue: QueryText = "", batch: BatchId = None, question: QueryText = "",
                   from_batch: BatchId = None) -> Response:
        referred = queue == "referred"
        if referred and not current.user.supervises:
            raise HTTPException(403, "referred answers are for supervisors")
        key = _key_of(after)
        if key is not None and from_batch is not None:
            # Most often the next is the same question of the next copy: found at once.
            following = next_in_question(store_of(request), key, from_batch, referred)
            if following is not None and (not question or question == key[2]):
                return see_other(_key_url(following, queue))
        items = [i for i in flagged_fields(store_of(request), layouts_of(request),
                                           referred=referred)
                 if (batch is None or i.batch_id == batch)
                 and (not question or i.question == question)]
        item = next_item(items, key)
        if item is None:
            return render(request, "done.html", current, queue=queue)
        return see_other(_key_url(item.key, queue))

    # A repeat's answers are named `member[2]/age`: the name takes the rest of the path, and the
    # crop's route comes first, so that ".../crop.png" is never taken for a question's name.
    @app.get("/fields/{form_key}/{serial}/{question:path}/crop.png")
    def field_crop(request: Request, current: Current, form_key: FormKey, serial: Serial,
                   question: QuestionName) -> Response:
        item = field_item(store_of(request), layouts_of(request), (form_key, serial, question))
        crops = settings_of(request).workspace.crops_dir.resolve()
        if not item.crop_path:
            raise HTTPException(404, "no crop was kept for this answer")
        path = Path(item.crop_path).resolve()
        if not path.is_relative_to(crops) or not path.is_file():
            raise HTTPException(404, "the crop of this answer is not in the workspace")
        return FileResponse(path, media_type="image/png",
                            headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/fields/{form_key}/{serial}/{question:path}", response_class=HTMLResponse)
    def field_view(request: Request, current: Current, form_key: FormKey, serial: Serial,
                   question: QuestionName, queue: QueryText = "",
                   problem: str = "") -> Response:
        layouts = layouts_of(request)
        layout = _layout(layouts, form_key)
        item = field_item(store_of(request), layouts, (form_key, serial, question))
        return _field_page(request, current, layout, item, queue, problem)

    @app.post("/fields/{form_key}/{serial}/{question:path}")
    async def field_decision(request: Request, current: Current, form_key: FormKey,
                             serial: Serial, question: QuestionName) -> Response:
        form = await checked_form(request, current)
        layouts = layouts_of(request)
        layout = _layout(layouts, form_key)
        key: AnswerKey = (form_key, serial, question)
        item = field_item(store_of(request), layouts, key)
        queue = form.get("queue", "")
        action = form.get("action", "decide")
        after = f"/fields/next?after={_quoted('|'.join(key))}&from_batch={item.batch_id}" + (
            f"&queue={queue}" if queue else "")
        if action == "skip":
            return see_other(after)
        if item.referral is not None and not current.user.supervises:
            raise HTTPException(403, f"{question} of copy {serial} waits for a supervisor "
                                     f"(referred by {item.referral.referred_by})")
        if action == "refer":
            refer(store_of(request), key, current.user.name, form.get("note", ""))
            return see_other(after)
        if action != "decide":
            raise HTTPException(400, f"unknown action {action!r}")
        value, problem = _posted_value(layout, question, form)
        if problem:
            return _field_page(request, current, layout, item, queue, problem, status=422)
        why = "accepted as read" if value == item.value else "corrected"
        if item.referral is not None:
            why += f" (referred by {item.referral.referred_by})"
        decide(store_of(request), key, value, current.user.name, why)
        return see_other(after)


def _field_page(request: Request, current: Session, layout: Layout, item: FieldItem,
                queue: str, problem: str, status: int = 200) -> Response:
    question = layout.questionnaire.question(item.question)
    store = store_of(request)
    contact = store.contact(item.form_key, item.serial) if current.user.sees_contacts else None
    decisions = store.review_log(item.form_key, item.serial, item.question)
    boxes = box_readings(store, item)
    guess = set(item.value.split())
    choices = [{"n": n, "name": c.name, "label": c.label.text(), "on": c.name in guess,
                "read": boxes.get(c.name)}
               for n, c in enumerate(question.choices, start=1)]
    return render(request, "field.html", current, status=status, item=item, question=question,
                  label=question.label.text(), hint=question.hint.text(), choices=choices,
                  multiple=question.type == "select_multiple", queue=queue, problem=problem,
                  contact=contact, decisions=decisions, title=layout.title,
                  value=decisions[-1].new_value if decisions else item.value)


def _posted_value(layout: Layout, name: str, form: Mapping[str, str]) -> tuple[str, str]:
    """The value a person gave, as the dataset holds it, or a problem to show them."""
    question = layout.questionnaire.question(name)
    if not question.is_choice:
        return " ".join(str(form.get("value", "")).split()), ""
    picked = [c.name for c in question.choices if form.get(f"choice-{c.name}") == "on"]
    if question.type != "select_multiple" and len(picked) > 1:
        return "", "this question takes one answer: pick one, or none if it was not answered"
    return " ".join(picked), ""


# -- supervisors ---------------------------------------------------------------------------------

def _team_routes(app: FastAPI) -> None:
    @app.get("/team", response_class=HTMLResponse)
    def team(request: Request, current: Supervisor) -> Response:
        store = store_of(request)
        return render(request, "team.html", current, rates=reviewer_rates(store),
                      log=list(reversed(store.review_log()))[:200])


# -- helpers -------------------------------------------------------------------------------------

def _layout(layouts: dict[str, Layout], form_key: str) -> Layout:
    layout = layouts.get(form_key)
    if layout is None:
        raise HTTPException(404, f"form {form_key} is not registered in this workspace")
    return layout


def _question_labels(layouts: dict[str, Layout]) -> dict[tuple[str, str], str]:
    return {(key, q.name): q.label.text() for key, layout in layouts.items()
            for q in layout.questionnaire.questions}


def _key_of(after: str) -> AnswerKey | None:
    parts = after.split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def _key_url(key: AnswerKey, queue: str = "") -> str:
    path = "/fields/" + "/".join(_quoted(p) for p in key)
    return path + (f"?queue={queue}" if queue else "")
