"""Tick-box classification: how much ink is inside a box, measured against this page's paper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from pipeline.forms.manifest import Box

Image8 = NDArray[np.uint8]
BoxState = Literal["empty", "marked", "cancelled"]

INSET = 0.18  # share of the box side skipped at each edge, so the printed outline is not ink
MARKED_AT = 0.06  # share of inked pixels above which a box is marked
UNSURE_BAND = (0.025, 0.10)  # between these the reading is unsure
CANCELLED_AT = 0.78  # a box filled in this much is a cancelled mark


@dataclass(frozen=True)
class BoxReading:
    state: BoxState
    fill: float  # share of inked pixels inside the box
    confidence: float  # 0..1


def read_box(image: Image8, box: Box, scale: float, threshold: int) -> BoxReading:
    x0, y0, x1, y1 = (v * scale for v in box)
    dx, dy = (x1 - x0) * INSET, (y1 - y0) * INSET
    inner = image[round(y0 + dy) : round(y1 - dy), round(x0 + dx) : round(x1 - dx)]
    if inner.size == 0:
        return BoxReading("empty", 0.0, 0.0)
    fill = float(np.mean(inner < threshold))
    return classify_fill(fill)


def classify_fill(fill: float) -> BoxReading:
    """State and confidence: confidence falls to 0.5 at each boundary between states."""
    low, high = UNSURE_BAND
    near_cancelled = CANCELLED_AT - 0.12
    if fill >= CANCELLED_AT:
        return BoxReading("cancelled", fill, min(1.0, 0.5 + (fill - CANCELLED_AT) / 0.2))
    if fill >= MARKED_AT:
        if fill < high:
            confidence = 0.5 + 0.5 * (fill - MARKED_AT) / (high - MARKED_AT)
        elif fill > near_cancelled:
            confidence = 0.5 + 0.5 * (CANCELLED_AT - fill) / 0.12
        else:
            confidence = 1.0
        return BoxReading("marked", fill, confidence)
    confidence = 1.0 if fill <= low else 0.5 + 0.5 * (MARKED_AT - fill) / (MARKED_AT - low)
    return BoxReading("empty", fill, confidence)
