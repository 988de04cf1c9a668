"""Routes for people found on both channels: a person says which response stands."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.errors import UsageError
from pipeline.review.accounts import Session
from pipeline.review.dual import DualMatch, dual_matches, record_dual_decision
from pipeline.review.params import QueryText, ResponseId
from pipeline.review.web import checked_form, render, see_other, session, settings_of, store_of

Current = Annotated[Session, Depends(session)]
KEPT_LABELS = {"paper": "Keep the paper response", "online": "Keep the online response",
               "both": "Keep both", "different": "Different people"}


def add_routes(app: FastAPI) -> None:
    """Add the routes for people found on both channels (/dual...) to the app."""
    @app.get("/dual", response_class=HTMLResponse)
    def dual_queue(request: Request, current: Current, form: QueryText = "") -> Response:
        try:
            matches = dual_matches(settings_of(request).workspace, form or None)
        except UsageError as exc:
            return render(request, "dual.html", current, matches=[], form=form,
                          problem=str(exc), labels=KEPT_LABELS)
        return render(request, "dual.html", current, matches=matches, form=form, problem="",
                      labels=KEPT_LABELS)

    @app.get("/dual/{paper_id}/{online_id}", response_class=HTMLResponse)
    def dual_view(request: Request, current: Current, paper_id: ResponseId,
                  online_id: ResponseId, form: QueryText = "") -> Response:
        match = _match(dual_matches(settings_of(request).workspace, form or None), paper_id,
                       online_id)
        return render(request, "dual_pair.html", current, match=match, form=form,
                      labels=KEPT_LABELS)

    @app.post("/dual/{paper_id}/{online_id}")
    async def dual_decision(request: Request, current: Current, paper_id: ResponseId,
                            online_id: ResponseId) -> Response:
        posted = await checked_form(request, current)
        form = posted.get("form", "")
        matches = dual_matches(settings_of(request).workspace, form or None)
        match = _match(matches, paper_id, online_id)
        kept = posted.get("kept", "")
        if kept != "skip":
            record_dual_decision(store_of(request), match.paper_response_id,
                                 match.online_response_id, kept, current.user.name,
                                 posted.get("why", ""))
        pending = [m for m in matches if m.decision is None and m is not match]
        suffix = f"?form={form}" if form else ""
        if not pending:
            return see_other(f"/dual{suffix}")
        return see_other(f"/dual/{pending[0].paper_response_id}/"
                         f"{pending[0].online_response_id}{suffix}")


def _match(matches: list[DualMatch], paper_id: str, online_id: str) -> DualMatch:
    for match in matches:
        if (match.paper_response_id, match.online_response_id) == (paper_id, online_id):
            return match
    raise HTTPException(404, f"{paper_id} and {online_id} are not a pair in this dataset")
