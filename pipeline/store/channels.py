"""The responses that did not come as a scanned copy: phoned in, a paper return typed in, a letter.

Each has one row in `channel_responses`; what it says lives elsewhere (keyed entries and
decisions, letter pages and texts). A response with a serial names the addressed copy it answers,
so the copy is counted once whichever way it came back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import RowMapping, exists, insert, or_, select, update

from pipeline.errors import WorkspaceError
from pipeline.store import schema
from pipeline.store.store import Store, now_iso

CHANNELS = ("phone", "paper-keyed", "letter")


@dataclass(frozen=True)
class ChannelResponse:
    response_id: str
    questionnaire_id: str
    channel: str  # one of CHANNELS
    form_key: str  # the printed variant keyed from or read out, or "" (a letter)
    serial: str  # the addressed copy it answers, or ""
    language: str
    double_entry: bool
    created_by: str
    created_at: str
    note: str


def new_channel_response(store: Store, questionnaire_id: str, channel: str, created_by: str,
                         form_key: str = "", serial: str = "", language: str = "",
                         double_entry: bool = False, note: str = "") -> ChannelResponse:
    """Open a response on a channel; its id is new and never reused."""
    if channel not in CHANNELS:
        raise WorkspaceError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    response = ChannelResponse(f"{channel}-{uuid.uuid4().hex[:12]}", questionnaire_id, channel,
                               form_key, serial, language, double_entry, created_by, now_iso(),
                               note)
    with store.engine.begin() as conn:
        conn.execute(insert(schema.channel_responses).values(
            response_id=response.response_id, questionnaire_id=questionnaire_id,
            channel=channel, form_key=form_key, serial=serial, language=language,
            double_entry=double_entry, created_by=created_by,
            created_at=response.created_at, note=note))
    return response


def link_serial(store: Store, response_id: str, serial: str, form_key: str = "") -> None:
    """Name (or, with "", forget) the addressed copy a response answers."""
    t = schema.channel_responses
    values: dict[str, str] = {"serial": serial}
    if form_key:
        values["form_key"] = form_key
    with store.engine.begin() as conn:
        done = conn.execute(update(t).where(t.c.response_id == response_id).values(**values))
        if not done.rowcount:
            raise WorkspaceError(f"no response {response_id} in the store")


def channel_responses(store: Store, questionnaire_ids: Iterable[str] | None = None,
                      channel: str | None = None,
                      received: bool = False) -> list[ChannelResponse]:
    """The responses of the questionnaires given (all when None), oldest first (to the second:
    responses opened within one second come in the order of their ids). `received`: only those
    that came, a letter or a keying saved at least once; a keying opened and left before its
    first save is not a response that came back."""
    t = schema.channel_responses
    if not store.has_table(t.name):
        return []
    query = select(t)
    if received:
        entries = schema.keyed_entries
        query = query.where(or_(t.c.channel == "letter", exists().where(
            entries.c.response_id == t.c.response_id)))
    if questionnaire_ids is not None:
        query = query.where(t.c.questionnaire_id.in_(list(questionnaire_ids)))
    if channel is not None:
        query = query.where(t.c.channel == channel)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.created_at, t.c.response_id)).all()
    return [_response(row._mapping) for row in rows]


def channel_response(store: Store, response_id: str) -> ChannelResponse | None:
    t = schema.channel_responses
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.response_id == response_id)).first()
    return None if row is None else _response(row._mapping)


def _response(row: RowMapping) -> ChannelResponse:
    return ChannelResponse(str(row["response_id"]), str(row["questionnaire_id"]),
                           str(row["channel"]), str(row["form_key"]), str(row["serial"]),
                           str(row["language"]), bool(row["double_entry"]),
                           str(row["created_by"]), str(row["created_at"]), str(row["note"]))
