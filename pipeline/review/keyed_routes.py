"""Routes for keyed entry: a response phoned in or a paper return typed in, keyed by a person.

/keyed lists the keyed responses and starts a new one (questionnaire and printed variant, channel,
for a paper return its serial, and, for a supervisor, double entry). /keyed/<id>/entry/<n> is the
keying screen; entry 2, under double entry, is keyed blind by another person. /keyed/<id>/settle
is where a supervisor decides the fields the two entries differ on, and /keyed/<id> the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from pipeline.errors import UsageError
from pipeline.records import Layout
from pipeline.review.accounts import Session
from pipeline.review.keying import CheckedEntry, KeyField, check_entry, key_fields, keyed_value
from pipeline.review.params import QueryText, ResponseId
from pipeline.review.web import (
    checked_form,
    layouts_of,
    render,
    see_other,
    session,
    store_of,
    supervisor,
)
from pipeline.store.channels import ChannelResponse, channel_responses, new_channel_response
from pipeline.store.keyed import (
    KEYED_CHANNELS,
    KeyedResponse,
    keyed_response,
    keyed_responses,
    record_decision,
    record_entry,
)

Current = Annotated[Session, Depends(session)]
Supervisor = Annotated[Session, Depends(supervisor)]
EntryNumber = Annotated[int, PathParam(ge=1, le=2)]
CHANNEL_LABELS = {"phone": "Phone call or advocate's interview",
                  "paper-keyed": "Paper return typed in"}


def add_routes(app: FastAPI) -> None:
    """Add the keyed-entry routes (/keyed...) to the app."""
    @app.get("/keyed", response_class=HTMLResponse)
    def keyed_list(request: Request, current: Current, problem: QueryText = "") -> Response:
        return _list_page(request, current, problem, {})

    @app.post("/keyed")
    async def keyed_start(request: Request, current: Current) -> Response:
        form = await checked_form(request, current)
        try:
            response_id = _start(request, current, form)
        except UsageError as exc:
            return _list_page(request, current, str(exc), form, status=422)
        return see_other(f"/keyed/{response_id}/entry/1")

    @app.get("/keyed/{response_id}/entry/{entry}", response_class=HTMLResponse)
    def entry_page(request: Request, current: Current, response_id: ResponseId,
                   entry: EntryNumber) -> Response:
        keyed = _keyed(request, response_id)
        _may_key(keyed, entry, current)
        return _entry_page(request, current, keyed, entry, {}, None)

    @app.post("/keyed/{response_id}/entry/{entry}")
    async def entry_save(request: Request, current: Current, response_id: ResponseId,
                         entry: EntryNumber) -> Response:
        form = await checked_form(request, current)
        keyed = _keyed(request, response_id)
        _may_key(keyed, entry, current)
        layout = _layout_of(request, keyed)
        typed = {name[2:]: value for name, value in form.items() if name.startswith("q-")}
        checked = check_entry(layout.questionnaire, typed)
        dropped = [n for n in checked.skipped if typed.get(n, "").strip()]
        if not checked.ok or dropped:
            return _entry_page(request, current, keyed, entry, typed, checked, status=422)
        copy = keyed.response
        if entry == 1 and copy.serial:
            earlier = _keyed_before(request, copy.questionnaire_id, copy.serial)
            if earlier is not None and earlier.response_id != response_id:
                raise HTTPException(409, f"copy {copy.serial} was keyed meanwhile "
                                         f"({earlier.response_id}, by {earlier.created_by}): "
                                         "a copy is keyed once")
        record_entry(store_of(request), response_id, entry, checked.answers, current.user.name)
        return see_other(f"/keyed/{response_id}")

    @app.get("/keyed/{response_id}", response_class=HTMLResponse)
    def keyed_log(request: Request, current: Current, response_id: ResponseId) -> Response:
        keyed = _keyed(request, response_id)
        layout = _layout_of(request, keyed)
        fields = key_fields(layout.questionnaire, keyed.response.language)
        # Blind: before both entries are in, only a supervisor who is not to key entry 2 sees
        # entry 1's values.
        shown = len(keyed.entries) >= keyed.entries_needed or (
            current.user.supervises and _next_entry(keyed, current) != 2)
        return render(request, "keyed_log.html", current, keyed=keyed, fields=fields,
                      shown=shown, title=layout.title, labels=CHANNEL_LABELS,
                      settled=keyed.answers() if shown else None,
                      can_key=_next_entry(keyed, current))

    @app.get("/keyed/{response_id}/settle", response_class=HTMLResponse)
    def settle_page(request: Request, current: Supervisor,
                    response_id: ResponseId) -> Response:
        keyed = _keyed(request, response_id)
        return _settle_page(request, current, keyed, {}, {})

    @app.post("/keyed/{response_id}/settle")
    async def settle(request: Request, current: Supervisor, response_id: ResponseId) -> Response:
        form = await checked_form(request, current)
        keyed = _keyed(request, response_id)
        questionnaire = _layout_of(request, keyed).questionnaire
        first, second = keyed.entry(1), keyed.entry(2)
        if first is None or second is None:
            raise HTTPException(409, f"{response_id} is not keyed twice yet: nothing to settle")
        settled: list[tuple[str, str, str]] = []
        problems: dict[str, str] = {}
        for name in keyed.differing:
            pick = form.get(f"pick-{name}", "")
            if pick == "1":
                settled.append((name, first.answers.get(name, ""), "entry 1 kept"))
            elif pick == "2":
                settled.append((name, second.answers.get(name, ""), "entry 2 kept"))
            elif pick == "other":
                value, problem = keyed_value(questionnaire.question(name),
                                             form.get(f"other-{name}", ""))
                if problem:
                    problems[name] = problem
                else:
                    settled.append((name, value, "neither entry: keyed from the return"))
        if problems:
            return _settle_page(request, current, keyed, form, problems, status=422)
        for name, value, why in settled:
            note = form.get("why", "").strip()
            record_decision(store_of(request), response_id, name, value, current.user.name,
                            f"{why}: {note}" if note else why)
        return see_other(f"/keyed/{response_id}")


def _start(request: Request, current: Session, form: Mapping[str, str]) -> str:
    """Open a keyed response from the start form; its id."""
    layouts = layouts_of(request)
    form_key, _, language = form.get("variant", "").partition("|")
    layout = layouts.get(form_key)
    if layout is None or language not in layout.languages:
        raise UsageError("choose the questionnaire and the form variant keyed from")
    channel = form.get("channel", "")
    if channel not in KEYED_CHANNELS:
        raise UsageError("choose the channel: a phone call, or a paper return typed in")
    double = form.get("double") == "on"
    if double and not current.user.supervises:
        raise HTTPException(403, "only a supervisor can require double entry")
    serial = form.get("serial", "").strip() if channel == "paper-keyed" else ""
    store = store_of(request)
    questionnaire_id = layout.questionnaire.id
    if serial:
        issued = {c.serial for other in layouts.values()
                  if other.questionnaire.id == questionnaire_id for c in other.copies}
        if serial not in issued:
            raise UsageError(f"serial {serial} was never issued for {questionnaire_id}: check "
                             "the number printed under the code on the return, or leave it "
                             "empty for a return without one")
        earlier = _keyed_before(request, questionnaire_id, serial)
        if earlier is not None:
            raise UsageError(f"copy {serial} is keyed already ({earlier.response_id}, by "
                             f"{earlier.created_by}): a copy is keyed once")
    response = new_channel_response(store, questionnaire_id, channel, current.user.name,
                                    form_key=form_key, serial=serial, language=language,
                                    double_entry=double, note=form.get("note", "").strip())
    return response.response_id


def _keyed_before(request: Request, questionnaire_id: str,
                  serial: str) -> ChannelResponse | None:
    """The paper return of this copy keyed already (saved once at least: a keying opened and
    left before its first save holds nothing, and the copy is still to key)."""
    return next((earlier for earlier in channel_responses(
        store_of(request), [questionnaire_id], "paper-keyed", received=True)
        if earlier.serial == serial), None)


def _list_page(request: Request, current: Session, problem: str, posted: Mapping[str, str],
               status: int = 200) -> Response:
    layouts = layouts_of(request)
    variants = [(f"{key}|{lang}", _variant_label(layout, lang))
                for key, layout in sorted(layouts.items(), key=lambda kv: kv[1].title)
                for lang in layout.languages]
    keyed = list(reversed(keyed_responses(store_of(request))))
    return render(request, "keyed.html", current, status=status, problem=problem,
                  variants=variants, keyed=keyed, labels=CHANNEL_LABELS, posted=posted,
                  titles={k: layout.title for k, layout in layouts.items()},
                  next_entry={k.response.response_id: _next_entry(k, current) for k in keyed})


def _variant_label(layout: Layout, lang: str) -> str:
    questionnaire = layout.questionnaire
    extra = " · large print" if layout.large_print else ""
    return (f"{questionnaire.title.text(lang)} ({questionnaire.id} v{questionnaire.version})"
            f" · {lang}{extra}")


def _entry_page(request: Request, current: Session, keyed: KeyedResponse, entry: int,
                typed: Mapping[str, str], checked: CheckedEntry | None,
                status: int = 200) -> Response:
    layout = _layout_of(request, keyed)
    fields = key_fields(layout.questionnaire, keyed.response.language)
    problems = dict(checked.problems) if checked else {}
    skipped = set(checked.skipped) if checked else set()
    for name in skipped:
        if typed.get(name, "").strip():
            problems[name] = "off the route given the answers before it: not kept"
    return render(request, "keyed_entry.html", current, status=status, keyed=keyed, entry=entry,
                  fields=fields, typed=typed, problems=problems, skipped=skipped,
                  title=layout.title, labels=CHANNEL_LABELS,
                  routes={f.name: json.dumps(f.when) if f.when is not None else ""
                          for f in fields},
                  choices={f.name: json.dumps({str(n): label for n, _, label in f.choices})
                           for f in fields},
                  names={f.name: json.dumps({str(n): name for n, name, _ in f.choices})
                         for f in fields})


def _settle_page(request: Request, current: Session, keyed: KeyedResponse,
                 posted: Mapping[str, str], problems: Mapping[str, str],
                 status: int = 200) -> Response:
    layout = _layout_of(request, keyed)
    fields = {f.name: f for f in key_fields(layout.questionnaire, keyed.response.language)}
    latest = {d.question: d for d in keyed.decisions}
    rows = [(fields[name], latest.get(name)) for name in keyed.differing if name in fields]
    return render(request, "keyed_settle.html", current, status=status, keyed=keyed, rows=rows,
                  posted=posted, problems=problems, title=layout.title,
                  first=keyed.entry(1), second=keyed.entry(2),
                  shown=_shown_value)


def _shown_value(field: KeyField, value: str) -> str:
    """A value as a person reads it: a choice by its number and label."""
    if not value:
        return "(blank)"
    by_name = {name: (n, label) for n, name, label in field.choices}
    if not by_name:
        return value
    return "; ".join(f"{by_name[v][0]} {by_name[v][1]}" if v in by_name else v
                     for v in value.split())


def _keyed(request: Request, response_id: str) -> KeyedResponse:
    keyed = keyed_response(store_of(request), response_id)
    if keyed is None:
        raise HTTPException(404, f"there is no keyed response {response_id}")
    return keyed


def _layout_of(request: Request, keyed: KeyedResponse) -> Layout:
    layout = layouts_of(request).get(keyed.response.form_key)
    if layout is None:
        raise HTTPException(404, f"form {keyed.response.form_key} is not registered in this "
                                 "workspace")
    return layout


def _next_entry(keyed: KeyedResponse, current: Session) -> int:
    """The entry this person may key next (0: none)."""
    done = {e.entry for e in keyed.entries}
    if 1 not in done:
        return 1
    if keyed.response.double_entry and 2 not in done \
            and keyed.entry(1) is not None and keyed.entries[0].keyed_by != current.user.name:
        return 2
    return 0


def _may_key(keyed: KeyedResponse, entry: int, current: Session) -> None:
    if _next_entry(keyed, current) == entry:
        return
    if any(e.entry == entry for e in keyed.entries):
        raise HTTPException(409, f"entry {entry} of {keyed.response.response_id} is keyed "
                                 "already")
    if entry == 2 and not keyed.response.double_entry:
        raise HTTPException(409, f"{keyed.response.response_id} is keyed once, not twice")
    if entry == 2 and not keyed.entries:
        raise HTTPException(409, "entry 1 comes first")
    raise HTTPException(403, "the second entry is keyed blind by another person than the "
                             "first")
