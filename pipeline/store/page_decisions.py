"""Decisions about whole pages: the pages waiting for one, the page_decisions log, and the
outcome each decision gives a page, in one transaction with its log row.

The log is only ever added to; the pages table holds what follows from it (a page keyed, not a
form, the copy that stands, another response), so answers, responses and the dataset need
nothing new. Which copy of a page counts is copies.in_standing_order, as on ingest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Row, Select, insert, select, update
from sqlalchemy.engine import Connection

from pipeline.errors import NotFoundError, UsageError, WorkspaceError
from pipeline.records import ArchivedFile, PageResult
from pipeline.store import schema
from pipeline.store.copies import (
    CopyPage,
    StoredCopy,
    copy_runs,
    next_response_number,
    response_serial,
    standing_copy,
)
from pipeline.store.store import (
    Store,
    delete_readings,
    now_iso,
    replace_page_reading,
    write_crops,
)

__all__ = [
    "DuplicateGroup",
    "PageDecision",
    "PageItem",
    "another_response",
    "check_unidentified",
    "choose_standing",
    "duplicate_groups",
    "mark_not_a_form",
    "page_decisions",
    "page_file",
    "record_keyed_page",
    "unidentified_pages",
]

PageAction = Literal["keyed", "not_a_form", "stands", "another_response"]
UNIDENTIFIED = ("unreadable", "unknown_form", "not_a_form")
COUNTED = ("identified", "duplicate")  # a page read as a page of a copy, counting or not
NOT_A_FORM = "a person saw it is not a form page"
SERIAL_LENGTH = 32  # pages.serial


@dataclass(frozen=True)
class PageItem:
    """One stored page, as a person reviewing pages sees it."""

    file_sha256: str
    file_name: str
    page_index: int  # 1-based page number within the file
    batch_id: int
    outcome: str
    reason: str
    form_key: str
    serial: str
    page: int
    read_at: str
    photocopy: bool = False  # a second copy whose answers differ: probably another response
    copy_of: str = ""  # the serial printed on it, when `serial` names a further response


@dataclass(frozen=True)
class DuplicateGroup:
    """Every page read as one page of one copy: the one that counts, and the rest."""

    form_key: str
    serial: str
    page: int
    standing: PageItem
    others: tuple[PageItem, ...]

    @property
    def photocopy(self) -> bool:
        """A copy among the others is probably a photocopy: another person's response."""
        return any(o.photocopy for o in self.others)


@dataclass(frozen=True)
class PageDecision:
    """A row of page_decisions: what a person decided about a whole page."""

    id: int
    file_sha256: str
    page_index: int
    action: str  # keyed | not_a_form | stands | another_response
    form_key: str
    serial: str
    page: int
    reviewer: str
    decided_at: str
    why: str


# -- queues --------------------------------------------------------------------------------------

def unidentified_pages(store: Store) -> list[PageItem]:
    """Pages the reader could not identify that no person has decided about since they were
    read (a file read again comes back with what the reader finds), and that are in no letter."""
    p, d = schema.pages, schema.page_decisions
    decided = (select(d.c.id).where(d.c.file_sha256 == p.c.file_sha256,
                                    d.c.page_index == p.c.page_index,
                                    d.c.decided_at >= p.c.read_at).exists())
    letter = schema.letter_pages  # a page in a letter waits on the letters' screen instead
    in_letter = (select(letter.c.response_id).where(letter.c.file_sha256 == p.c.file_sha256,
                                                    letter.c.page_index == p.c.page_index)
                 .exists())
    with store.engine.connect() as conn:
        rows = conn.execute(_page_query().where(p.c.outcome.in_(UNIDENTIFIED), ~decided,
                                                ~in_letter)
                            .order_by(schema.files.c.batch_id, schema.files.c.name,
                                      p.c.page_index)).all()
    return [_item(row) for row in rows]


def duplicate_groups(store: Store) -> list[DuplicateGroup]:
    """Copies of a page read more than once that wait for a person to say which one stands, or
    that one is another response, by copy and page: a choice made covers the pages read up to
    it, so a copy arriving later asks again."""
    p, d = schema.pages, schema.page_decisions
    # Only the copies with a duplicate page: a national consultation has 200,000 others.
    doubled = (select(p.c.form_key, p.c.serial, p.c.page).where(p.c.outcome == "duplicate")
               .distinct().subquery())
    with store.engine.connect() as conn:
        rows = conn.execute(_page_query()
                            .join(doubled, (doubled.c.form_key == p.c.form_key)
                                  & (doubled.c.serial == p.c.serial)
                                  & (doubled.c.page == p.c.page))
                            .where(p.c.outcome.in_(COUNTED))
                            .order_by(p.c.form_key, p.c.serial, p.c.page, p.c.id)).all()
        chosen: dict[tuple[str, str, int], str] = {}
        for decision in conn.execute(select(d.c.form_key, d.c.serial, d.c.page, d.c.decided_at)
                                     .where(d.c.action == "stands")):
            key = (decision.form_key, decision.serial, decision.page)
            chosen[key] = max(chosen.get(key, ""), str(decision.decided_at))
    pages: dict[tuple[str, str, int], list[Row[Any]]] = defaultdict(list)
    for row in rows:
        pages[(str(row.form_key), str(row.serial), int(row.page))].append(row)
    groups = []
    for key, copies in pages.items():
        duplicates = [c for c in copies if c.outcome == "duplicate"]
        if not duplicates or (key in chosen
                              and all(str(c.read_at) <= chosen[key] for c in duplicates)):
            continue
        groups.append(_group(key, copies))
    return groups


def page_decisions(store: Store) -> list[PageDecision]:
    """Every decision about a whole page, oldest first."""
    d = schema.page_decisions
    with store.engine.connect() as conn:
        rows = conn.execute(select(d).order_by(d.c.id)).all()
    return [PageDecision(int(r.id), r.file_sha256, int(r.page_index), r.action, r.form_key,
                         r.serial, int(r.page), r.reviewer, r.decided_at, r.why) for r in rows]


# -- the page as scanned -------------------------------------------------------------------------

def page_file(store: Store, file_sha256: str, page_index: int) -> tuple[PageItem, ArchivedFile]:
    """A stored page and the archived scan file it is in, to read or show it again."""
    with store.engine.connect() as conn:
        row = _page_row(conn, file_sha256, page_index)
        return _item(row), _archived(conn, file_sha256)


def check_unidentified(item: PageItem) -> None:
    """Only a page the reader could not identify is keyed by hand: UsageError, saying what the
    page was identified as, for any other."""
    if item.outcome in COUNTED:
        raise UsageError(f"{item.file_name} p{item.page_index} is identified already as serial "
                         f"{item.serial} page {item.page} of {item.form_key}: only pages the "
                         "reader could not identify are keyed")


# -- decisions -----------------------------------------------------------------------------------

def record_keyed_page(store: Store, result: PageResult, crops_dir: Path, reviewer: str,
                      why: str = "") -> PageItem:
    """Store a page's reading as the form, serial and page a person keyed (the result's), and
    log it; it becomes a duplicate when that page of that copy is identified on another page
    already. Refused (UsageError) when the page was identified meanwhile (another person keyed
    it)."""
    ref = result.ref
    crop_paths = write_crops([result], crops_dir)
    with store.engine.begin() as conn:
        row = _page_row(conn, ref.sha256, ref.index)
        check_unidentified(_item(row))
        replace_page_reading(conn, int(row.id), result, crop_paths)
        _log(conn, ref.sha256, ref.index, "keyed", result.form_key, result.serial, result.page,
             reviewer, why)
        return _item(_page_row(conn, ref.sha256, ref.index))


def mark_not_a_form(store: Store, file_sha256: str, page_index: int, reviewer: str,
                    why: str = "") -> PageItem:
    """A page a person saw is no form page (a letter, a leaflet): it leaves the queue, and
    anything read from it goes."""
    p = schema.pages
    with store.engine.begin() as conn:
        row = _page_row(conn, file_sha256, page_index)
        if row.outcome == "identified":
            raise UsageError(f"{row.name} p{page_index} is serial {row.serial} page {row.page} "
                             f"of {row.form_key} and counts in the results: it cannot be marked "
                             "not a form")
        delete_readings(conn, [int(row.id)])
        reason = f"{NOT_A_FORM}: {why.strip()}" if why.strip() else NOT_A_FORM
        conn.execute(update(p).where(p.c.id == row.id).values(
            outcome="not_a_form", reason=reason, form_key="", serial="", page=0))
        _log(conn, file_sha256, page_index, "not_a_form", str(row.form_key), str(row.serial),
             int(row.page), reviewer, why)
        return _item(_page_row(conn, file_sha256, page_index))


def choose_standing(store: Store, file_sha256: str, page_index: int, reviewer: str,
                    why: str = "") -> DuplicateGroup:
    """This copy of a page counts, every other copy of the same page becomes a duplicate: the
    answers of the dataset are then this page's."""
    p = schema.pages
    with store.engine.begin() as conn:
        row = _page_row(conn, file_sha256, page_index)
        if row.outcome not in COUNTED:
            raise UsageError(f"{row.name} p{page_index} is not identified ({row.outcome}): key "
                             "its form, serial and page first")
        same = (p.c.form_key == row.form_key, p.c.serial == row.serial, p.c.page == row.page)
        conn.execute(update(p).where(*same, p.c.id != row.id, p.c.outcome.in_(COUNTED)).values(
            outcome="duplicate",
            reason=f"serial {row.serial} page {row.page}: {reviewer} chose "
                   f"{row.name} p{page_index} to stand"))
        conn.execute(update(p).where(p.c.id == row.id).values(
            outcome="identified", reason=f"chosen to stand by {reviewer}"))
        _log(conn, file_sha256, page_index, "stands", str(row.form_key), str(row.serial),
             int(row.page), reviewer, why)
        rows = conn.execute(_page_query().where(*same, p.c.outcome.in_(COUNTED))
                            .order_by(p.c.id)).all()
    return _group((str(row.form_key), str(row.serial), int(row.page)), rows)


def another_response(store: Store, file_sha256: str, page_index: int, reviewer: str,
                     why: str = "") -> list[PageItem]:
    """This second copy of a page, with the rest of its copy in the same scan file, is another
    person's response on the serial (a photocopy of the form): it counts as a response of its
    own, stored as "<serial>-<n>" with the printed serial kept in copy_of; the response the
    serial was printed for keeps its own pages. Returns the pages of the new response."""
    p = schema.pages
    with store.engine.begin() as conn:
        row = _page_row(conn, file_sha256, page_index)
        if row.outcome != "duplicate":
            raise UsageError(f"{row.name} p{page_index} is not a second copy of a page waiting "
                             f"for a decision ({row.outcome}: {row.reason})")
        # A rescan of a photocopy's response may turn out to be yet another photocopy.
        printed, form_key = str(row.copy_of or row.serial), str(row.form_key)
        moving = _copy_of_page(conn, row)
        taken = conn.execute(select(p.c.serial).where(p.c.form_key == form_key,
                                                      p.c.copy_of == printed)).scalars()
        serial = response_serial(printed, next_response_number(printed, taken))
        if len(serial) > SERIAL_LENGTH:
            raise UsageError(f"serial {printed} is too long to number another response on it")
        for moved in moving:
            conn.execute(update(p).where(p.c.id == moved.id).values(
                outcome="identified", serial=serial, copy_of=printed,
                reason=f"another response on serial {printed}, made by {reviewer}"))
            if moved.outcome == "identified":
                _stand_in(conn, form_key, str(row.serial), int(moved.page),
                          f"{moved.name} p{moved.page_index} became response {serial}")
            _log(conn, file_sha256, int(moved.page_index), "another_response", form_key, serial,
                 int(moved.page), reviewer, why)
        rows = conn.execute(_page_query().where(p.c.form_key == form_key, p.c.serial == serial)
                            .order_by(p.c.page)).all()
    return [_item(r) for r in rows]


# -- helpers -------------------------------------------------------------------------------------

def _copy_of_page(conn: Connection, row: Row[Any]) -> list[Row[Any]]:
    """The pages of the copy this page is part of, in its scan file, read under its serial
    (copies.copy_runs): a photocopy's pages are scanned together."""
    p = schema.pages
    in_file = conn.execute(_page_query().where(
        p.c.file_sha256 == row.file_sha256, p.c.outcome.in_(COUNTED))
        .order_by(p.c.page_index)).all()
    pages = [CopyPage(str(r.form_key), str(r.copy_of or r.serial), int(r.page)) for r in in_file]
    for run in copy_runs(pages):
        members = [in_file[at] for at in run]
        if any(m.page_index == row.page_index for m in members):
            return [m for m in members if m.serial == row.serial]
    return [row]


def _stand_in(conn: Connection, form_key: str, serial: str, page: int, why: str) -> None:
    """A page that stood became another response: the copy of it that counts now
    (copies.standing_copy), if any, stands for the response it was read under."""
    p = schema.pages
    rows = conn.execute(_page_query().where(
        p.c.form_key == form_key, p.c.serial == serial, p.c.page == page,
        p.c.outcome.in_(COUNTED))).all()
    standing = standing_copy(_stored_copy(r) for r in rows)
    if standing is not None and not standing.identified:
        conn.execute(update(p).where(p.c.id == standing.page_id).values(
            outcome="identified", photocopy=False, reason=f"stands since {why}"))


def _group(key: tuple[str, str, int], rows: Sequence[Row[Any]]) -> DuplicateGroup:
    """The copies of one page, the one that counts (copies.standing_copy) and the rest."""
    items = {int(r.id): _item(r) for r in rows}
    standing = standing_copy(_stored_copy(r) for r in rows)
    if standing is None:
        raise NotFoundError(f"serial {key[1]} page {key[2]} of {key[0]} has no copy stored")
    return DuplicateGroup(*key, items[standing.page_id],
                          tuple(i for page_id, i in items.items() if page_id != standing.page_id))


def _stored_copy(row: Row[Any]) -> StoredCopy:
    return StoredCopy(int(row.id), row.outcome == "identified", row.copy_of is not None)


def _page_query() -> Select[Any]:
    p, f = schema.pages, schema.files
    return (select(p.c.id, p.c.file_sha256, f.c.name, p.c.page_index, f.c.batch_id, p.c.outcome,
                   p.c.reason, p.c.form_key, p.c.serial, p.c.page, p.c.read_at, p.c.photocopy,
                   p.c.copy_of)
            .join(f, f.c.sha256 == p.c.file_sha256))


def _item(row: Row[Any]) -> PageItem:
    return PageItem(str(row.file_sha256), str(row.name), int(row.page_index), int(row.batch_id),
                    str(row.outcome), str(row.reason), str(row.form_key), str(row.serial),
                    int(row.page), str(row.read_at), bool(row.photocopy), str(row.copy_of or ""))


def _page_row(conn: Connection, file_sha256: str, page_index: int) -> Row[Any]:
    p = schema.pages
    row = conn.execute(_page_query().where(p.c.file_sha256 == file_sha256,
                                           p.c.page_index == page_index)).first()
    if row is None:
        raise NotFoundError(f"no page {page_index} of scan file {file_sha256[:12]} is in the "
                            "store: was the file read again since the list was made?")
    return row


def _archived(conn: Connection, file_sha256: str) -> ArchivedFile:
    f = schema.files
    row = conn.execute(select(f.c.name, f.c.archived_path, f.c.size)
                       .where(f.c.sha256 == file_sha256)).first()
    if row is None:
        raise NotFoundError(f"scan file {file_sha256[:12]} is not in the store")
    path = Path(row.archived_path)
    if not path.is_file():
        raise WorkspaceError(f"the archived copy of {row.name} is gone ({path}): restore the "
                             "workspace's archive folder from its backup")
    kind: Literal["pdf", "image"] = "pdf" if path.suffix.lower() == ".pdf" else "image"
    return ArchivedFile(file_sha256, str(row.name), Path(row.name), path, kind, int(row.size))


def _log(conn: Connection, file_sha256: str, page_index: int, action: PageAction,
         form_key: str, serial: str, page: int, reviewer: str, why: str) -> None:
    conn.execute(insert(schema.page_decisions).values(
        file_sha256=file_sha256, page_index=page_index, action=action, form_key=form_key,
        serial=serial, page=page, reviewer=reviewer, decided_at=now_iso(), why=why.strip()))
