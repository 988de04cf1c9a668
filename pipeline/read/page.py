"""Reading one page: register, identify, read every box. A pure function of the image."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.forms.manifest import FieldBox, Layout
from pipeline.read.answers import interpret_page
from pipeline.read.cells import read_cells
from pipeline.read.identify import read_page_code
from pipeline.read.register import align, ink_threshold, register
from pipeline.read.results import BoxResult, PageRef, PageResult
from pipeline.read.text import TextReading, read_text_box
from pipeline.read.tickbox import read_box

Image8 = NDArray[np.uint8]

BLANK_INK_SHARE = 0.0015


@dataclass(frozen=True)
class ReaderSettings:
    dpi: int = 200  # resolution of the frame pages are resampled into
    review_below: float = 0.8  # answers less confident than this go to a person
    ocr_timeout: float = 30.0  # seconds for one tesseract call; past it the field is flagged

    @property
    def scale(self) -> float:
        return self.dpi / 72.0


def read_page(gray: Image8, ref: PageRef, layouts: dict[str, Layout],
              settings: ReaderSettings) -> PageResult:
    threshold = ink_threshold(gray)
    if float(np.mean(gray[::4, ::4] < threshold)) < BLANK_INK_SHARE:
        return PageResult(ref, "blank", "no ink on the page")
    registration = register(gray)
    if registration is None:
        return PageResult(ref, "unreadable", "corner marks not found")
    code = read_page_code(registration.upright)
    if code is None:
        return PageResult(ref, "unreadable", "page code not readable",
                          rotation=registration.rotation)
    layout = layouts.get(code.form_key)
    if layout is None:
        return PageResult(ref, "unknown_form", f"form {code.form_key} is not registered here",
                          form_key=code.form_key, serial=code.serial, page=code.page,
                          rotation=registration.rotation)
    if code.page not in {p.page for p in layout.pages}:
        return PageResult(ref, "unreadable", f"form {code.form_key} has no page {code.page}",
                          form_key=code.form_key, serial=code.serial, page=code.page)
    page_layout = layout.page_layout(code.page)
    aligned = align(registration, page_layout, settings.scale, layout.page_size)
    threshold = ink_threshold(aligned.image)
    boxes: list[BoxResult] = []
    texts: dict[str, TextReading] = {}
    cells: dict[str, list[FieldBox]] = {}
    for field in page_layout.fields:
        if field.kind == "choice" and field.value is not None:
            reading = read_box(aligned.image, field.box, aligned.scale, threshold)
            boxes.append(BoxResult(field.question, field.value, reading.state, reading.fill,
                                   reading.confidence))
        elif field.kind == "text":
            texts[field.question] = read_text_box(aligned.image, field.box, aligned.scale,
                                                  threshold, settings.ocr_timeout)
        elif field.kind == "char":
            cells.setdefault(field.question, []).append(field)
    for name, group in cells.items():
        texts[name] = read_cells(aligned.image, group, layout.questionnaire.question(name),
                                 aligned.scale, threshold, settings.ocr_timeout)
    answers = interpret_page(layout.questionnaire, page_layout, boxes, texts,
                             settings.review_below, encode_png)
    return PageResult(
        ref, "identified", form_key=code.form_key, serial=code.serial, page=code.page,
        rotation=registration.rotation, alignment_quality=aligned.quality,
        boxes=tuple(boxes), answers=tuple(answers),
    )


def encode_png(image: Image8) -> bytes:
    ok, data = cv2.imencode(".png", image)
    return bytes(data.tobytes()) if ok else b""
