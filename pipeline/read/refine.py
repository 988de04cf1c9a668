"""Local refinement: nudge each box onto its printed outline.

After the page-wide transform a box can still be a pixel or two off (paper stretch, feeder drift,
a slightly bent sheet). Each printed box outline is found within a small radius of where the
layout puts it, so the ink inside is measured inside the real box.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.forms.manifest import Box

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
