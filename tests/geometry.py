"""What every printed page must satisfy, checked on a form's plan (its manifest and drawing)."""

from __future__ import annotations

from collections import defaultdict

from pipeline.forms.blocks import TextOp, width_of
from pipeline.forms.layout import (
    A4,
    FOOTER_TOP,
    HEADER_BOTTOM,
    MARGIN,
    MARK_INSET,
    QR_SIZE,
    QR_TOP,
    FormPlan,
)
from pipeline.forms.style import KEY_TEXT_WIDTH, MM
from pipeline.model import Grid
from pipeline.records import Box

CLEARANCE = 2.0  # points between an answer box and a mark, the page code or its key
SLACK = 0.5  # points: rounding of the manifest's boxes


def overlaps(a: Box, b: Box, margin: float = 0.0) -> bool:
    return not (a[2] + margin <= b[0] or b[2] + margin <= a[0]
                or a[3] + margin <= b[1] or b[3] + margin <= a[1])


def key_text_box() -> Box:
    """Where the page key is printed, under the code."""
    right = A4[0] - MARGIN
    return (right - KEY_TEXT_WIDTH, QR_TOP + QR_SIZE, right, HEADER_BOTTOM)


def assert_printable(plan: FormPlan) -> None:
    """Every box inside the frame, clear of the marks, the code and its key, and of every
    other box; every text inside the margins and clear of the code; every question answerable;
    a grid's boxes in the same columns on every row."""
    layout = plan.layout
    width, height = layout.page_size
    assert (width, height) == A4
    seen: set[str] = set()
    for page, drawn in zip(layout.pages, plan.pages, strict=True):
        top = MARK_INSET + 3 * MM if page.page == 1 else HEADER_BOTTOM
        furniture = [m.box for m in page.marks] + [page.barcode, key_text_box()]
        for field in page.fields:
            x0, y0, x1, y1 = field.box
            assert MARGIN - SLACK <= x0 < x1 <= width - MARGIN + SLACK, (page.page, field)
            assert top - SLACK <= y0 < y1 <= FOOTER_TOP + SLACK, (page.page, field)
            assert not any(overlaps(field.box, f, CLEARANCE) for f in furniture), field
            seen.add(field.question)
        boxes = sorted((f.box for f in page.fields), key=lambda b: b[1])
        for i, a in enumerate(boxes):  # sorted by top: compare with those starting above a's foot
            for b in boxes[i + 1:]:
                if b[1] >= a[3]:
                    break
                assert not overlaps(a, b), (page.page, a, b)
        texts = [op for op in drawn.ops if isinstance(op, TextOp)]
        for field in page.fields:  # no box alone on its page, its label on the next
            if field.kind == "choice":
                x0, y0, x1, y1 = field.box
                assert any(op.y - op.size <= y1 + 3 and op.y + 0.3 * op.size >= y0 - 3
                           for op in texts), (page.page, field)
        inks = sorted((_ink(op), op.text) for op in texts)  # no text printed over another
        for i, (a, text) in enumerate(inks):
            for b, other in inks[i + 1:]:
                if b[0] >= a[2]:
                    break
                assert not overlaps(a, b, -0.3), (page.page, text[:40], other[:40])
        for op in texts:
            text_width = width_of(op.text, op.font, op.size)
            left = op.x - {"centre": text_width / 2, "right": text_width}.get(op.align, 0.0)
            assert left >= MARGIN - SLACK and left + text_width <= width - MARGIN + SLACK, (
                page.page, op.text[:60], left, left + text_width)
            assert op.size <= op.y <= height, (page.page, op.text[:60])
            ink = (left, op.y - op.size * 0.8, left + text_width, op.y)
            assert not overlaps(ink, page.barcode), (page.page, op.text[:60])
    assert seen == {q.name for q in layout.questionnaire.questions}
    for grid in layout.questionnaire.items:
        if isinstance(grid, Grid):
            assert len(set(grid_columns(plan, grid).values())) == 1, grid.name


def grid_columns(plan: FormPlan, grid: Grid) -> dict[str, tuple[float, ...]]:
    """Row name -> the left edges of its boxes, in the order of the scale."""
    lefts: dict[str, dict[str, float]] = defaultdict(dict)
    rows = {row.name for row in grid.rows}
    for page in plan.layout.pages:
        for field in page.fields:
            if field.question in rows and field.value is not None:
                lefts[field.question][field.value] = field.box[0]
    return {row: tuple(round(found[c.name], 1) for c in grid.choices)
            for row, found in lefts.items()}


def _ink(op: TextOp) -> Box:
    """Where a line of text puts ink: its width, from about its capitals' top to its baseline."""
    text_width = width_of(op.text, op.font, op.size)
    left = op.x - {"centre": text_width / 2, "right": text_width}.get(op.align, 0.0)
    return (left, op.y - op.size * 0.7, left + text_width, op.y)
