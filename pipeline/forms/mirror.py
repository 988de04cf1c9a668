"""Right-to-left pages: the question layout mirrored, so that it reads from the right.

Blocks are laid out left to right as always; a right-to-left form mirrors every drawing and every
answer box about the page's centre line (the frame's margins are equal), and left-aligned text
becomes right-aligned at the mirrored position. The manifest records the mirrored boxes, so
reading needs nothing new. Page codes, corner marks and page furniture are not mirrored.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.forms.blocks import DrawOp, TextOp
from pipeline.forms.manifest import Box, FieldBox

_ALIGN = {"left": "right", "right": "left", "centre": "centre"}


def mirror_op(op: DrawOp, page_width: float) -> DrawOp:
    if isinstance(op, TextOp):
        return replace(op, x=round(page_width - op.x, 2), align=_ALIGN[op.align])
    return replace(op, box=mirror_box(op.box, page_width))


def mirror_field(field_box: FieldBox, page_width: float) -> FieldBox:
    return replace(field_box, box=mirror_box(field_box.box, page_width))


def mirror_box(box: Box, page_width: float) -> Box:
    x0, y0, x1, y1 = box
    return (round(page_width - x1, 2), y0, round(page_width - x0, 2), y1)
