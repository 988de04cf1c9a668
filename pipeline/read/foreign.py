"""Pages of forms printed by another system (queXF): identified by their page barcode, registered
on their L-shaped corner marks.

Such a barcode names the page, not the copy, and all four L marks look alike, so the barcode's
position is what says which way up the page is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp
from numpy.typing import NDArray

from pipeline.read.register import Registration, find_corner_angles
from pipeline.records import Layout

Image8 = NDArray[np.uint8]

MAX_CODE_OFFSET = 0.25  # how far (share of the page) the barcode may sit from where it is printed


@dataclass(frozen=True)
class ForeignPage:
    layout: Layout
    page: int
    code: str  # the barcode's text
    registration: Registration | None  # None when the marks could not be found
    problem: str = ""


def foreign_layouts(layouts: dict[str, Layout]) -> dict[str, Layout]:
    """The layouts of forms another system printed (queXF), by form key: those with page codes of
    their own."""
    return {key: layout for key, layout in layouts.items() if layout.page_codes is not None}


def identify_foreign(gray: Image8, layouts: dict[str, Layout]) -> ForeignPage | None:
    """The registered foreign form and page this scan is, or None when it carries none of their
    page codes."""
    formats = {layout.page_codes.symbology for layout in layouts.values()
               if layout.page_codes is not None}
    symbologies = [getattr(zxingcpp.BarcodeFormat, name) for name in sorted(formats)
                   if hasattr(zxingcpp.BarcodeFormat, name)]
    if not symbologies:
        return None
    wanted = zxingcpp.BarcodeFormats(symbologies)
    for barcode in zxingcpp.read_barcodes(gray, formats=wanted):
        matches = [(layout, page) for layout in layouts.values()
                   if layout.page_codes is not None
                   and barcode.format.name == layout.page_codes.symbology
                   and (page := layout.page_codes.page_of(barcode.text)) is not None]
        if not matches:
            continue
        layout, page = matches[0]
        if len(matches) > 1:
            keys = ", ".join(sorted(m[0].form_key for m in matches))
            return ForeignPage(layout, page, barcode.text, None,
                               f"page code {barcode.text} belongs to several imported forms "
                               f"({keys}): keep one registered")
        position = barcode.position
        corners = (position.top_left, position.top_right, position.bottom_left,
                   position.bottom_right)
        centre = (sum(p.x for p in corners) / 4, sum(p.y for p in corners) / 4)
        turns = _quarter_turns(centre, gray.shape, layout, page)
        if turns is None:
            return ForeignPage(layout, page, barcode.text, None,
                               f"page code {barcode.text} is not where the form prints it: "
                               "a copy pasted onto another sheet?")
        upright = gray if turns == 0 else np.ascontiguousarray(np.rot90(gray, turns))
        marks = find_corner_angles(upright)
        if marks.found < 3:
            return ForeignPage(layout, page, barcode.text, None,
                               f"only {marks.found} of 4 corner marks found: damaged or cut off")
        return ForeignPage(layout, page, barcode.text, Registration(upright, 90 * turns, marks))
    return None


def _quarter_turns(centre: tuple[float, float], shape: tuple[int, ...], layout: Layout,
                   page: int) -> int | None:
    """Quarter turns (as np.rot90 counts them) that bring the barcode where it is printed."""
    height, width = shape[:2]
    box = layout.page_layout(page).barcode
    expected = ((box[0] + box[2]) / 2 / layout.page_size[0],
                (box[1] + box[3]) / 2 / layout.page_size[1])
    x, y, w, h = centre[0], centre[1], float(width), float(height)
    best: tuple[float, int] | None = None
    for turns in range(4):
        distance = float(np.hypot(x / w - expected[0], y / h - expected[1]))
        if distance <= MAX_CODE_OFFSET and (best is None or distance < best[0]):
            best = (distance, turns)
        # np.rot90 turns anticlockwise: the point (x, y) goes to (y, w - x).
        x, y, w, h = y, w - x, h, w
    return None if best is None else best[1]
