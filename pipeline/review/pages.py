"""Reviewing whole pages: pages the reader could not identify, and pages scanned twice.

A person keys the form, copy and page of a page whose code could not be read (its boxes are then
read as that page), marks a page that is not a form at all, chooses which of two scans of one
page stands (the same response scanned again), or makes a second copy another response (a
photocopy of the form, filled in by someone else: pipeline/store/copies.py). Every such
decision is a row of page_decisions, which is only ever added to; the pages table holds the
outcome that follows from it, so answers, responses and the dataset need nothing new.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Row, Select, insert, select, update
from sqlalchemy.engine import Connection

from pipeline.errors import NotFoundError, UsageError, WorkspaceError
from pipeline.fsutil import atomic_write_bytes
from pipeline.read.page import ReaderSettings, encode_png, read_keyed_page
from pipeline.records import SERIAL_DIGITS, ArchivedFile, Layout, PageCode, PageRef
from pipeline.scan.intake import iter_pages
from pipeline.store import schema
from pipeline.store.copies import CopyPage, copy_runs, next_response_number, response_serial
from pipeline.store.store import (
    Store,
    delete_readings,
    now_iso,
    replace_page_reading,
    write_crops,
)
from pipeline.workspace import Workspace

__all__ = [
    "DuplicateGroup",
    "PageDecision",
    "PageItem",
    "another_response",
    "choose_standing",
    "duplicate_groups",
    "key_page",
    "mark_not_a_form",
    "page_decisions",
    "page_image_png",
    "unidentified_pages",
]

PageAction = Literal["keyed", "not_a_form", "stands", "another_response"]
UNIDENTIFIED = ("unreadable", "unknown_form", "not_a_form")
IMAGE_DPI = 100  # enough to see the page on a screen; the reader's own resolution is not needed
WIDEST_IMAGE = 4000  # pixels: a page image wider than this helps nobody
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


Image8 = NDArray[np.uint8]


# -- queues --------------------------------------------------------------------------------------

def unidentified_pages(store: Store) -> list[PageItem]:
    """Pages the reader could not identify that no person has decided about since they were
    read (a file read again comes back with what the reader finds)."""
    p, d = schema.pages, schema.page_decisions
    decided = (select(d.c.id).where(d.c.file_sha256 == p.c.file_sha256,
                                    d.c.page_index == p.c.page_index,
                                    d.c.decided_at >= p.c.read_at).exists())
    with store.engine.connect() as conn:
        rows = conn.execute(_page_query().where(p.c.outcome.in_(UNIDENTIFIED), ~decided)
                            .order_by(schema.files.c.batch_id, schema.files.c.name,
                                      p.c.page_index)).all()
    return [_item(row) for row in rows]


def duplicate_groups(store: Store) -> list[DuplicateGroup]:
    """Copies of a page read more than once that wait for a person to say which one stands, or
    that one is another response: a choice made covers the pages read up to it, so a copy
    arriving later asks again. Probable photocopies come first: they change the count of
    responses, a rescan only which scan is read."""
    p, d = schema.pages, schema.page_decisions
    # Only the copies with a duplicate page: a national consultation has 200,000 others.
    doubled = (select(p.c.form_key, p.c.serial, p.c.page).where(p.c.outcome == "duplicate")
               .distinct().subquery())
    with store.engine.connect() as conn:
        rows = conn.execute(_page_query()
                            .join(doubled, (doubled.c.form_key == p.c.form_key)
                                  & (doubled.c.serial == p.c.serial)
                                  & (doubled.c.page == p.c.page))
                            .where(p.c.outcome.in_(("identified", "duplicate")))
                            .order_by(p.c.form_key, p.c.serial, p.c.page, p.c.id)).all()
        chosen: dict[tuple[str, str, int], str] = {}
        for decision in conn.execute(select(d.c.form_key, d.c.serial, d.c.page, d.c.decided_at)
                                     .where(d.c.action == "stands")):
            key = (decision.form_key, decision.serial, decision.page)
            chosen[key] = max(chosen.get(key, ""), str(decision.decided_at))
    pages: dict[tuple[str, str, int], list[PageItem]] = defaultdict(list)
    for row in rows:
        item = _item(row)
        pages[(item.form_key, item.serial, item.page)].append(item)
    groups = []
    for key, items in pages.items():
        duplicates = [i for i in items if i.outcome == "duplicate"]
        if not duplicates or (key in chosen and all(i.read_at <= chosen[key] for i in duplicates)):
            continue
        groups.append(_group(key, items))
    return sorted(groups, key=lambda g: not g.photocopy)  # stable: by copy and page otherwise


def page_decisions(store: Store) -> list[PageDecision]:
    """Every decision about a whole page, oldest first."""
    d = schema.page_decisions
    with store.engine.connect() as conn:
        rows = conn.execute(select(d).order_by(d.c.id)).all()
    return [PageDecision(int(r.id), r.file_sha256, int(r.page_index), r.action, r.form_key,
                         r.serial, int(r.page), r.reviewer, r.decided_at, r.why) for r in rows]


# -- the page as scanned -------------------------------------------------------------------------

def page_image_png(store: Store, workspace: Workspace, file_sha256: str, page_index: int,
                   width: int = 1100) -> bytes:
    """The scanned page, grey, scaled to the width asked for; made once from the archived file
    and kept under the workspace, since rendering a PDF page takes a good part of a second."""
    if not 16 <= width <= WIDEST_IMAGE:
        raise UsageError(f"a page image is 16 to {WIDEST_IMAGE} pixels wide, not {width}")
    target = (workspace.root / "page-images" / file_sha256[:2]
              / f"{file_sha256}-p{page_index}-w{width}.png")
    if target.is_file():
        return target.read_bytes()
    with store.engine.connect() as conn:
        _page_row(conn, file_sha256, page_index)
        archived = _archived(conn, file_sha256)
    gray = _page_gray(archived, page_index, IMAGE_DPI)
    height = max(1, round(gray.shape[0] * width / gray.shape[1]))
    interpolation = cv2.INTER_AREA if width < gray.shape[1] else cv2.INTER_LINEAR
    scaled = np.asarray(cv2.resize(gray, (width, height), interpolation=interpolation),
                        dtype=np.uint8)
    data = encode_png(scaled)
    if not data:
        raise WorkspaceError(f"{archived.name} p{page_index}: the page image could not be made")
    atomic_write_bytes(target, data)
    return data


# -- decisions -----------------------------------------------------------------------------------

def key_page(store: Store, workspace: Workspace, layouts: dict[str, Layout], file_sha256: str,
             page_index: int, form_key: str, serial: str, page: int, reviewer: str,
             settings: ReaderSettings, why: str = "") -> PageItem:
    """Read a page as the form, copy and page a person keyed from the paper; it becomes a
    duplicate when that page of that copy is identified on another page already."""
    reviewer = _reviewer(reviewer)
    form_key, serial = form_key.strip(), serial.strip()
    layout = layouts.get(form_key)
    if layout is None:
        raise UsageError(f"form {form_key or '(none)'} is not registered here: check the form "
                         "key printed on the page")
    serial = _printed_serial(workspace, layout, serial)
    with store.engine.connect() as conn:
        row = _page_row(conn, file_sha256, page_index)
        archived = _archived(conn, file_sha256)
    _check_unidentified(row, page_index)
    gray = _page_gray(archived, page_index, settings.dpi)
    result = read_keyed_page(gray, PageRef(file_sha256, archived.name, page_index), layouts,
                             PageCode(form_key, serial, page), settings)
    crop_paths = write_crops([result], workspace.crops_dir)
    with store.engine.begin() as conn:
        row = _page_row(conn, file_sha256, page_index)
        _check_unidentified(row, page_index)  # another person may have keyed it meanwhile
        replace_page_reading(conn, int(row.id), result, crop_paths)
        _log(conn, file_sha256, page_index, "keyed", form_key, serial, page, reviewer, why)
        return _item(_page_row(conn, file_sha256, page_index))


def mark_not_a_form(store: Store, file_sha256: str, page_index: int, reviewer: str,
                    why: str = "") -> PageItem:
    """A page a person saw is no form page (a letter, a leaflet): it leaves the queue, and
    anything read from it goes."""
    reviewer = _reviewer(reviewer)
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
    reviewer = _reviewer(reviewer)
    p = schema.pages
    with store.engine.begin() as conn:
        row = _page_row(conn, file_sha256, page_index)
        if row.outcome not in ("identified", "duplicate"):
            raise UsageError(f"{row.name} p{page_index} is not identified ({row.outcome}): key "
                             "its form, serial and page first")
        same = (p.c.form_key == row.form_key, p.c.serial == row.serial, p.c.page == row.page)
        conn.execute(update(p).where(
            *same, p.c.id != row.id, p.c.outcome.in_(("identified", "duplicate"))).values(
                outcome="duplicate",
                reason=f"serial {row.serial} page {row.page}: {reviewer} chose "
                       f"{row.name} p{page_index} to stand"))
        conn.execute(update(p).where(p.c.id == row.id).values(
            outcome="identified", reason=f"chosen to stand by {reviewer}"))
        _log(conn, file_sha256, page_index, "stands", str(row.form_key), str(row.serial),
             int(row.page), reviewer, why)
        rows = conn.execute(_page_query().where(*same, p.c.outcome.in_(
            ("identified", "duplicate"))).order_by(p.c.id)).all()
    return _group((str(row.form_key), str(row.serial), int(row.page)),
                  [_item(r) for r in rows])


def another_response(store: Store, file_sha256: str, page_index: int, reviewer: str,
                     why: str = "") -> list[PageItem]:
    """This second copy of a page, with the rest of its copy in the same scan file, is another
    person's response on the serial (a photocopy of the form): it counts as a response of its
    own, stored as "<serial>-<n>" with the printed serial kept in copy_of; the response the
    serial was printed for keeps its own pages. Returns the pages of the new response."""
    reviewer = _reviewer(reviewer)
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
        p.c.file_sha256 == row.file_sha256, p.c.outcome.in_(("identified", "duplicate")))
        .order_by(p.c.page_index)).all()
    pages = [CopyPage(str(r.form_key), str(r.copy_of or r.serial), int(r.page)) for r in in_file]
    for run in copy_runs(pages):
        members = [in_file[at] for at in run]
        if any(m.page_index == row.page_index for m in members):
            return [m for m in members if m.serial == row.serial]
    return [row]


def _stand_in(conn: Connection, form_key: str, serial: str, page: int, why: str) -> None:
    """A page that stood became another response: the earliest other copy of it, if any,
    stands for the response it was read under."""
    p = schema.pages
    next_id = conn.execute(select(p.c.id).where(
        p.c.form_key == form_key, p.c.serial == serial, p.c.page == page,
        p.c.outcome == "duplicate").order_by(p.c.id).limit(1)).scalar()
    if next_id is not None:
        conn.execute(update(p).where(p.c.id == next_id).values(
            outcome="identified", photocopy=False, reason=f"stands since {why}"))


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


def _group(key: tuple[str, str, int], items: list[PageItem]) -> DuplicateGroup:
    """The identified page stands; where none is (its file was read again and failed), the
    first read."""
    standing = next((i for i in items if i.outcome == "identified"), items[0])
    return DuplicateGroup(*key, standing, tuple(i for i in items if i is not standing))


def _page_row(conn: Connection, file_sha256: str, page_index: int) -> Row[Any]:
    p = schema.pages
    row = conn.execute(_page_query().where(p.c.file_sha256 == file_sha256,
                                           p.c.page_index == page_index)).first()
    if row is None:
        raise NotFoundError(f"no page {page_index} of scan file {file_sha256[:12]} is in the "
                             "store: was the file read again since the list was made?")
    return row


def _check_unidentified(row: Row[Any], page_index: int) -> None:
    if row.outcome in ("identified", "duplicate"):
        raise UsageError(f"{row.name} p{page_index} is identified already as serial "
                         f"{row.serial} page {row.page} of {row.form_key}: only pages the "
                         "reader could not identify are keyed")


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


def _page_gray(archived: ArchivedFile, page_index: int, dpi: int) -> Image8:
    for _, gray in iter_pages(archived, dpi, page_index, page_index):
        return gray
    raise WorkspaceError(f"{archived.name} has no page {page_index} any more: its archived "
                         "copy differs from the one read")


def _printed_serial(workspace: Workspace, layout: Layout, serial: str) -> str:
    """The serial as printed (a person may leave off the leading zeros); refused when it is not
    among the copies the layout lists or, for a registered form, the serials issued for it."""
    if not serial:
        raise UsageError("key the copy's serial number, printed beside the page code")
    printed = {c.serial for c in layout.copies}
    issued = _serials_issued(workspace, layout.form_key)
    if serial.isdigit() and (printed or issued is not None):
        serial = serial.zfill(max((len(s) for s in printed), default=SERIAL_DIGITS))
    known = (serial in printed if printed else
             issued is None or (serial.isdigit() and 1 <= int(serial) <= issued))
    if not known:
        raise UsageError(f"serial {serial} was not printed for this form ({layout.form_key}): "
                         "check the number on the page")
    return serial


def _serials_issued(workspace: Workspace, form_key: str) -> int | None:
    """How many serials `forms build` has issued for this form (registry.allocate_serials),
    or None when the workspace does not say."""
    path = workspace.layouts_dir / f"{form_key}.serials.json"
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["issued"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _reviewer(reviewer: str) -> str:
    if not reviewer.strip():
        raise UsageError("a page decision needs the name of the person who made it")
    return reviewer.strip()


def _log(conn: Connection, file_sha256: str, page_index: int, action: PageAction,
         form_key: str, serial: str, page: int, reviewer: str, why: str) -> None:
    conn.execute(insert(schema.page_decisions).values(
        file_sha256=file_sha256, page_index=page_index, action=action, form_key=form_key,
        serial=serial, page=page, reviewer=reviewer, decided_at=now_iso(), why=why.strip()))
