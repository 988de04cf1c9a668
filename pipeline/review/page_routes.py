"""Routes for whole pages: pages the reader could not identify, and duplicate pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.errors import InputFileError, UsageError
from pipeline.read.page import ReaderSettings
from pipeline.review.accounts import Session
from pipeline.review.letter_routes import mark_choices
from pipeline.review.pages import (
    DuplicateGroup,
    PageItem,
    another_response,
    choose_standing,
    duplicate_groups,
    key_page,
    mark_not_a_form,
    page_image_png,
    unidentified_pages,
)
from pipeline.review.params import FileHash, FormKey, PageIndex, PageNumber, QueryText, Serial
from pipeline.review.web import (
    checked_form,
    layouts_of,
    render,
    see_other,
    session,
    settings_of,
    store_of,
)
from pipeline.store.store import Store

Current = Annotated[Session, Depends(session)]


def waiting_pages(store: Store) -> int:
    """How many unidentified pages wait for a person to key them."""
    return len(unidentified_pages(store))


def waiting_duplicates(store: Store) -> int:
    """How many pages scanned more than once wait for a person to say which copy stands."""
    return len(duplicate_groups(store))


def add_routes(app: FastAPI) -> None:
    """Add the routes for whole pages (/pages... and /duplicates...) to the app."""
    @app.get("/pages", response_class=HTMLResponse)
    def page_queue(request: Request, current: Current) -> Response:
        return render(request, "pages.html", current, pages=unidentified_pages(store_of(request)))

    @app.get("/pages/next")
    def next_page(request: Request, current: Current, after: QueryText = "") -> Response:
        pages = unidentified_pages(store_of(request))
        ids = [_page_id(p) for p in pages]
        if after in ids:  # skipped: the pages after it, then those before it
            at = ids.index(after)
            pages = pages[at + 1:] + pages[:at]
        return see_other(_page_url(pages[0]) if pages else "/pages")

    @app.get("/pages/{file_sha256}/{page_index}", response_class=HTMLResponse)
    def page_view(request: Request, current: Current, file_sha256: FileHash,
                  page_index: PageIndex, problem: str = "") -> Response:
        return _page_form(request, current, _unidentified(request, file_sha256, page_index),
                          problem)

    @app.get("/pages/{file_sha256}/{page_index}/image.png")
    def page_image(request: Request, current: Current, file_sha256: FileHash,
                   page_index: PageIndex, width: int = 1100) -> Response:
        png = page_image_png(store_of(request), settings_of(request).workspace, file_sha256,
                             page_index, width=max(200, min(width, 2400)))
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})

    @app.post("/pages/{file_sha256}/{page_index}")
    async def page_decision(request: Request, current: Current, file_sha256: FileHash,
                            page_index: PageIndex) -> Response:
        form = await checked_form(request, current)
        item = _unidentified(request, file_sha256, page_index)
        action = form.get("action", "key")
        after = f"/pages/next?after={_page_id(item)}"
        store = store_of(request)
        if action == "skip":
            return see_other(after)
        if action == "not_a_form":
            mark_not_a_form(store, file_sha256, page_index, current.user.name,
                            form.get("why", ""))
            return see_other(after)
        if action != "key":
            raise HTTPException(400, f"unknown action {action!r}")
        serial, page = form.get("serial", "").strip(), form.get("page", "").strip()
        if not page.isdigit():
            return _page_form(request, current, item, "Key the page number printed at the "
                                                      "foot of the page.", status=422,
                              keyed=form)
        try:
            key_page(store, settings_of(request).workspace, layouts_of(request), file_sha256,
                     page_index, form.get("form_key", ""), serial, int(page), current.user.name,
                     ReaderSettings(), form.get("why", ""))
        except (UsageError, InputFileError) as exc:
            # A mistyped serial or a page that cannot be read: say so beside the page.
            return _page_form(request, current, item, str(exc), status=422, keyed=form)
        return see_other(after)

    @app.get("/duplicates", response_class=HTMLResponse)
    def duplicate_queue(request: Request, current: Current) -> Response:
        return render(request, "duplicates.html", current,
                      groups=duplicate_groups(store_of(request)))

    @app.get("/duplicates/{form_key}/{serial}/{page}", response_class=HTMLResponse)
    def duplicate_view(request: Request, current: Current, form_key: FormKey, serial: Serial,
                       page: PageNumber) -> Response:
        group = _group(request, form_key, serial, page)
        return render(request, "duplicate.html", current, group=group,
                      pages=[group.standing, *group.others])

    @app.post("/duplicates/{form_key}/{serial}/{page}")
    async def duplicate_decision(request: Request, current: Current, form_key: FormKey,
                                 serial: Serial, page: PageNumber) -> Response:
        form = await checked_form(request, current)
        group = _group(request, form_key, serial, page)
        store = store_of(request)
        # Another response: a copy other than the one counting (a photocopy filled in by
        # someone else); else the same response scanned again, and the scan that stands.
        another = form.get("another", "")
        chosen = form.get("stands", "")
        for item in (group.standing, *group.others):
            if another and _page_id(item) == another and item is not group.standing:
                another_response(store, item.file_sha256, item.page_index, current.user.name,
                                 form.get("why", ""))
                break
            if not another and _page_id(item) == chosen:
                choose_standing(store, item.file_sha256, item.page_index, current.user.name,
                                form.get("why", ""))
                break
        else:
            raise HTTPException(400, "choose one of the pages shown")
        rest = duplicate_groups(store)
        return see_other(_group_url(rest[0]) if rest else "/duplicates")


def _page_form(request: Request, current: Session, item: PageItem, problem: str,
               status: int = 200, keyed: Mapping[str, str] | None = None) -> Response:
    """The page and the form to key it; after a problem, with what the person keyed."""
    layouts = layouts_of(request)
    forms = sorted((key, layout.title) for key, layout in layouts.items())
    shown = {"form_key": item.form_key, "serial": item.serial,
             "page": str(item.page or ""), "why": ""}
    shown.update({k: v for k, v in (keyed or {}).items() if k in shown})
    return render(request, "page.html", current, status=status, item=item, forms=forms,
                  problem=problem, url=_page_url(item), shown=shown,
                  letter_choices=mark_choices(request))


def _unidentified(request: Request, file_sha256: str, page_index: int) -> PageItem:
    for item in unidentified_pages(store_of(request)):
        if item.file_sha256 == file_sha256 and item.page_index == page_index:
            return item
    raise HTTPException(404, "this page is not waiting to be identified: someone may have "
                             "decided it already")


def _group(request: Request, form_key: str, serial: str, page: int) -> DuplicateGroup:
    for group in duplicate_groups(store_of(request)):
        if (group.form_key, group.serial, group.page) == (form_key, serial, page):
            return group
    raise HTTPException(404, "these pages are not waiting for a decision: someone may have "
                             "settled them already")


def _page_id(item: PageItem) -> str:
    return f"{item.file_sha256}:{item.page_index:06d}"


def _page_url(item: PageItem) -> str:
    return f"/pages/{item.file_sha256}/{item.page_index}"


def _group_url(group: DuplicateGroup) -> str:
    return f"/duplicates/{group.form_key}/{group.serial}/{group.page}"
