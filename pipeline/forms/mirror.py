"""Right-to-left pages: the question layout mirrored, so that it reads from the right.

Blocks are laid out left to right as always; a right-to-left form mirrors every drawing and every
answer box about the page's centre line (the frame's margins are equal), and left-aligned text
becomes right-aligned at the mirrored position. A comb of character cells moves across as a
whole, its cells kept in their order: digits and dates are written left to right in every script.
The manifest records the mirrored boxes, so reading needs nothing new. Page codes, corner marks
and page furniture are not mirrored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.forms.blocks import DrawOp, TextOp
from pipeline.records import Box, FieldBox

_ALIGN = {"left": "right", "right": "left", "centre": "centre"}


def mirror_block(ops: Sequence[DrawOp], fields: Sequence[FieldBox],
                 page_width: float) -> tuple[list[DrawOp], list[FieldBox]]:
    """A placed block's ops and boxes, mirrored; each comb of cells shifted, not reversed."""
    combs = [_extent([f.box for f in fields if f.kind == "char" and f.question == question])
             for question in dict.fromkeys(f.question for f in fields if f.kind == "char")]
    shifts = [(comb, round(page_width - comb[2] - comb[0], 2)) for comb in combs]

    def shift_of(x0: float, y0: float, x1: float, y1: float) -> float | None:
        for (left, top, right, bottom), shift in shifts:
            if left - 0.01 <= x0 and x1 <= right + 0.01 and top - 0.01 <= y0 and y1 <= bottom:
                return shift
        return None

    new_ops: list[DrawOp] = []
    for op in ops:
        shift = shift_of(op.x, op.y, op.x, op.y) if isinstance(op, TextOp) else shift_of(*op.box)
        if shift is None:
            new_ops.append(mirror_op(op, page_width))
        elif isinstance(op, TextOp):
            new_ops.append(replace(op, x=round(op.x + shift, 2)))
        else:
            new_ops.append(replace(op, box=_moved(op.box, shift)))
    new_fields = [replace(f, box=_moved(f.box, shift)) if (shift := shift_of(*f.box)) is not None
                  and f.kind == "char" else mirror_field(f, page_width) for f in fields]
    return new_ops, new_fields


def _extent(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))


def _moved(box: Box, shift: float) -> Box:
    x0, y0, x1, y1 = box
    return (round(x0 + shift, 2), y0, round(x1 + shift, 2), y1)


def mirror_op(op: DrawOp, page_width: float) -> DrawOp:
    """A drawing operation mirrored about the page's centre line: text moves to the mirrored
    position and its alignment flips (left becomes right)."""
    if isinstance(op, TextOp):
        return replace(op, x=round(page_width - op.x, 2), align=_ALIGN[op.align])
    return replace(op, box=mirror_box(op.box, page_width))


def mirror_field(field_box: FieldBox, page_width: float) -> FieldBox:
    return replace(field_box, box=mirror_box(field_box.box, page_width))


def mirror_box(box: Box, page_width: float) -> Box:
    """The box mirrored about the vertical centre line of a page `page_width` points wide (PDF
    points, rounded to 0.01)."""
    x0, y0, x1, y1 = box
    return (round(page_width - x1, 2), y0, round(page_width - x0, 2), y1)
