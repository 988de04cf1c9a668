"""Tick-box classification: how much ink is inside a box, measured against this page's paper."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from pipeline.forms.manifest import Box
from pipeline.read.register import INK_OF_PAPER

Image8 = NDArray[np.uint8]
BoxState = Literal["empty", "marked", "cancelled"]

INSET = 0.18  # share of the box side skipped at each edge, so the printed outline is not ink
MARKED_AT = 0.06  # share of inked pixels above which a box is marked
UNSURE_BAND = (0.025, 0.10)  # between these the reading is unsure
CANCELLED_AT = 0.78  # a box filled in this much is a cancelled mark


EVEN_FILL = 0.5  # a cancelled box is dark everywhere, a fat cross leaves its sides white
FAINT_OF_PAPER = 0.85  # light grey ink: darker than this share of the paper
FAINT_MARK = 0.04  # this much faint ink in a box is a mark someone may have meant
SURROUND_NEAR, SURROUND_FAR = 0.1, 0.45  # the band outside the box searched for a ring, in sides
OUTLINE = 0.1  # share of the box side taken by the printed outline (and a pixel of play)
EDGE_INK = 0.02  # ink between the outline and the inner area: a stroke crossing the box's edge
PRINTED_LINE = 0.5  # a row or column of the box inked across this share of it is printed
# A little ink in the middle that carries on well into the margin is a stroke through the box (a
# tick drawn off-centre or spilling out), not a speck: a mark.
STROKE_FILL, STROKE_EDGE = 0.04, 0.1


@dataclass(frozen=True)
class BoxReading:
    state: BoxState
    fill: float  # share of inked pixels inside the box
    confidence: float  # 0..1
    surround: float = 0.0  # inked share of the barest band just outside (left, above, below)
    faint: bool = False  # unsure only because of light ink (a pencil): low contrast
    edge: float = 0.0  # inked share of the margin between the outline and the inner area


def read_box(image: Image8, box: Box, scale: float, threshold: int) -> BoxReading:
    x0, y0, x1, y1 = (v * scale for v in box)
    dx, dy = (x1 - x0) * INSET, (y1 - y0) * INSET
    inner = image[round(y0 + dy) : round(y1 - dy), round(x0 + dx) : round(x1 - dx)]
    if inner.size == 0:
        return BoxReading("empty", 0.0, 0.0)
    ink = inner < threshold
    faint = float(np.mean(inner < min(250, round(threshold / INK_OF_PAPER * FAINT_OF_PAPER))))
    edge = _edge(image, (x0, y0, x1, y1), threshold)
    reading = classify_fill(float(np.mean(ink)), _side_fill(ink), faint, edge)
    return replace(reading, surround=_surround(image, (x0, y0, x1, y1), threshold))


def _edge(image: Image8, box: tuple[float, float, float, float], threshold: int) -> float:
    """Ink inside the box but outside the inner area, the printed outline left out.

    An empty box is bare there; a tick that only clips the box (a big, spilling one) leaves
    ink there and little in the middle, so the box is not surely empty. Rows and columns inked
    across half the box are a printed line (an outline a little off its layout position), not
    a stroke, and are left out.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    top, left = round(y0 + OUTLINE * h), round(x0 + OUTLINE * w)
    frame = image[top : round(y1 - OUTLINE * h), left : round(x1 - OUTLINE * w)] < threshold
    if frame.size == 0:
        return 0.0
    margin = np.ones(frame.shape, dtype=bool)
    margin[round(y0 + INSET * h) - top : round(y1 - INSET * h) - top,
           round(x0 + INSET * w) - left : round(x1 - INSET * w) - left] = False
    margin[frame.mean(axis=1) >= PRINTED_LINE, :] = False
    margin[:, frame.mean(axis=0) >= PRINTED_LINE] = False
    if not margin.any():
        return 0.0
    return float(np.count_nonzero(frame & margin)) / float(np.count_nonzero(margin))


def _side_fill(ink: NDArray[np.bool_]) -> float:
    """The least-inked of the four patches at the middle of each side of the inner area."""
    h, w = ink.shape
    qh, qw = max(1, h // 4), max(1, w // 4)
    patches = (ink[:qh, qw : w - qw], ink[h - qh :, qw : w - qw],
               ink[qh : h - qh, :qw], ink[qh : h - qh, w - qw :])
    return min(float(np.mean(p)) if p.size else 1.0 for p in patches)


def _surround(image: Image8, box: tuple[float, float, float, float], threshold: int) -> float:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    near_x, far_x, near_y, far_y = SURROUND_NEAR * w, SURROUND_FAR * w, SURROUND_NEAR * h, \
        SURROUND_FAR * h
    bands = (
        image[round(y0 - far_y) : round(y0 - near_y), round(x0 - near_x) : round(x1 + near_x)],
        image[round(y1 + near_y) : round(y1 + far_y), round(x0 - near_x) : round(x1 + near_x)],
        image[round(y0) : round(y1), round(x0 - far_x) : round(x0 - near_x)],
    )
    if min(b.size for b in bands) == 0 or min(round(y0 - far_y), round(x0 - far_x)) < 0:
        return 0.0
    # A ring leaves ink on every side; a printed arrow or a neighbour's stroke only on one or two.
    return min(float(np.count_nonzero(b < threshold)) / b.size for b in bands)


def classify_fill(fill: float, side_fill: float = 1.0, faint: float = 0.0,
                  edge: float = 0.0) -> BoxReading:
    """State and confidence: confidence falls to 0.5 at each boundary between states.

    `side_fill` tells a fat cross (sides of the box left white) from a box filled in to cancel
    it; `faint` (light grey ink, a pencil) and `edge` (a stroke across the box's margin) keep a
    box with little dark ink from being read as surely empty.
    """
    if fill >= CANCELLED_AT - 0.12 and side_fill < EVEN_FILL:
        return BoxReading("marked", fill, 1.0)
    if STROKE_FILL <= fill < UNSURE_BAND[1] and edge >= STROKE_EDGE:
        return BoxReading("marked", fill, 1.0, edge=edge)
    reading = _classify_dark(fill)
    if reading.state == "empty" and edge >= EDGE_INK:
        return replace(reading, confidence=min(reading.confidence, 0.6), edge=edge)
    if reading.state == "empty" and faint >= FAINT_MARK:
        return replace(reading, confidence=min(reading.confidence, 0.6), faint=True, edge=edge)
    return replace(reading, edge=edge)


def _classify_dark(fill: float) -> BoxReading:
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
