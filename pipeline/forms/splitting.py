"""Splitting a block that no page can hold: where it may be cut, and its parts.

A block records where it may be split (`Block.cuts` between answers, `Block.weak_cuts` between
the lines of one label); the page flow cuts it at the lowest of them that still fits the room
left on the page and starts the rest on the next page under a continuation heading. A part is
a window on the whole block, cut by position, so the parts print exactly what the whole block
would have, page by page, and a list of thousands of choices is laid out once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.forms.blocks import Block, DrawOp, TextOp
from pipeline.records import Box, FieldBox


@dataclass(frozen=True)
class Window:
    """The part of `source` from `start` to `end` (its foot when None), printed under
    `prefix` (the continuation heading of a part after the first)."""

    source: Block
    start: float = 0.0
    end: float | None = None
    prefix: Block | None = None

    @property
    def _top(self) -> float:
        return self.prefix.height if self.prefix is not None else 0.0

    @property
    def _bottom(self) -> float:
        return self.source.height if self.end is None else self.end

    @property
    def height(self) -> float:
        """The part's height in PDF points, its continuation heading included."""
        return self._top + self._bottom - self.start

    def cuts(self, weak: bool = False) -> list[float]:
        """Where this part may be cut, from its own top."""
        shift = self._top - self.start
        return [c + shift for c in (self.source.weak_cuts if weak else self.source.cuts)
                if self.start < c < self._bottom]

    def split(self, cut: float, continuation: Block | None) -> tuple[Window, Window]:
        """The part above `cut` (from this part's top), and the rest under `continuation`."""
        at = self.start + cut - self._top
        # the source's own cut, exactly: a box that starts there must not land above it
        at = min((*self.source.cuts, *self.source.weak_cuts), key=lambda c: abs(c - at),
                 default=at)
        return replace(self, end=at), Window(self.source, at, self.end, continuation)

    def block(self) -> Block:
        """The part as a block of its own, to draw."""
        shift = self._top - self.start
        bottom = self._bottom
        head = self.prefix or Block()
        ops = [*head.ops, *(shift_op(op, 0, shift) for op in self.source.ops
                            if self.start <= _anchor(op) < bottom)]
        fields = [*head.fields, *(shift_field(f, 0, shift) for f in self.source.fields
                                  if self.start <= f.box[1] < bottom)]
        return Block(ops=ops, fields=fields, height=self.height,
                     broken=[*head.broken, *self.source.broken],
                     missing=[*head.missing, *self.source.missing])


def choose_cut(part: Window, room: float, page: float) -> float | None:
    """The lowest cut that leaves a first part no taller than `room`, or None.

    Cuts between the lines of a label are taken only when the part before the first cut
    between answers is taller than a whole `page`: a label is kept whole when it can be.
    """
    cuts = part.cuts()
    strong = [c for c in cuts if 0 < c <= room]
    if strong:
        return max(strong)
    first = min((c for c in cuts if c > 0), default=part.height)
    if first > page:
        weak = [c for c in part.cuts(weak=True) if 0 < c <= room]
        if weak:
            return max(weak)
    return None


def tallest_piece(block: Block, continuation: Block | None, page: float) -> float:
    """The height of the tallest piece the block must be printed in, split as the page flow
    splits it on empty pages of height `page`: more than `page` when it cannot be printed."""
    tallest = 0.0
    rest = Window(block)
    while rest.height > page:
        cut = choose_cut(rest, page, page)
        if cut is None:  # every cut is lower than a page
            return min((c for c in (*rest.cuts(), *rest.cuts(weak=True)) if c > 0),
                       default=rest.height)
        tallest = max(tallest, cut)
        rest = rest.split(cut, continuation)[1]
    return max(tallest, rest.height)


def first_cut(block: Block, page: float) -> float:
    """The height of the least first part of a block taller than `page`."""
    whole = Window(block)
    return min((c for c in whole.cuts() if c > 0), default=choose_cut(whole, page, page)
               or block.height)


def _anchor(op: DrawOp) -> float:
    """The y that decides which part an op goes to: a text's baseline, a rule's top."""
    return op.y if isinstance(op, TextOp) else op.box[1]


def shift_op(op: DrawOp, dx: float, dy: float, ndigits: int | None = None) -> DrawOp:
    """The op moved by (dx, dy); its box rounded to `ndigits` when given, as the manifest is."""
    if isinstance(op, TextOp):
        return replace(op, x=op.x + dx, y=op.y + dy)
    return replace(op, box=shift_box(op.box, dx, dy, ndigits))


def shift_field(field_box: FieldBox, dx: float, dy: float,
                ndigits: int | None = None) -> FieldBox:
    return replace(field_box, box=shift_box(field_box.box, dx, dy, ndigits))


def shift_box(box: Box, dx: float, dy: float, ndigits: int | None = None) -> Box:
    """The box moved by dx, dy (PDF points), rounded to `ndigits` places when given."""
    x0, y0, x1, y1 = box
    if ndigits is None:
        return (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
    return (round(x0 + dx, ndigits), round(y0 + dy, ndigits), round(x1 + dx, ndigits),
            round(y1 + dy, ndigits))
