"""Reading one page: register, identify, read every box. A pure function of the image."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.forms.manifest import FieldBox, Layout
from pipeline.forms.pagecode import PageCode
from pipeline.read.answers import PageIdentity, interpret_page
from pipeline.read.cells import read_cells
from pipeline.read.foreign import foreign_layouts, identify_foreign
from pipeline.read.identify import foreign_barcode, identify
from pipeline.read.refine import refine_box
from pipeline.read.register import Registration, align, find_corner_marks, ink_threshold, register
from pipeline.read.results import BoxResult, PageRef, PageResult
from pipeline.read.text import TextReading, consultation_words, read_text_box
from pipeline.read.tickbox import read_box

Image8 = NDArray[np.uint8]

BLANK_INK_SHARE = 0.0015
CHECK_SERIAL = "page code unreadable: serial read from the printed key, confirm it"
WORKING_SHORT_SIDE = 1600  # pixels (about 195 dpi on A4): finer scans are reduced by a whole factor


@dataclass(frozen=True)
class ReaderSettings:
    dpi: int = 200  # resolution of the frame pages are resampled into
    review_below: float = 0.8  # answers less confident than this go to a person
    ocr_timeout: float = 30.0  # seconds for one tesseract call; past it the field is flagged
    audit_share: float = 0.0  # share of confident answers sent to a person all the same (0-1)
    user_words: tuple[str, ...] = ()  # words for tesseract besides the questionnaire's own

    @property
    def scale(self) -> float:
        return self.dpi / 72.0


class _Laps:
    """Time per stage of reading a page, for the batch's stage breakdown."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + now - self.last
        self.last = now


def read_page(gray: Image8, ref: PageRef, layouts: dict[str, Layout],
              settings: ReaderSettings) -> PageResult:
    laps = _Laps()
    result = _read(gray, ref, layouts, settings, laps)
    laps.lap("read")
    return replace(result, timings=tuple(laps.laps.items()))


def _read(gray: Image8, ref: PageRef, layouts: dict[str, Layout], settings: ReaderSettings,
          laps: _Laps) -> PageResult:
    gray = _working_resolution(gray)
    threshold = ink_threshold(gray)
    if float(np.mean(gray[::4, ::4] < threshold)) < BLANK_INK_SHARE:
        return PageResult(ref, "blank", "no ink beyond noise: the back of a duplex scan?")
    marks = find_corner_marks(gray)
    registration = register(gray, marks)
    laps.lap("register")
    identified = None
    if registration is not None:
        identified = identify(registration.upright, set(layouts), settings.ocr_timeout)
        laps.lap("identify")
    if (identified is None or identified.code is None) and foreign_layouts(layouts):
        # Not one of ours: perhaps a page of a form printed elsewhere and imported.
        foreign = identify_foreign(gray, foreign_layouts(layouts))
        laps.lap("identify")
        if foreign is not None:
            if foreign.registration is None:
                return PageResult(ref, "unreadable", foreign.problem,
                                  form_key=foreign.layout.form_key, page=foreign.page)
            return _read_fields(foreign.registration, foreign.layout,
                                PageCode(foreign.layout.form_key, "", foreign.page), "code", ref,
                                settings)
    if registration is None or identified is None:
        foreign_code = foreign_barcode(gray)
        if foreign_code is not None:
            return PageResult(ref, "unknown_form", f"not a papertwin page: barcode {foreign_code}")
        found = marks.found
        if found:
            return PageResult(ref, "unreadable",
                              f"only {found} of 4 corner marks found: damaged or cut off")
        return PageResult(ref, "not_a_form", "no corner marks and no page code: an enclosed "
                                             "letter or another document, kept for a person")
    code = identified.code
    if code is None:
        return PageResult(ref, "unreadable", identified.problem, rotation=registration.rotation)
    layout = layouts.get(code.form_key)
    if layout is None:
        return PageResult(ref, "unknown_form", f"form {code.form_key} is not registered here",
                          form_key=code.form_key, serial=code.serial, page=code.page,
                          rotation=registration.rotation)
    if code.page not in {p.page for p in layout.pages}:
        return PageResult(ref, "unreadable", f"form {code.form_key} has no page {code.page}",
                          form_key=code.form_key, serial=code.serial, page=code.page)
    return _read_fields(registration, layout, code, identified.source, ref, settings)


def _read_fields(registration: Registration, layout: Layout, code: PageCode, source: str,
                 ref: PageRef, settings: ReaderSettings) -> PageResult:
    """Every box of an identified, registered page."""
    page_layout = layout.page_layout(code.page)
    aligned = align(registration, page_layout, settings.scale, layout.page_size)
    threshold = ink_threshold(aligned.image)
    ink = (aligned.image < threshold).astype(np.uint8)
    boxes: list[BoxResult] = []
    texts: dict[str, TextReading] = {}
    cells: dict[str, list[FieldBox]] = {}
    largest_shift = 0.0
    for field in page_layout.fields:
        if field.kind in ("choice", "char"):
            refined, shift = refine_box(ink, field.box, aligned.scale)
            largest_shift = max(largest_shift, shift)
            field = replace(field, box=refined)
        if field.kind == "choice" and field.value is not None:
            reading = read_box(aligned.image, field.box, aligned.scale, threshold)
            boxes.append(BoxResult(field.question, field.value, reading.state, reading.fill,
                                   reading.confidence, reading.surround, reading.faint))
        elif field.kind == "text":
            texts[field.question] = read_text_box(aligned.image, field.box, aligned.scale,
                                                  threshold, settings.ocr_timeout,
                                                  consultation_words(layout.questionnaire,
                                                                     settings.user_words))
        elif field.kind == "char":
            cells.setdefault(field.question, []).append(field)
    for name, group in cells.items():
        texts[name] = read_cells(aligned.image, group, layout.questionnaire.question(name),
                                 aligned.scale, threshold, settings.ocr_timeout)
    answers = interpret_page(layout.questionnaire, page_layout, boxes, texts,
                             settings.review_below, encode_png, settings.audit_share,
                             PageIdentity(code.form_key, code.serial, code.page))
    if source == "printed key":
        # The serial came from OCR of small print: a person confirms whose answers these are.
        answers = [replace(a, needs_review=True,
                           reason="; ".join(r for r in (a.reason, CHECK_SERIAL) if r))
                   for a in answers]
    notes = [] if source == "code" else [f"identified by its {source}"]
    if aligned.marks_used < 4:
        notes.append(f"registered on {aligned.marks_used} corner marks")
    return PageResult(
        ref, "identified", "; ".join(notes), form_key=code.form_key, serial=code.serial,
        page=code.page, rotation=registration.rotation,
        # Boxes a point off are normal after a page-wide fit; more means a stretched sheet.
        alignment_quality=aligned.quality * max(0.0, 1.0 - max(0.0, largest_shift - 1.0) / 6.0),
        boxes=tuple(boxes), answers=tuple(answers),
    )


def _working_resolution(gray: Image8) -> Image8:
    """Scans finer than the reader needs are reduced first: 600 dpi costs 9 times 200 dpi."""
    short = min(gray.shape[:2])
    factor = int(short // WORKING_SHORT_SIDE)
    if factor < 2:
        return gray
    return np.asarray(cv2.resize(gray, None, fx=1 / factor, fy=1 / factor,
                                 interpolation=cv2.INTER_AREA), dtype=np.uint8)


def encode_png(image: Image8) -> bytes:
    ok, data = cv2.imencode(".png", image)
    return bytes(data.tobytes()) if ok else b""
