"""Local refinement: nudge each box onto its printed outline.

After the page-wide transform a box can still be a pixel or two off (paper stretch, feeder drift,
a slightly bent sheet). Each printed box outline is found within a small radius of where the
layout puts it, so the ink inside is measured inside the real box.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.records import Box

Ink = NDArray[np.uint8]  # 1 where there is ink

RADIUS_PT = 1.5
OUTLINE_PX = 2
GAIN = 1.15  # a shift must fit the outline this much better than staying put
FOUND = 0.6  # share of the printed outline under the box when it is on it (a speck-free scan
# gives about 0.9; a broken, low-toner outline less)
SQUARE = 0.8  # a box that fits its outline less than this is seen askew
FAR_RADIUS_PT = 4.5  # how far a box moved by a fold is looked for: half the gap between boxes


def refine_box(ink: Ink, box: Box, scale: float,
               look_further: bool = True) -> tuple[Box, float, float]:
    """The box moved onto its printed outline, how far it moved, in points, and how much of the
    outline lies under it there (0-1: a box seen askew, on a folded or bent sheet, fits less).

    A box whose outline is not found near its place (a fold or a bent sheet moves boxes by more
    than a page-wide fit can follow) is looked for further out, unless `look_further` is False:
    character cells share their edges with the cells beside them, which a wider search would
    take for their own."""
    moved, shift, fit = _refine(ink, box, scale, RADIUS_PT)
    if fit >= FOUND or not look_further:
        return moved, shift, fit
    further, further_shift, further_fit = _refine(ink, box, scale, FAR_RADIUS_PT)
    if further_fit > fit * GAIN:
        # Nearer its printed outline, even if that outline is bent out of square.
        return further, further_shift, further_fit
    return moved, shift, fit


def _refine(ink: Ink, box: Box, scale: float, radius_pt: float) -> tuple[Box, float, float]:
    """The best place for the box within radius_pt of where it is, how far that is, and how
    much of the printed outline lies under it there (0-1)."""
    radius = max(1, round(radius_pt * scale))
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    width, height = x1 - x0, y1 - y0
    if x0 - radius < 0 or y0 - radius < 0 or x1 + radius >= ink.shape[1] \
            or y1 + radius >= ink.shape[0] or width < 4 or height < 4:
        return box, 0.0, 1.0
    window = ink[y0 - radius : y1 + radius + 1, x0 - radius : x1 + radius + 1].astype(np.float32)
    template = np.zeros((height + 1, width + 1), dtype=np.float32)
    template[:OUTLINE_PX, :] = template[-OUTLINE_PX:, :] = 1
    template[:, :OUTLINE_PX] = template[:, -OUTLINE_PX:] = 1
    scores = cv2.matchTemplate(window, template, cv2.TM_CCORR)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    staying = float(scores[radius, radius])
    outline = float(template.sum())
    if best <= staying * GAIN:
        return box, 0.0, staying / outline
    dx, dy = (bx - radius) / scale, (by - radius) / scale
    moved = (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
    return moved, float(np.hypot(dx, dy)), float(best) / outline


# A fold's ridge slants a box's sides: seen through it, the square box is a parallelogram whose
# top runs downhill (up to 30 degrees, a shear of about 0.6).
SHEARS = tuple(step / 20 for step in range(-12, 13))
# And moves it, as far as a third of the way to the next box of a column (20 pt apart): a box
# there fits its own outline far better than the neighbours', which lie twice as far.
SLANT_RADIUS_PT = 7.0


@dataclass(frozen=True)
class Slant:
    """Where a box bent out of square by a fold sits: its top-left corner (pixels), how far its
    top and left sides slant (a shear: pixels down per pixel across, and across per pixel down),
    and how much of that slanted outline is under it (0-1)."""

    corner: tuple[float, float]
    across: float
    down: float
    fit: float


def find_slant(ink: Ink, box: Box, scale: float) -> Slant | None:
    """The box's outline looked for as a parallelogram near its place: on a folded sheet a box
    can be slanted, or moved, so far that no square near its place fits it, and what is read
    inside a square laid over it is its own outline. `box` in PDF points, `scale` pixels per
    point; None when the box lies too near the page's edge (or is too small) to look."""
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    width, height = x1 - x0, y1 - y0
    radius = round(SLANT_RADIUS_PT * scale)
    reach = radius + round(max(abs(s) for s in SHEARS) * max(width, height))
    if x0 - reach < 0 or y0 - reach < 0 or x1 + reach >= ink.shape[1] \
            or y1 + reach >= ink.shape[0] or width < 4 or height < 4:
        return None
    window = ink[y0 - reach : y1 + reach + 1, x0 - reach : x1 + reach + 1].astype(np.float32)

    def fitted(across: float, down: float) -> Slant:
        template, (ox, oy) = _slanted_outline(width, height, across, down)
        scores = cv2.matchTemplate(window, template, cv2.TM_CCORR)
        # Only where the box's corner lies within reach of its place: the window holds more
        # (the slanted box's own extent), and a neighbour's outline may be in it.
        left, top = max(0, round(reach - radius - ox)), max(0, round(reach - radius - oy))
        near = scores[top : round(reach + radius - oy) + 1, left : round(reach + radius - ox) + 1]
        if near.size == 0:
            return Slant((float(x0), float(y0)), across, down, 0.0)
        _, best, _, (bx, by) = cv2.minMaxLoc(near)
        corner = (x0 - reach + left + bx + ox, y0 - reach + top + by + oy)
        return Slant(corner, across, down, float(best) / float(template.sum()))

    # The top's slope, then the sides' with it, then the top's again with theirs: a fold bends
    # one pair of sides mostly.
    slant = max((fitted(0.0, down) for down in SHEARS), key=lambda s: s.fit)
    slant = max((fitted(across, slant.down) for across in SHEARS), key=lambda s: s.fit)
    return max((fitted(slant.across, down) for down in SHEARS), key=lambda s: s.fit)


def _slanted_outline(width: int, height: int, across: float,
                     down: float) -> tuple[NDArray[np.float32], tuple[float, float]]:
    """A box's printed outline slanted as a fold shows it, and where its top-left corner lies in
    the template."""
    corners = np.array([(0.0, 0.0), (width, down * width),
                        (width + across * height, height + down * width),
                        (across * height, height)], dtype=np.float32)
    shift = -corners.min(axis=0)
    corners += shift
    size = np.ceil(corners.max(axis=0)).astype(int) + OUTLINE_PX
    template = np.zeros((int(size[1]), int(size[0])), dtype=np.uint8)
    cv2.polylines(template, [np.round(corners).astype(np.int32)], True, 1, OUTLINE_PX)
    return template.astype(np.float32), (float(shift[0]), float(shift[1]))


def squared(image: NDArray[np.uint8], box: Box, scale: float,
            slant: Slant) -> tuple[NDArray[np.uint8], Box]:
    """The paper around a slanted box, unslanted so that the box is square again, and the box in
    it (points): everything read from a box and the paper around it reads the same on it."""
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    width, height = x1 - x0, y1 - y0
    margin = max(width, height)
    cx, cy = slant.corner
    # Each pixel of the square patch, taken from where the slant puts it on the page.
    to_page = np.array([[1.0, slant.across, cx - margin - slant.across * margin],
                        [slant.down, 1.0, cy - margin - slant.down * margin]], dtype=np.float64)
    patch = cv2.warpAffine(image, to_page, (width + 2 * margin, height + 2 * margin),
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    square = (margin / scale, margin / scale, (margin + width) / scale, (margin + height) / scale)
    return np.asarray(patch, dtype=np.uint8), square
