"""Reading one page: register, identify, read every box. A pure function of the image."""

from __future__ import annotations

import time
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.errors import InputFileError, ProgramFailedError, UsageError
from pipeline.read.answers import (
    AMONG_SPECKLE,
    AMONG_SPECKLE_NOTE,
    PEN_SPREAD,
    PageIdentity,
    interpret_page,
    pen_marks_only,
    pen_tone,
)
from pipeline.read.cells import read_cells
from pipeline.read.foreign import foreign_layouts, identify_foreign
from pipeline.read.identify import (
    UNREADABLE_CODE,
    Identification,
    IssuedSerials,
    foreign_barcode,
    identify,
    read_cleaned,
)
from pipeline.read.letter import LETTER_REASON, letter_text
from pipeline.read.refine import SQUARE, Ink, find_slant, refine_box, squared
from pipeline.read.register import (
    Aligned,
    Registration,
    align,
    find_corner_marks,
    fits_rectangle,
    ink_threshold,
    register,
    register_by_shape,
)
from pipeline.read.serial_label import read_serial_label
from pipeline.read.text import TextReading, consultation_words, read_text_box
from pipeline.read.tickbox import (
    BLACK_PEN,
    NOISY_CONFIDENCE,
    PAGE_NOISE,
    POROUS_CONFIDENCE,
    STROKE_CONFIDENCE,
    TONER_PALER,
    BoxInk,
    classify_box,
    measure_box,
    page_noise,
    reread_at_pen,
    stroke_runs_through,
)
from pipeline.records import (
    Answer,
    Box,
    BoxResult,
    FieldBox,
    Layout,
    PageCode,
    PageLayout,
    PageRef,
    PageResult,
)

Image8 = NDArray[np.uint8]

BLANK_INK_SHARE = 0.0015
CHECK_SERIAL = "page code unreadable: serial read from the printed key, confirm it"
CHECK_NEIGHBOURS = ("page code unreadable: serial and page taken from the pages beside it in "
                    "the scan, confirm them")
WORKING_SHORT_SIDE = 1600  # pixels (about 195 dpi on A4): finer scans are reduced by a whole factor
# A flagged answer's crop shows its question in context: the boxes, the wording printed above
# them, the page's width between its printed margins (points). Labels print beside the boxes,
# so the fields' own extent is not enough.
CONTEXT_MARGIN = 12.0
PAGE_MARGIN = 28.0
CONTEXT_ABOVE = 34.0
CONTEXT_BELOW = 6.0


@dataclass(frozen=True)
class ReaderSettings:
    dpi: int = 200  # resolution of the frame pages are resampled into
    review_below: float = 0.8  # answers less confident than this go to a person
    ocr_timeout: float = 30.0  # seconds for one tesseract call; past it the field is flagged
    audit_share: float = 0.0  # share of confident answers sent to a person all the same (0-1)
    user_words: tuple[str, ...] = ()  # words for tesseract besides the questionnaire's own

    @property
    def scale(self) -> float:
        """Pixels per PDF point in the frame pages are read in."""
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
    """Read one grey page image against the registered layouts (by form key): its outcome (blank,
    identified, unreadable, ...), and once identified every box and answer, with the seconds each
    stage took. A page that cannot be read comes back with that outcome and its reason."""
    laps = _Laps()
    result = _read(gray, ref, layouts, settings, laps)
    laps.lap("read")
    return replace(result, timings=tuple(laps.laps.items()))


def read_keyed_page(gray: Image8, ref: PageRef, layouts: dict[str, Layout], code: PageCode,
                    settings: ReaderSettings, source: str = "keyed") -> PageResult:
    """Read the boxes of a page whose code could not be read, as the form, copy and page a
    person keyed from the paper (or, source "neighbours" or "pages either side", that the pages
    beside it say)."""
    layout = layouts.get(code.form_key)
    if layout is None:
        raise UsageError(f"form {code.form_key} is not registered here: check the form key "
                         "printed on the page")
    if code.page not in {p.page for p in layout.pages}:
        raise UsageError(f"form {code.form_key} has no page {code.page}: its pages are "
                         f"{', '.join(str(p.page) for p in layout.pages)}")
    gray = _working_resolution(gray)
    registration = register(gray, find_corner_marks(gray))
    if registration is None or not fits_rectangle(registration.marks,
                                                  registration.upright.shape[:2]):
        registration = register_by_shape(gray) or registration
    if registration is None:
        raise InputFileError(f"{ref.name} p{ref.index}: the corner marks could not be found, so "
                             "the boxes cannot be read: rescan the page, or mark it not a form")
    return _read_fields(registration, layout, code, source, ref, settings)


def _read(gray: Image8, ref: PageRef, layouts: dict[str, Layout], settings: ReaderSettings,
          laps: _Laps) -> PageResult:
    gray = _working_resolution(gray)
    threshold = ink_threshold(gray)
    if float(np.mean(gray[::4, ::4] < threshold)) < BLANK_INK_SHARE:
        return PageResult(ref, "blank", "no ink beyond noise: the back of a duplex scan?")
    marks = find_corner_marks(gray)
    registration = register(gray, marks)
    if registration is not None and not fits_rectangle(registration.marks,
                                                       registration.upright.shape[:2]):
        # A speck or a streak taken for a mark: found again by shape below.
        registration = None
    laps.lap("register")
    identified = None
    serials = IssuedSerials(layouts)
    if registration is not None:
        identified = identify(registration.upright, set(layouts), settings.ocr_timeout, serials,
                              registration.marks)
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
    if identified is None or identified.code is None:
        recovered = _recover(gray, registration, identified, layouts, settings, serials)
        laps.lap("recover")
        if recovered is not None:
            registration, identified = recovered
    if registration is None or identified is None:
        foreign_code = foreign_barcode(gray)
        if foreign_code is not None:
            return PageResult(ref, "unknown_form", f"not a papertwin page: barcode {foreign_code}")
        found = marks.found
        if found >= 3:
            # As many marks as registration needs, but not where the page's rectangle puts
            # them, or more than one solid: a speck or a blot taken for a mark.
            return PageResult(ref, "unreadable",
                              f"{found} corner marks found, but they do not fit the printed "
                              "page: specks or blots near the corners? rescan the page")
        if found:
            return PageResult(ref, "unreadable",
                              f"only {found} of 4 corner marks found: damaged or cut off")
        if _is_letter(gray, settings):
            return PageResult(ref, "not_a_form", LETTER_REASON)
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


def _is_letter(gray: Image8, settings: ReaderSettings) -> bool:
    """A page of running text (read/letter.py); one tesseract cannot read stays for a person."""
    try:
        return letter_text(gray, settings.ocr_timeout) is not None
    except ProgramFailedError:
        return False


def _recover(gray: Image8, registration: Registration | None, identified: Identification | None,
             layouts: dict[str, Layout], settings: ReaderSettings,
             serials: IssuedSerials) -> tuple[Registration, Identification] | None:
    """A page the first look could not register or identify (specks, streaks, a fax): the
    marks found by their shape and the page's rectangle, the code read from cleaned copies,
    the printed key read by OCR. Runs only when the first look failed, so clean pages cost no
    more. None when nothing better was found."""
    known = set(layouts)
    if registration is None:
        registration = register_by_shape(gray)
        if registration is not None:
            identified = identify(registration.upright, known, settings.ocr_timeout, serials,
                                  registration.marks)
            if identified.code is not None:
                return registration, identified
    # The page code, read anywhere on the page, also says which way up the page is: a streak
    # across the solid mark cannot turn the page over.
    sighting = read_cleaned(gray)
    if sighting is not None and sighting.code.form_key in known:
        turned = register_by_shape(gray, sighting.turns)
        if turned is not None:
            return turned, Identification(sighting.code, "cleaned code")
    if registration is None or identified is None:
        return None
    return registration, identified


def _read_fields(registration: Registration, layout: Layout, code: PageCode, source: str,
                 ref: PageRef, settings: ReaderSettings) -> PageResult:
    """Every box of an identified, registered page."""
    page_layout = layout.page_layout(code.page)
    aligned = align(registration, page_layout, settings.scale, layout.page_size)
    if source in ("printed key", "neighbours", "pages either side"):
        # The bold serial beside the code, larger than the key's print, settles or confirms
        # the serial these sources give.
        label = read_serial_label(aligned.image, page_layout.barcode, aligned.scale,
                                  settings.ocr_timeout)
        issued = {c.serial for c in layout.copies}
        if label and label == code.serial:
            source = f"{source} and printed serial"
        elif label in issued and source == "pages either side":
            # The printed serial names another copy: a person decides. (One that is no serial
            # issued is a misreading, and says nothing.)
            source = "neighbours"
        elif not code.serial:
            if not label or (issued and label not in issued):
                return PageResult(ref, "unreadable", UNREADABLE_CODE,
                                  form_key=code.form_key, page=code.page,
                                  rotation=registration.rotation)
            code = replace(code, serial=label)
    threshold = ink_threshold(aligned.image)
    ink = (aligned.image < threshold).astype(np.uint8)
    boxes: list[BoxResult] = []
    texts: dict[str, TextReading] = {}
    cells: dict[str, list[FieldBox]] = {}
    largest_shift = 0.0
    measured: list[tuple[FieldBox, BoxInk]] = []
    writing: list[FieldBox] = []
    for field in page_layout.fields:
        fit = 1.0
        printed = field.box
        if field.kind in ("choice", "char"):
            refined, shift, fit = refine_box(ink, field.box, aligned.scale,
                                             look_further=field.kind == "choice")
            largest_shift = max(largest_shift, shift)
            field = replace(field, box=refined)
        if field.kind == "choice" and field.value is not None:
            measured.append((field, measure_choice(aligned.image, ink, field.box, printed,
                                                    aligned.scale, threshold, fit)))
        elif field.kind == "text":
            writing.append(field)
        elif field.kind == "char":
            cells.setdefault(field.question, []).append(field)
    # Every box is measured before any is read: the page's own speckle, learnt from all its
    # boxes, is what a mark must stand out from.
    noise = page_noise([m for _, m in measured])
    strokes: set[int] = set()  # boxes marked for a stroke across them, not the ink in them
    for field, box_ink in measured:
        reading = classify_box(box_ink, noise)
        if reading.state == "empty" and reading.confidence < settings.review_below \
                and not reading.noisy and not box_ink.askew \
                and stroke_runs_through(aligned.image, field.box, aligned.scale, threshold):
            reading = replace(reading, state="marked", confidence=STROKE_CONFIDENCE, stroke=True)
        if reading.stroke and reading.state == "marked":
            strokes.add(len(boxes))
        boxes.append(BoxResult(field.question, field.value or "", reading.state, reading.fill,
                               reading.confidence, reading.surround, reading.faint,
                               reading.noisy, reading.edge, reading.tone))
    # The respondent's ticks say how dark their pen is: writing is read against it, and so are
    # boxes left unsure in speckle.
    pen = pen_tone(boxes, settings.review_below)
    if pen is not None:
        boxes = _reread_at_pen(boxes, [m for _, m in measured], pen, settings.review_below)
        boxes = pale_strokes_undone(boxes, strokes, pen)
    words = consultation_words(layout.questionnaire, settings.user_words)
    for field in writing:
        texts[field.question] = read_text_box(aligned.image, field.box, aligned.scale, threshold,
                                              settings.ocr_timeout, words, pen)
    for name, group in cells.items():
        texts[name] = read_cells(aligned.image, group, layout.questionnaire.question(name),
                                 aligned.scale, threshold, settings.ocr_timeout)
    answers = interpret_page(layout.questionnaire, page_layout, boxes, texts,
                             settings.review_below, encode_png, settings.audit_share,
                             PageIdentity(code.form_key, code.serial, code.page))
    # Where two readings agree (the key or the pages beside it, and the serial printed in
    # bold; or pages of the same copy on both sides), whose page this is, is known; otherwise
    # a person confirms it.
    check = {"printed key": CHECK_SERIAL, "neighbours": CHECK_NEIGHBOURS}.get(source)
    if check is not None:
        # The serial came from OCR of small print, or from the pages beside this one: a person
        # confirms whose answers these are.
        answers = [replace(a, needs_review=True,
                           reason="; ".join(r for r in (a.reason, check) if r))
                   for a in answers]
    answers = [_with_context(a, aligned, page_layout, layout.page_size[0]) if a.needs_review
               else a for a in answers]
    notes = ([] if source == "code" else ["identified by hand"] if source == "keyed"
             else [f"identified by its {source}"])
    if aligned.marks_used < 4:
        notes.append(f"registered on {aligned.marks_used} corner marks")
    if noise.level >= PAGE_NOISE:
        notes.append(f"{'heavy ' if noise.heavy else ''}speckle or streaks on the scan "
                     f"({noise.level:.0%} of a box's area): boxes read against it")
    among = sum(a.reason.startswith(AMONG_SPECKLE_NOTE) for a in answers)
    if among:
        notes.append(f"{among} {'answer' if among == 1 else 'answers'} read among speckle, "
                     f"at confidence {AMONG_SPECKLE}")
    return PageResult(
        ref, "identified", "; ".join(notes), form_key=code.form_key, serial=code.serial,
        page=code.page, rotation=registration.rotation,
        # Boxes a point off are normal after a page-wide fit; more means a stretched sheet.
        alignment_quality=aligned.quality * max(0.0, 1.0 - max(0.0, largest_shift - 1.0) / 6.0),
        boxes=tuple(boxes), answers=tuple(answers),
    )


def pale_strokes_undone(boxes: Sequence[BoxResult], strokes: AbstractSet[int],
                        pen: float) -> list[BoxResult]:
    """The boxes, those marked for a stroke across them rather than the ink in them (`strokes`:
    their indexes) made unsure where the stroke may be a line of toner rather than the
    respondent's tick: on a page with speckle (a box read through it) unless its ink is as dark
    as the pen (within PEN_SPREAD), and always on a bitonal scan of such a page, where toner and
    pen are both black; on a quiet page, where it is as pale as toner beside the pen
    (TONER_PALER). On the two mailroom corpora such strokes on pages with speckle were toner 12
    times in 13. An unsure box in speckle is then read as any other: set aside as toner when
    paler than the pen, or sent to a person."""
    speckled = any(box.noisy for box in boxes)

    def toner(box: BoxResult) -> bool:
        if pen < BLACK_PEN:
            return speckled
        return box.tone > pen + (PEN_SPREAD if speckled else TONER_PALER)

    return [replace(box, confidence=min(box.confidence, POROUS_CONFIDENCE),
                    noisy=box.noisy or speckled)
            if i in strokes and toner(box) else box for i, box in enumerate(boxes)]


def _reread_at_pen(boxes: list[BoxResult], inks: list[BoxInk], pen: float,
                   review_below: float) -> list[BoxResult]:
    """The boxes, those left unsure in speckle read again at the respondent's pen's shade."""
    if not any(box.noisy and box.confidence < review_below for box in boxes):
        return boxes  # most pages
    by_question: dict[str, list[BoxResult]] = {}
    for box in boxes:
        by_question.setdefault(box.question, []).append(box)
    pens_only = {question: pen_marks_only(own, pen, review_below)
                 for question, own in by_question.items()}
    reread = []
    for box, box_ink in zip(boxes, inks, strict=True):
        if box.noisy and box.confidence < review_below:
            state = reread_at_pen(box_ink, box.tone, pen, pens_only[box.question])
            if state is not None:
                box = replace(box, state=state, confidence=NOISY_CONFIDENCE)
        reread.append(box)
    return reread


def measure_choice(image: Image8, ink: Ink, box: Box, printed: Box, scale: float,
                    threshold: int, fit: float) -> BoxInk:
    """A box's ink, measured square on its outline: where no square fits it (a fold slants it),
    in the paper around it unslanted."""
    if fit < SQUARE:
        slant = find_slant(ink, printed, scale)
        if slant is not None and slant.fit >= SQUARE and slant.fit > fit:
            patch, square = squared(image, printed, scale, slant)
            return measure_box(patch, square, scale, threshold)
    return measure_box(image, box, scale, threshold, askew=fit < SQUARE)


def _with_context(answer: Answer, aligned: Aligned, page: PageLayout,
                  page_width: float) -> Answer:
    """A flagged answer's crop: its boxes with the question's wording above them, across the
    page between its margins, so a person sees what was asked and what was marked."""
    own = [f.box for f in page.fields if f.question == answer.question]
    if not own:
        return answer
    left = min(PAGE_MARGIN, min(f.box[0] for f in page.fields) - CONTEXT_MARGIN)
    right = max(page_width - PAGE_MARGIN, max(f.box[2] for f in page.fields) + CONTEXT_MARGIN)
    top = min(b[1] for b in own) - CONTEXT_ABOVE
    bottom = max(b[3] for b in own) + CONTEXT_BELOW
    height, width = aligned.image.shape[:2]
    x0, x1 = max(0, int(left * aligned.scale)), min(width, int(np.ceil(right * aligned.scale)))
    y0, y1 = max(0, int(top * aligned.scale)), min(height, int(np.ceil(bottom * aligned.scale)))
    if x1 <= x0 or y1 <= y0:
        return answer
    crop = encode_png(np.ascontiguousarray(aligned.image[y0:y1, x0:x1]))
    return replace(answer, crop_png=crop or answer.crop_png)


def _working_resolution(gray: Image8) -> Image8:
    """Scans finer than the reader needs are reduced first: 600 dpi costs 9 times 200 dpi."""
    short = min(gray.shape[:2])
    factor = int(short // WORKING_SHORT_SIDE)
    if factor < 2:
        return gray
    return np.asarray(cv2.resize(gray, None, fx=1 / factor, fy=1 / factor,
                                 interpolation=cv2.INTER_AREA), dtype=np.uint8)


def encode_png(image: Image8) -> bytes:
    """The image as PNG bytes, as crops are kept for a person; empty if it cannot be encoded."""
    ok, data = cv2.imencode(".png", image)
    return bytes(data.tobytes()) if ok else b""
