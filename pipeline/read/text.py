"""Free-text boxes: crop inside the printed frame, OCR it, and keep the crop for a person."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.errors import ProgramFailedError
from pipeline.forms.manifest import Box
from pipeline.read.tesseract import ocr_words

Image8 = NDArray[np.uint8]

FRAME_INSET_PT = 3.0  # skip the printed frame and a little of its surroundings
BLANK_INK_SHARE = 0.002
LOW_CONFIDENCE = 70.0


@dataclass(frozen=True)
class TextReading:
    text: str
    confidence: float  # 0..1; 1 for a confidently blank box
    crop: Image8
    problem: str = ""  # why a person should look, when they should


def crop_box(image: Image8, box: Box, scale: float, inset_pt: float = 0.0) -> Image8:
    x0, y0, x1, y1 = box
    return np.ascontiguousarray(image[
        round((y0 + inset_pt) * scale) : round((y1 - inset_pt) * scale),
        round((x0 + inset_pt) * scale) : round((x1 - inset_pt) * scale),
    ])


def read_text_box(image: Image8, box: Box, scale: float, threshold: int,
                  timeout: float) -> TextReading:
    crop = crop_box(image, box, scale, FRAME_INSET_PT)
    ink = crop < threshold
    if float(ink.mean()) < BLANK_INK_SHARE:
        return TextReading("", 1.0, crop)
    cleaned = np.where(ink, 0, 255).astype(np.uint8)
    cleaned = np.asarray(
        cv2.copyMakeBorder(cleaned, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255), np.uint8
    )
    try:
        words = ocr_words(cleaned, timeout=timeout)
    except ProgramFailedError as exc:
        return TextReading("", 0.0, crop, problem=f"OCR failed: {exc}")
    if not words:
        return TextReading("", 0.0, crop, problem="ink in the box but no text recognised")
    lines: dict[tuple[int, int, int], list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    text = " ".join(" ".join(ws) for _, ws in sorted(lines.items()))
    confidence = float(np.mean([w.confidence for w in words])) / 100.0
    problem = "OCR low confidence" if confidence * 100 < LOW_CONFIDENCE else ""
    return TextReading(text, confidence, crop, problem)
