"""Boxes a fold has slanted out of square.

A sheet folded for the envelope and scanned unflattened bends the print near the fold: a column
of boxes comes out as parallelograms, their tops running downhill. No square laid over such a box
fits its outline, and what was read inside the square was the outline itself: an empty box read
as marked, silently. Each test draws a column of printed 5 mm boxes at 200 dpi, slanted as a
fold slants them, where the layout puts them square.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.read.page import measure_choice
from pipeline.read.refine import SQUARE, find_slant, refine_box
from pipeline.read.tickbox import classify_box, page_noise

Image8 = NDArray[np.uint8]
SCALE = 200 / 72
SIDE = 14.17  # points: a 5 mm box
GAP = 20.4  # points between boxes' tops, as in a column of answers
DROP = 1.0  # points: how far the fold has also moved the column down
COUNT = 6
THRESHOLD = 158  # ink_threshold of a white page


def layout_boxes() -> list[tuple[float, float, float, float]]:
    return [(60.0, 60 + GAP * row, 60 + SIDE, 60 + GAP * row + SIDE) for row in range(COUNT)]


def corners(box: tuple[float, float, float, float], down: float, across: float,
            drop: float = DROP) -> NDArray[np.float64]:
    """The box's corners on the page as the fold shows them, in pixels."""
    x0, y0, x1, y1 = (v * SCALE for v in box)
    w, h = x1 - x0, y1 - y0
    y0 += drop * SCALE
    return np.array([(x0, y0), (x0 + w, y0 + down * w), (x0 + w + across * h, y0 + h + down * w),
                     (x0 + across * h, y0 + h)])


def on_slant(box: tuple[float, float, float, float], down: float, across: float,
             u: float, v: float, drop: float = DROP) -> tuple[int, int]:
    """A point of the square box (u, v: 0-1 across and down) where the fold puts it."""
    c = corners(box, down, across, drop)
    point = c[0] + u * (c[1] - c[0]) + v * (c[3] - c[0])
    return round(point[0]), round(point[1])


def folded_column(down: float, across: float, ticked: set[int], drop: float = DROP) -> Image8:
    image = np.full((int((80 + GAP * COUNT) * SCALE), int(160 * SCALE)), 250, np.uint8)
    for row, box in enumerate(layout_boxes()):
        cv2.polylines(image, [np.round(corners(box, down, across, drop)).astype(np.int32)],
                      True, 20, 2)
        if row in ticked:
            tick = [on_slant(box, down, across, u, v, drop)
                    for u, v in ((0.2, 0.5), (0.42, 0.8), (0.85, 0.15))]
            cv2.polylines(image, [np.array(tick, dtype=np.int32)], False, 30, 3, cv2.LINE_AA)
    return image


def read_column(image: Image8) -> list[tuple[str, float]]:
    """The column's boxes read as a page reads them."""
    ink = (image < THRESHOLD).astype(np.uint8)
    inks = []
    for box in layout_boxes():
        refined, _, fit = refine_box(ink, box, SCALE)
        inks.append(measure_choice(image, ink, refined, box, SCALE, THRESHOLD, fit))
    noise = page_noise(inks)
    return [(r.state, r.confidence) for r in (classify_box(i, noise) for i in inks)]


@pytest.mark.parametrize(("down", "across"), [(0.45, 0.0), (-0.3, 0.0), (0.0, 0.35)])
def test_a_box_slanted_by_a_fold_is_found_and_read_square(down: float, across: float) -> None:
    image = folded_column(down, across, ticked={1, 4})
    ink = (image < THRESHOLD).astype(np.uint8)
    box = layout_boxes()[0]
    _, _, fit = refine_box(ink, box, SCALE)
    assert fit < SQUARE  # no square fits it
    slant = find_slant(ink, box, SCALE)
    assert slant is not None and slant.fit >= 0.85
    assert slant.down == pytest.approx(down, abs=0.051)
    assert slant.across == pytest.approx(across, abs=0.051)
    read = read_column(image)
    assert [state for state, _ in read] == ["empty", "marked", "empty", "empty", "marked",
                                            "empty"]
    assert min(confidence for _, confidence in read) >= 0.85  # nothing for a person to look at


def test_a_column_a_fold_has_moved_as_well_as_slanted_is_read() -> None:
    """Moved 6 pt down, further than a box is looked for square, and slanted."""
    image = folded_column(0.3, 0.0, ticked={0, 3}, drop=6.0)
    slant = find_slant((image < THRESHOLD).astype(np.uint8), layout_boxes()[2], SCALE)
    assert slant is not None and slant.fit >= 0.85
    assert slant.corner[1] / SCALE == pytest.approx(layout_boxes()[2][1] + 6.0, abs=0.75)
    read = read_column(image)
    assert [state for state, _ in read] == ["marked", "empty", "empty", "marked", "empty",
                                            "empty"]
    assert min(confidence for _, confidence in read) >= 0.85


def test_a_box_square_on_its_outline_is_read_as_before() -> None:
    """Unfolded, nothing is looked for: the square fits."""
    image = folded_column(0.0, 0.0, ticked={2})
    ink = (image < THRESHOLD).astype(np.uint8)
    assert refine_box(ink, layout_boxes()[0], SCALE)[2] >= SQUARE
    assert [state for state, _ in read_column(image)] == ["empty", "empty", "marked", "empty",
                                                          "empty", "empty"]
