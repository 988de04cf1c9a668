"""Letters as responses: their scanned pages in order, the text read from each, and corrections.

A letter is a response on channel `letter` (one row in channel_responses); its pages are
letter_pages rows (a page belongs to one letter at most, so a batch read again cannot register
it twice), and a person's corrections of its text are letter_texts rows: the latest wins, every
one is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from pipeline.errors import WorkspaceError
from pipeline.store import schema
from pipeline.store.channels import (
    ChannelResponse,
    channel_response,
    channel_responses,
    new_channel_response,
)
from pipeline.store.store import Store, now_iso

CHANNEL = "letter"
PAGE_BREAK = "\n\n"  # between the texts of two pages, in a letter's text


@dataclass(frozen=True)
class PageText:
    """What was read from one scanned page of a letter."""

    file_sha256: str
    page_index: int  # 1-based, in the scan file
    text: str
    confidence: float  # 0..1


@dataclass(frozen=True)
class LetterPage:
    file_sha256: str
    page_index: int
    file_name: str  # the scan file's name as the mailroom gave it
    position: int  # 1-based, in the letter
    text: str
    confidence: float
    read_at: str

    @property
    def source(self) -> str:
        """The page as the dataset's _source names scanned pages: "<file> p<index>"."""
        return f"{self.file_name} p{self.page_index}"


@dataclass(frozen=True)
class Correction:
    text: str
    edited_by: str
    edited_at: str


@dataclass(frozen=True)
class Letter:
    response: ChannelResponse
    pages: tuple[LetterPage, ...]
    corrections: tuple[Correction, ...]  # oldest first

    @property
    def read_text(self) -> str:
        return PAGE_BREAK.join(p.text for p in self.pages)

    @property
    def text(self) -> str:
        """The latest correction, or the text read when nobody corrected it."""
        return self.corrections[-1].text if self.corrections else self.read_text

    @property
    def confidence(self) -> float:
        """The lowest of its pages' confidences (1.0 once a person corrected the text)."""
        if self.corrections:
            return 1.0
        return min((p.confidence for p in self.pages), default=0.0)


def register_letter(store: Store, questionnaire_id: str, pages: Sequence[PageText],
                    created_by: str, note: str = "") -> ChannelResponse:
    """A new letter response of these pages, in order. WorkspaceError when a page already
    belongs to a letter (the caller checks with letter_of_page to skip pages done before)."""
    if not pages:
        raise WorkspaceError("a letter needs at least one page")
    for page in pages:
        taken = letter_of_page(store, page.file_sha256, page.page_index)
        if taken is not None:
            raise WorkspaceError(f"page {page.page_index} of that scan is already in letter "
                                 f"{taken}")
    response = new_channel_response(store, questionnaire_id, CHANNEL, created_by, note=note)
    with store.engine.begin() as conn:
        for position, page in enumerate(pages, start=1):
            _insert_page(conn, response.response_id, position, page)
    return response


def add_page(store: Store, response_id: str, page: PageText) -> int:
    """Add a scanned page to the end of a letter; its position in the letter."""
    _require_letter(store, response_id)
    taken = letter_of_page(store, page.file_sha256, page.page_index)
    if taken is not None:
        raise WorkspaceError(f"page {page.page_index} of that scan is already in letter {taken}")
    t = schema.letter_pages
    with store.engine.begin() as conn:
        last = conn.execute(select(func.max(t.c.position))
                            .where(t.c.response_id == response_id)).scalar()
        position = int(last or 0) + 1
        _insert_page(conn, response_id, position, page)
    return position


def correct_text(store: Store, response_id: str, text: str, edited_by: str) -> Correction:
    """A person's text of the letter; it wins over the text read and every earlier one."""
    _require_letter(store, response_id)
    correction = Correction(text.replace("\r\n", "\n"), edited_by, now_iso())
    with store.engine.begin() as conn:
        conn.execute(insert(schema.letter_texts).values(
            response_id=response_id, text=correction.text, edited_by=edited_by,
            edited_at=correction.edited_at))
    return correction


def set_questionnaire(store: Store, response_id: str, questionnaire_id: str) -> None:
    """Say which questionnaire a letter answers (a reviewer's choice, when ingest could not
    tell from the forms scanned with it)."""
    _require_letter(store, response_id)
    t = schema.channel_responses
    with store.engine.begin() as conn:
        conn.execute(update(t).where(t.c.response_id == response_id)
                     .values(questionnaire_id=questionnaire_id))


def letter_of_page(store: Store, file_sha256: str, page_index: int) -> str | None:
    """The letter a scanned page belongs to, or None."""
    t = schema.letter_pages
    if not store.has_table(t.name):
        return None
    with store.engine.connect() as conn:
        found = conn.execute(select(t.c.response_id).where(
            t.c.file_sha256 == file_sha256, t.c.page_index == page_index)).scalar()
    return None if found is None else str(found)


def letter(store: Store, response_id: str) -> Letter | None:
    response = channel_response(store, response_id)
    if response is None or response.channel != CHANNEL:
        return None
    return _letters(store, [response])[0]


def letters(store: Store, questionnaire_ids: Iterable[str] | None = None) -> list[Letter]:
    """Every letter (of these questionnaires, when given), oldest first."""
    return _letters(store, channel_responses(store, questionnaire_ids, CHANNEL))


def _letters(store: Store, responses: Sequence[ChannelResponse]) -> list[Letter]:
    if not responses:
        return []
    ids = [r.response_id for r in responses]
    p, f, t = schema.letter_pages, schema.files, schema.letter_texts
    with store.engine.connect() as conn:
        page_rows = conn.execute(
            select(p, f.c.name).outerjoin(f, f.c.sha256 == p.c.file_sha256)
            .where(p.c.response_id.in_(ids)).order_by(p.c.response_id, p.c.position)).all()
        text_rows = conn.execute(select(t).where(t.c.response_id.in_(ids))
                                 .order_by(t.c.response_id, t.c.id)).all()
    pages: dict[str, list[LetterPage]] = {}
    for row in page_rows:
        m = row._mapping
        pages.setdefault(str(m["response_id"]), []).append(LetterPage(
            str(m["file_sha256"]), int(m["page_index"]), str(m["name"] or m["file_sha256"][:12]),
            int(m["position"]), str(m["text"]), float(m["confidence"]), str(m["read_at"])))
    texts: dict[str, list[Correction]] = {}
    for row in text_rows:
        m = row._mapping
        texts.setdefault(str(m["response_id"]), []).append(
            Correction(str(m["text"]), str(m["edited_by"]), str(m["edited_at"])))
    return [Letter(r, tuple(pages.get(r.response_id, ())), tuple(texts.get(r.response_id, ())))
            for r in responses]


def _insert_page(conn: Connection, response_id: str, position: int, page: PageText) -> None:
    conn.execute(insert(schema.letter_pages).values(
        file_sha256=page.file_sha256, page_index=page.page_index, response_id=response_id,
        position=position, text=page.text, confidence=page.confidence, read_at=now_iso()))


def _require_letter(store: Store, response_id: str) -> None:
    response = channel_response(store, response_id)
    if response is None or response.channel != CHANNEL:
        raise WorkspaceError(f"no letter {response_id} in the store")
