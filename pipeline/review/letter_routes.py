"""Routes for letters: the list, a letter's screen (its pages beside the text read, the text
correctable, a serial to link), and marking a page as a letter from the page screens."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.errors import UsageError, WorkspaceError
from pipeline.review.accounts import Session
from pipeline.review.letters import NEW, mark_as_letter, save_letter
from pipeline.review.params import FileHash, PageIndex, ResponseId
from pipeline.review.web import checked_form, layouts_of, render, see_other, session, store_of
from pipeline.store.letters import Letter, letter, letters

Current = Annotated[Session, Depends(session)]


def add_routes(app: FastAPI) -> None:
    """Add the routes for letters (/letters...) to the app."""
    @app.get("/letters", response_class=HTMLResponse)
    def letter_list(request: Request, current: Current) -> Response:
        return render(request, "letters.html", current, letters=letters(store_of(request)),
                      titles=_questionnaires(request))

    @app.get("/letters/{response_id}", response_class=HTMLResponse)
    def letter_view(request: Request, current: Current, response_id: ResponseId) -> Response:
        return _letter_page(request, current, _letter(request, response_id), "")

    @app.post("/letters/{response_id}")
    async def letter_save(request: Request, current: Current,
                          response_id: ResponseId) -> Response:
        form = await checked_form(request, current)
        found = _letter(request, response_id)
        try:
            save_letter(store_of(request), found.response.response_id, form.get("text", ""),
                        form.get("serial", ""), form.get("questionnaire", ""),
                        current.user.name)
        except UsageError as exc:
            return _letter_page(request, current, found, str(exc), status=422,
                                shown=dict(form))
        return see_other(f"/letters/{response_id}?saved=1")

    @app.post("/letters/mark/{file_sha256}/{page_index}")
    async def mark_page(request: Request, current: Current, file_sha256: FileHash,
                        page_index: PageIndex) -> Response:
        form = await checked_form(request, current)
        store = store_of(request)
        to_letter = form.get("letter", NEW) or NEW
        questionnaires = _questionnaires(request)
        only = next(iter(questionnaires)) if len(questionnaires) == 1 else ""
        try:
            response_id = mark_as_letter(store, file_sha256, page_index, to_letter, only,
                                         current.user.name)
        except (UsageError, WorkspaceError) as exc:
            raise HTTPException(422, str(exc)) from exc
        return see_other(f"/letters/{response_id}")


def mark_choices(request: Request) -> list[tuple[str, str]]:
    """The letters a page can be added to, newest first, for the page screens' choice."""
    found = letters(store_of(request))
    return [(NEW, "a new letter")] + [
        (f.response.response_id, f"{f.response.response_id} ({len(f.pages)} pages)")
        for f in reversed(found)]


def _letter_page(request: Request, current: Session, found: Letter, problem: str,
                 status: int = 200, shown: dict[str, str] | None = None) -> Response:
    values = {"text": found.text, "serial": found.response.serial,
              "questionnaire": found.response.questionnaire_id}
    values.update({k: v for k, v in (shown or {}).items() if k in values})
    return render(request, "letter.html", current, status=status, letter=found,
                  problem=problem, shown=values, titles=_questionnaires(request),
                  saved=request.query_params.get("saved") == "1" and not problem)


def _letter(request: Request, response_id: str) -> Letter:
    found = letter(store_of(request), response_id)
    if found is None:
        raise HTTPException(404, f"no letter {response_id}")
    return found


def _questionnaires(request: Request) -> dict[str, str]:
    """Questionnaire id -> its title, of the registered forms."""
    return {layout.questionnaire.id: layout.title for layout in layouts_of(request).values()}
