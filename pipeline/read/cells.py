"""Character cells (comb fields): one letter or digit per printed cell, checked by type.

Empty cells are found from their ink alone; the written ones are put side by side, clear of the
cell walls, and read as one line with only the characters the field allows.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.errors import ProgramFailedError
from pipeline.forms.manifest import FieldBox
from pipeline.model import Question
from pipeline.read.tesseract import ocr_words
from pipeline.read.text import TextReading

Image8 = NDArray[np.uint8]

CELL_INSET = 0.16
EMPTY_CELL_INK = 0.02
LOW_CONFIDENCE = 60.0
WHITELISTS = {
    "digits": "0123456789",
    "capitals": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "alphanumeric": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "any": "",
}
UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def read_cells(image: Image8, cells: Sequence[FieldBox], question: Question, scale: float,
               threshold: int, timeout: float) -> TextReading:
    ordered = sorted(cells, key=lambda c: c.index or 0)
    crops = [_cell_interior(image, c, scale) for c in ordered]
    inked = [float(np.mean(crop < threshold)) >= EMPTY_CELL_INK for crop in crops]
    strip = _strip(image, ordered, scale)
    if not any(inked):
        return TextReading("", 1.0, strip)
    written = [crop for crop, ink in zip(crops, inked, strict=True) if ink]
    charset = "digits" if question.type in ("integer", "decimal", "date") else question.charset
    line = _line_image(written, threshold)
    try:
        words = ocr_words(line, psm=7, timeout=timeout, whitelist=WHITELISTS[charset])
    except ProgramFailedError as exc:
        return TextReading("", 0.0, strip, problem=f"OCR failed: {exc}")
    read = "".join(w.text for w in words).replace(" ", "")
    confidence = float(np.mean([w.confidence for w in words])) / 100.0 if words else 0.0
    if len(read) != len(written):
        return TextReading(read, confidence, strip, problem=(
            f"failed validation: {len(written)} cells written, {len(read)} characters read"))
    text = _place(read, inked)
    value, problem = validate(question, text)
    if not problem and confidence * 100 < LOW_CONFIDENCE:
        problem = "OCR low confidence"
    return TextReading(value, confidence, strip, problem)


def validate(question: Question, text: str) -> tuple[str, str]:
    """The value as the online export codes it, and what is wrong with it, if anything."""
    compact = text.replace(" ", "")
    if question.type == "integer":
        return (compact, "") if compact.isdigit() else (compact, "failed validation: not a number")
    if question.type == "decimal":
        if not compact.isdigit() or len(compact) < 3:
            return compact, "failed validation: not a number"
        return f"{int(compact[:-2])}.{compact[-2:]}", ""
    if question.type == "date":
        try:
            day = datetime.date(int(compact[4:8]), int(compact[2:4]), int(compact[0:2]))
        except ValueError:
            return compact, "failed validation: not a date (day, month, year)"
        if len(compact) != 8:
            return compact, "failed validation: not a date (day, month, year)"
        return day.isoformat(), ""
    value = " ".join(text.split())
    if question.name.lower().startswith("postcode") and not UK_POSTCODE.match(value):
        return value, "failed validation: not a UK postcode"
    return value, ""


def _place(read: str, inked: Sequence[bool]) -> str:
    """The characters put back in their cells: an empty cell between written ones is a space."""
    chars = iter(read)
    text = "".join(next(chars) if ink else " " for ink in inked)
    return text.strip()


def _cell_interior(image: Image8, cell: FieldBox, scale: float) -> Image8:
    x0, y0, x1, y1 = (v * scale for v in cell.box)
    dx, dy = (x1 - x0) * CELL_INSET, (y1 - y0) * CELL_INSET
    return np.ascontiguousarray(image[round(y0 + dy) : round(y1 - dy),
                                      round(x0 + dx) : round(x1 - dx)])


def _strip(image: Image8, cells: Sequence[FieldBox], scale: float) -> Image8:
    x0 = min(c.box[0] for c in cells) * scale
    y0 = min(c.box[1] for c in cells) * scale
    x1 = max(c.box[2] for c in cells) * scale
    y1 = max(c.box[3] for c in cells) * scale
    return np.ascontiguousarray(image[round(y0) : round(y1), round(x0) : round(x1)])


def _line_image(crops: Sequence[Image8], threshold: int) -> Image8:
    height = max(c.shape[0] for c in crops)
    gap = np.full((height, max(4, height // 3)), 255, dtype=np.uint8)
    parts: list[Image8] = [gap]
    for crop in crops:
        clean = np.where(crop < threshold, 0, 255).astype(np.uint8)
        padded = np.full((height, crop.shape[1]), 255, dtype=np.uint8)
        padded[: crop.shape[0], :] = clean
        parts += [padded, gap]
    line = np.hstack(parts)
    return np.asarray(cv2.copyMakeBorder(line, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255),
                      dtype=np.uint8)
