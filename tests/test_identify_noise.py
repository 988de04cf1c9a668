"""Identification and registration of pages a dirty photocopier, scanner glass or fax has marked:
specks on the code, a code destroyed, streaks through a mark, a corner lost, a page upside down.

The damage is drawn here, deterministically, on pages of the project's own built form."""

from __future__ import annotations

from pathlib import Path

import cv2
import img2pdf
import numpy as np
import pytest

from pipeline.forms.build import BuiltForm
from pipeline.ingest.batch import join_chunks, neighbour_codes, plan_batch, read_chunk
from pipeline.programs.poppler import rasterise_page
from pipeline.publish import build_forms
from pipeline.read.identify import CODE_REGION, _decode, _region
from pipeline.read.page import (
    CHECK_NEIGHBOURS,
    CHECK_SERIAL,
    ReaderSettings,
    read_keyed_page,
    read_page,
)
from pipeline.read.register import find_corner_marks, find_marks_by_shape
from pipeline.read.serial_label import SERIAL_LABEL_PT, _read_by_glyphs, read_serial_label
from pipeline.records import Box, Layout, PageCode, PageRef, PageResult
from pipeline.workspace import Workspace

PROJECT = Path(__file__).resolve().parents[1]
REF = PageRef("0" * 64, "batch.pdf", 1)
DPI = 200
SCALE = DPI / 72


def _pixels(box: Box) -> tuple[int, int, int, int]:
    return tuple(round(v * SCALE) for v in box)  # type: ignore[return-value]


def _printed(form: BuiltForm, copy: int, page: int) -> np.ndarray:
    """Page `page` (from 1) of copy `copy` (from 0) as printed, scanned at 200 dpi."""
    return rasterise_page(form.pdf_path, copy * len(form.layout.pages) + page, DPI)


def _speckle(image: np.ndarray, box: tuple[int, int, int, int], share: float,
             rng: np.random.Generator) -> np.ndarray:
    """Salt and pepper: a share of the box's pixels turned black, as many turned white."""
    out = image.copy()
    x0, y0, x1, y1 = box
    patch = out[y0:y1, x0:x1]
    noise = rng.random(patch.shape)
    patch[noise < share] = 0
    patch[noise > 1 - share] = 255
    return out


def _layouts(form: BuiltForm) -> dict[str, Layout]:
    return {form.layout.form_key: form.layout}


@pytest.fixture(scope="module")
def form(built: tuple[Workspace, BuiltForm]) -> BuiltForm:
    return built[1]


def test_a_speckled_code_is_read_from_a_cleaned_copy(form: BuiltForm) -> None:
    page = _printed(form, 1, 1)
    box = _pixels(form.layout.page_layout(1).barcode)
    speckled = _speckle(page, box, 0.12, np.random.default_rng(3))
    assert _decode(_region(speckled, CODE_REGION)) is None  # the code as scanned does not read
    result = read_page(speckled, REF, _layouts(form), ReaderSettings())
    assert result.outcome == "identified"
    assert (result.serial, result.page) == ("000002", 1)
    assert result.reason == "identified by its cleaned code"


@pytest.mark.slow
def test_a_destroyed_code_is_identified_by_the_printed_key(form: BuiltForm) -> None:
    page = _printed(form, 2, 2)
    x0, y0, x1, y1 = _pixels(form.layout.page_layout(2).barcode)
    page[y0 + 8 : y1 - 8, x0 + 8 : x1 - 8] = 0  # a blot over the code, the key below left clear
    result = read_page(page, REF, _layouts(form), ReaderSettings())
    assert result.outcome == "identified"
    assert (result.form_key, result.serial, result.page) == (form.layout.form_key, "000003", 2)
    # The bold serial beside the code reads the same: two readings agree, no one need confirm.
    assert result.reason == "identified by its printed key and printed serial"
    assert not any(CHECK_SERIAL in a.reason for a in result.answers)
    # With that serial blotted too, the key alone names the page, and a person confirms it.
    page[y0 - 4 : y0 + 36, x0 - 120 : x0 - 2] = 0
    result = read_page(page, REF, _layouts(form), ReaderSettings())
    assert (result.outcome, result.serial, result.page) == ("identified", "000003", 2)
    assert result.reason == "identified by its printed key"
    assert result.answers and all(CHECK_SERIAL in a.reason and a.needs_review
                                  for a in result.answers)


def _streaked(page: np.ndarray, form: BuiltForm, rng: np.random.Generator) -> np.ndarray:
    """A drum streak down through the top-right mark, and specks and blots near every corner."""
    out = page.copy()
    marks = form.layout.page_layout(1).marks
    x0, _, x1, _ = _pixels(marks[1].box)
    out[:, (x0 + x1) // 2 - 2 : (x0 + x1) // 2 + 2] = 0
    height, width = out.shape
    for cx, cy in ((0, 0), (width, 0), (0, height), (width, height)):
        for _ in range(60):
            x = int(np.clip(cx + rng.normal(0, 120), 0, width - 8))
            y = int(np.clip(cy + rng.normal(0, 120), 0, height - 8))
            size = int(rng.integers(2, 7))
            out[y : y + size, x : x + size] = 0
    return out


def test_marks_are_found_through_a_streak_and_among_specks(form: BuiltForm) -> None:
    page = _printed(form, 0, 1)
    clean = find_corner_marks(page)
    damaged = _streaked(page, form, np.random.default_rng(5))
    found = find_marks_by_shape(damaged)
    assert found.solid == (True, False, False, False)
    for expected, got in zip(clean.centres, found.centres, strict=True):
        assert expected is not None and got is not None
        assert abs(expected[0] - got[0]) < 1.5 and abs(expected[1] - got[1]) < 1.5
    result = read_page(damaged, REF, _layouts(form), ReaderSettings())
    assert result.outcome == "identified"
    assert (result.serial, result.page, result.rotation) == ("000001", 1, 0)
    assert result.alignment_quality > 0.9


def test_three_good_marks_and_a_code_register_upside_down_too(form: BuiltForm) -> None:
    page = _streaked(_printed(form, 0, 2), form, np.random.default_rng(9))
    x0, y0, x1, y1 = _pixels(form.layout.page_layout(2).marks[3].box)
    page[y0 - 4 : y1 + 4, x0 - 4 : x1 + 4] = 0  # the bottom-right mark lost under a blot
    for turns, rotation in ((0, 0), (2, 180)):
        scan = np.ascontiguousarray(np.rot90(page, turns))
        result = read_page(scan, REF, _layouts(form), ReaderSettings())
        assert result.outcome == "identified"
        assert (result.serial, result.page, result.rotation) == ("000001", 2, rotation)
        assert "registered on 3 corner marks" in result.reason


def _result(index: int, outcome: str, serial: str = "", page: int = 0,
            form_key: str = "", reason: str = "") -> PageResult:
    return PageResult(PageRef("0" * 64, "f.pdf", index), outcome,  # type: ignore[arg-type]
                      reason, form_key=form_key, serial=serial, page=page)


def test_pages_beside_an_unread_page_name_it_only_when_one_answer_fits(form: BuiltForm) -> None:
    key = form.layout.form_key  # two pages a copy
    unread = "page code unreadable: key the serial and page by hand"

    def codes(*pages: tuple[str, str, int]) -> dict[int, PageCode]:
        results = [_result(i + 1, outcome, serial, page, key if serial else "",
                           unread if outcome == "unreadable" else "")
                   for i, (outcome, serial, page) in enumerate(pages)]
        return neighbour_codes(results, _layouts(form))

    ok, lost, blank = "identified", "unreadable", "blank"
    # 1 ? (next copy's 1): the first copy's page 2
    assert codes((ok, "000001", 1), (lost, "", 0), (ok, "000002", 1)) == {
        1: PageCode(key, "000001", 2)}
    # (last copy's 2) ? 2: the next copy's page 1, a duplex blank between not counted
    assert codes((ok, "000001", 2), (blank, "", 0), (lost, "", 0), (ok, "000002", 2)) == {
        2: PageCode(key, "000002", 1)}
    # 1 ? 2 of another copy: either could be missing a page
    assert codes((ok, "000001", 1), (lost, "", 0), (ok, "000002", 2)) == {}
    # 1 ? 2 of the same copy: no room for a page between
    assert codes((ok, "000001", 1), (lost, "", 0), (ok, "000001", 2)) == {}
    # a page the file already holds is not given twice
    assert codes((ok, "000001", 1), (lost, "", 0), (ok, "000001", 2), (ok, "000001", 2)) == {}
    # 1 ? ? 2 of another copy: the first copy's page 2 and the next one's page 1, as no other
    # pages fit (seen on a folded mailroom copy: the last two pages of one copy and the first
    # two of the next unread, between pages of each)
    assert codes((ok, "000001", 1), (lost, "", 0), (lost, "", 0), (ok, "000002", 2)) == {
        1: PageCode(key, "000001", 2), 2: PageCode(key, "000002", 1)}
    # 1 ? ? ? 2 of another copy: one page too many for that, so nothing fits for sure
    assert codes((ok, "000001", 1), (lost, "", 0), (lost, "", 0), (lost, "", 0),
                 (ok, "000002", 2)) == {}
    # a page unreadable for another reason (its marks not found) is left alone
    assert neighbour_codes([_result(1, ok, "000001", 1, key),
                            _result(2, lost, reason="only 2 of 4 corner marks found"),
                            _result(3, ok, "000002", 1, key)], _layouts(form)) == {}


def _joined(pages: list[np.ndarray], workspace: Workspace,
            first_look: list[str]) -> tuple[PageResult, ...]:
    """Scanned pages ingested as one file, each read first as `first_look` says (outcomes):
    the pages once the file's pages are joined."""
    path = workspace.root / f"{len(pages)}-pages.pdf"
    encoded = [cv2.imencode(".png", p)[1].tobytes() for p in pages]
    path.write_bytes(img2pdf.convert(encoded, layout_fun=img2pdf.get_fixed_dpi_layout_fun(
        (DPI, DPI))))
    plan = plan_batch([path], workspace)
    settings = ReaderSettings()
    readings = [read_chunk(c, plan.layouts, settings) for c in plan.chunks]
    assert [p.outcome for r in readings for p in r.pages] == first_look
    return join_chunks(readings, plan.layouts, settings).pages


def _middle_page_joined(pages: list[np.ndarray], workspace: Workspace) -> PageResult:
    """Three scanned pages ingested as one file, the middle one unread: that page once the
    file's pages are joined."""
    return _joined(pages, workspace, ["identified", "unreadable", "identified"])[1]


@pytest.mark.slow
def test_an_unreadable_middle_page_is_identified_by_its_neighbours(
        built: tuple[Workspace, BuiltForm], tmp_path: object) -> None:
    workspace, form = built
    pages = [_printed(form, 3, 1), _printed(form, 3, 2), _printed(form, 4, 1)]
    x0, y0, x1, _ = _pixels(form.layout.page_layout(2).barcode)
    pages[1][y0 - 20 : y0 + round((x1 - x0) * 1.6), x0 - 350 : x1 + 10] = 0  # code and key gone
    middle = _middle_page_joined(pages, workspace)
    assert (middle.outcome, middle.serial, middle.page) == ("identified", "000004", 2)
    assert middle.reason == "identified by its neighbours"
    assert middle.answers and all(CHECK_NEIGHBOURS in a.reason and a.needs_review
                                  for a in middle.answers)


@pytest.mark.slow
def test_an_unreadable_page_between_two_pages_of_its_copy_needs_no_confirming(
        tmp_path: Path) -> None:
    """Pages 1 and 3 of one copy on either side: two readings agree on whose page 2 is. With a
    page of the copy read on one side only, the other side is open to a page out of place (the
    test above), and a person confirms."""
    workspace = Workspace.resolve(tmp_path / "ws")
    form = build_forms(PROJECT / "form_templates" / "town_centre.yaml", 2, tmp_path / "form",
                       workspace)
    pages = [_printed(form, 1, 1), _printed(form, 1, 2), _printed(form, 1, 3)]
    x0, y0, x1, _ = _pixels(form.layout.page_layout(2).barcode)
    pages[1][y0 - 20 : y0 + round((x1 - x0) * 1.6), x0 - 350 : x1 + 10] = 255  # torn off
    middle = _middle_page_joined(pages, workspace)
    assert (middle.outcome, middle.serial, middle.page) == ("identified", "000002", 2)
    assert middle.reason == "identified by its pages either side"
    assert middle.answers and not any(a.needs_review for a in middle.answers)
    # the bold serial beside the code left legible, and another copy's: a person decides
    left, right, top, bottom = SERIAL_LABEL_PT
    bx, by = form.layout.page_layout(2).barcode[:2]
    label = (slice(round((by - top) * SCALE), round((by + bottom) * SCALE)),
             slice(round((bx - left) * SCALE), round((bx - right) * SCALE)))
    pages[1][label] = _printed(form, 0, 2)[label]
    other = read_keyed_page(pages[1], REF, _layouts(form),
                            PageCode(form.layout.form_key, "000002", 2), ReaderSettings(),
                            source="pages either side")
    assert other.reason == "identified by its neighbours"
    assert all(CHECK_NEIGHBOURS in a.reason and a.needs_review for a in other.answers)


@pytest.mark.slow
def test_a_page_between_a_read_page_and_one_its_bold_serial_confirmed_needs_no_confirming(
        tmp_path: Path) -> None:
    """Pages 2 and 3 of a copy unread, between its page 1 and the next copy: both are named by
    the page before them. Page 3's bold serial confirms it, so page 2 lies between two known
    pages of its copy, as if both had been read (a fold across two pages of one return)."""
    workspace = Workspace.resolve(tmp_path / "ws")
    form = build_forms(PROJECT / "form_templates" / "town_centre.yaml", 2, tmp_path / "form",
                       workspace)
    pages = [_printed(form, 0, 1), _printed(form, 0, 2), _printed(form, 0, 3),
             _printed(form, 1, 1)]
    left, right, top, bottom = SERIAL_LABEL_PT
    for page in (2, 3):
        x0, y0, x1, _ = _pixels(form.layout.page_layout(page).barcode)
        printed = pages[page - 1].copy()
        pages[page - 1][y0 - 20 : y0 + round((x1 - x0) * 1.6), x0 - 350 : x1 + 10] = 255
        if page == 3:  # torn off round its bold serial, which stays
            bx, by = form.layout.page_layout(page).barcode[:2]
            label = (slice(round((by - top) * SCALE), round((by + bottom) * SCALE)),
                     slice(round((bx - left) * SCALE), round((bx - right) * SCALE)))
            pages[page - 1][label] = printed[label]
    joined = _joined(pages, workspace, ["identified", "unreadable", "unreadable", "identified"])
    assert [(p.serial, p.page) for p in joined] == [("000001", 1), ("000001", 2),
                                                     ("000001", 3), ("000002", 1)]
    assert joined[2].reason == "identified by its neighbours and printed serial"
    assert joined[1].reason == "identified by its pages either side"
    assert joined[1].answers and not any(a.needs_review for a in joined[1].answers)


def _label_region(form: BuiltForm, page: int) -> tuple[slice, slice]:
    """The bold serial's digits and a few points around them, in pixels."""
    bx, by = form.layout.page_layout(page).barcode[:2]
    return (slice(round((by - 4) * SCALE), round((by + 14) * SCALE)),
            slice(round((bx - 40) * SCALE), round((bx - 1) * SCALE)))


def test_the_bold_serial_is_read_by_its_own_glyphs_bitonal_and_bent_by_a_fold(
        form: BuiltForm) -> None:
    """The label's digits at 200 dpi, bitonal; and bent as a fold bends a line of print, each
    digit lower than the one before, 5.5 pt over the serial (as on folded returns of the
    degraded corpus): tesseract reads that one as 900005."""
    barcode = form.layout.page_layout(2).barcode
    bitonal = np.where(_printed(form, 1, 2) < 128, 0, 255).astype(np.uint8)
    assert read_serial_label(bitonal, barcode, SCALE, 10.0) == "000002"
    rows, cols = _label_region(form, 2)
    patch = bitonal[rows, cols]
    height, width = patch.shape
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    drop = 5.5 * SCALE * (xs / width) ** 2
    bent = bitonal.copy()
    bent[rows, cols] = cv2.remap(patch, xs, ys - drop, cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    assert read_serial_label(bent, barcode, SCALE, 10.0) == "000002"


def test_a_serial_label_under_toner_is_not_guessed_from_glyphs(form: BuiltForm) -> None:
    """Toner over two of the digits: no glyph matches them clearly, so the glyphs name no
    serial (tesseract then has its try), rather than the likeliest one."""
    page = _printed(form, 1, 2)
    barcode = form.layout.page_layout(2).barcode
    bx, by = barcode[:2]
    centre = (round((bx - 14) * SCALE), round((by + 4.5) * SCALE))
    cv2.ellipse(page, centre, (round(5 * SCALE), round(4 * SCALE)), 20, 0, 360, 0, -1)
    assert _read_by_glyphs(page, barcode, SCALE) == ""
    assert read_serial_label(page, barcode, SCALE, 10.0) in ("", "000002")
