"""Reviewing whole pages: pages the reader could not identify, and pages scanned twice.

A person keys the form, copy and page of a page whose code could not be read (its boxes are then
read as that page), marks a page that is not a form at all, chooses which of two scans of one
page stands (the same response scanned again), or makes a second copy another response (a
photocopy of the form, filled in by someone else: pipeline/store/copies.py). What is stored,
and the log of these decisions, is pipeline/store/page_decisions.py; here the page is read and
shown again, and what a person keyed is checked before it is stored.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.errors import UsageError, WorkspaceError
from pipeline.fsutil import atomic_write_bytes
from pipeline.read.page import ReaderSettings, encode_png, read_keyed_page
from pipeline.records import SERIAL_DIGITS, ArchivedFile, Layout, PageCode, PageRef
from pipeline.registry import serials_issued
from pipeline.scan.intake import iter_pages
from pipeline.store import page_decisions as stored
from pipeline.store.page_decisions import (
    DuplicateGroup,
    PageDecision,
    PageItem,
    page_decisions,
    unidentified_pages,
)
from pipeline.store.store import Store
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

IMAGE_DPI = 100  # enough to see the page on a screen; the reader's own resolution is not needed
WIDEST_IMAGE = 4000  # pixels: a page image wider than this helps nobody

Image8 = NDArray[np.uint8]


def duplicate_groups(store: Store) -> list[DuplicateGroup]:
    """Copies of a page read more than once that wait for a person (page_decisions.py).
    Probable photocopies come first: they change the count of responses, a rescan only which
    scan is read."""
    return sorted(stored.duplicate_groups(store), key=lambda g: not g.photocopy)  # stable


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
    _, archived = stored.page_file(store, file_sha256, page_index)
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
    serial = _printed_serial(store, workspace, layout, serial)
    item, archived = stored.page_file(store, file_sha256, page_index)
    stored.check_unidentified(item)  # before the page is read again, which takes a while
    gray = _page_gray(archived, page_index, settings.dpi)
    result = read_keyed_page(gray, PageRef(file_sha256, archived.name, page_index), layouts,
                             PageCode(form_key, serial, page), settings)
    return stored.record_keyed_page(store, result, workspace.crops_dir, reviewer, why)


def mark_not_a_form(store: Store, file_sha256: str, page_index: int, reviewer: str,
                    why: str = "") -> PageItem:
    """A page a person saw is no form page (a letter, a leaflet): it leaves the queue, and
    anything read from it goes."""
    return stored.mark_not_a_form(store, file_sha256, page_index, _reviewer(reviewer), why)


def choose_standing(store: Store, file_sha256: str, page_index: int, reviewer: str,
                    why: str = "") -> DuplicateGroup:
    """This copy of a page counts, every other copy of the same page becomes a duplicate: the
    answers of the dataset are then this page's."""
    return stored.choose_standing(store, file_sha256, page_index, _reviewer(reviewer), why)


def another_response(store: Store, file_sha256: str, page_index: int, reviewer: str,
                     why: str = "") -> list[PageItem]:
    """This second copy of a page, with the rest of its copy in its scan file, is another
    person's response on the serial (a photocopy of the form): it becomes "<serial>-<n>".
    Returns the pages of the new response."""
    return stored.another_response(store, file_sha256, page_index, _reviewer(reviewer), why)


# -- helpers -------------------------------------------------------------------------------------

def _page_gray(archived: ArchivedFile, page_index: int, dpi: int) -> Image8:
    for _, gray in iter_pages(archived, dpi, page_index, page_index):
        return gray
    raise WorkspaceError(f"{archived.name} has no page {page_index} any more: its archived "
                         "copy differs from the one read")


def _printed_serial(store: Store, workspace: Workspace, layout: Layout, serial: str) -> str:
    """The serial as printed (a person may leave off the leading zeros); refused when it is not
    among the copies the layout lists or, for a registered form, the serials issued for it."""
    if not serial:
        raise UsageError("key the copy's serial number, printed beside the page code")
    printed = {c.serial for c in layout.copies}
    issued = serials_issued(workspace, layout.form_key, store)
    if serial.isdigit() and (printed or issued is not None):
        serial = serial.zfill(max((len(s) for s in printed), default=SERIAL_DIGITS))
    known = serial in printed if printed else issued is None or serial in issued
    if not known:
        raise UsageError(f"serial {serial} was not printed for this form ({layout.form_key}): "
                         "check the number on the page")
    return serial


def _reviewer(reviewer: str) -> str:
    if not reviewer.strip():
        raise UsageError("a page decision needs the name of the person who made it")
    return reviewer.strip()
