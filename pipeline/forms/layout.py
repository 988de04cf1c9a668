"""Lays a questionnaire out on A4 pages: where each question, box and line of text goes.

The plan is computed once, before drawing, so that the manifest and the PDF come from the same
numbers. Questions are never split across pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.utils import simpleSplit

from pipeline.errors import TemplateError
from pipeline.forms.manifest import (
    Box,
    FieldBox,
    Layout,
    Mark,
    PageLayout,
    geometry_digest,
    make_form_key,
)
from pipeline.model import Question, Questionnaire

MM = 72 / 25.4
A4 = (595.28, 841.89)

MARK_SIZE = 6 * MM
MARK_INSET = 9 * MM
MARGIN = 18 * MM
QR_SIZE = 22 * MM
QR_TOP = MARK_INSET
HEADER_BOTTOM = QR_TOP + QR_SIZE + 9 * MM
FOOTER_TOP = A4[1] - MARK_INSET - MARK_SIZE - 4 * MM

BODY_FONT = "Helvetica"
BOLD_FONT = "Helvetica-Bold"
ITALIC_FONT = "Helvetica-Oblique"
BODY_SIZE = 11.0
LABEL_SIZE = 11.5
HINT_SIZE = 9.5
TITLE_SIZE = 17.0

TICK_BOX = 4.6 * MM
CHOICE_ROW = 7.5 * MM
TEXT_LINE = 9 * MM
QUESTION_GAP = 6 * MM

INSTRUCTIONS = (
    "Please use a black or blue pen. Mark each answer with a tick or a cross inside the box.",
    "If you make a mistake, fill that box in completely and tick the box you meant.",
)


@dataclass(frozen=True)
class TextOp:
    x: float
    y: float  # baseline, from the top of the page
    text: str
    font: str
    size: float
    align: str = "left"


@dataclass(frozen=True)
class RuleOp:
    box: Box
    width: float = 0.8
    grey: float = 0.0  # 0 black .. 1 white
    fill: bool = False


DrawOp = TextOp | RuleOp


@dataclass(frozen=True)
class PagePlan:
    page: int
    ops: tuple[DrawOp, ...]
    fields: tuple[FieldBox, ...]


@dataclass(frozen=True)
class FormPlan:
    layout: Layout
    pages: tuple[PagePlan, ...]


def plan_form(questionnaire: Questionnaire) -> FormPlan:
    """Lay out every question; returns the layout (no copies yet) and the drawing plan."""
    width, height = A4
    content_left, content_right = MARGIN, width - MARGIN
    content_width = content_right - content_left

    pages: list[tuple[list[DrawOp], list[FieldBox]]] = []
    ops: list[DrawOp] = []
    fields: list[FieldBox] = []
    y = _page_header(ops, questionnaire, first=True, content_width=content_width)

    for number, question in enumerate(questionnaire.questions, start=1):
        block_ops, block_fields, block_height = _question_block(
            question, number, content_left, content_width
        )
        if block_height > FOOTER_TOP - HEADER_BOTTOM:
            raise TemplateError(
                f"question {question.name} is taller than a page: shorten it or reduce 'lines'"
            )
        if y + block_height > FOOTER_TOP:
            pages.append((ops, fields))
            ops, fields = [], []
            y = _page_header(ops, questionnaire, first=False, content_width=content_width)
        ops.extend(_shift(op, y) for op in block_ops)
        fields.extend(_shift_field(f, y) for f in block_fields)
        y += block_height + QUESTION_GAP

    closing = _closing_block(questionnaire, content_left, content_width)
    if closing:
        closing_ops, closing_height = closing
        if y + closing_height > FOOTER_TOP:
            pages.append((ops, fields))
            ops, fields = [], []
            y = _page_header(ops, questionnaire, first=False, content_width=content_width)
        ops.extend(_shift(op, y) for op in closing_ops)
    pages.append((ops, fields))

    page_count = len(pages)
    plans: list[PagePlan] = []
    page_layouts: list[PageLayout] = []
    for index, (page_ops, page_fields) in enumerate(pages, start=1):
        footer = TextOp(width / 2, height - MARK_INSET - 1.5 * MM, f"Page {index} of {page_count}",
                        BODY_FONT, 9, "centre")
        plans.append(PagePlan(index, (*page_ops, footer), tuple(page_fields)))
        page_layouts.append(
            PageLayout(page=index, marks=corner_marks(), barcode=barcode_box(),
                       fields=tuple(page_fields))
        )
    digest = geometry_digest(A4, tuple(page_layouts), questionnaire)
    layout = Layout(
        form_key=make_form_key(questionnaire, digest),
        title=questionnaire.title,
        page_size=A4,
        pages=tuple(page_layouts),
        questionnaire=questionnaire,
    )
    return FormPlan(layout=layout, pages=tuple(plans))


def corner_marks() -> tuple[Mark, ...]:
    """Solid top-left, rings elsewhere: the odd one out tells which way up the page is."""
    width, height = A4
    near, far_x, far_y = MARK_INSET, width - MARK_INSET - MARK_SIZE, height - MARK_INSET - MARK_SIZE
    return (
        Mark((near, near, near + MARK_SIZE, near + MARK_SIZE), "solid"),
        Mark((far_x, near, far_x + MARK_SIZE, near + MARK_SIZE), "ring"),
        Mark((near, far_y, near + MARK_SIZE, far_y + MARK_SIZE), "ring"),
        Mark((far_x, far_y, far_x + MARK_SIZE, far_y + MARK_SIZE), "ring"),
    )


def barcode_box() -> Box:
    right = A4[0] - MARGIN
    return (right - QR_SIZE, QR_TOP, right, QR_TOP + QR_SIZE)


def _page_header(
    ops: list[DrawOp], questionnaire: Questionnaire, first: bool, content_width: float
) -> float:
    left = MARGIN
    title_width = content_width - QR_SIZE - 6 * MM
    if not first:
        ops.append(TextOp(left, MARK_INSET + 14 * MM, questionnaire.title, BOLD_FONT, 11))
        return HEADER_BOTTOM
    y = MARK_INSET + 12 * MM
    if questionnaire.organisation:
        ops.append(TextOp(left, MARK_INSET + 6 * MM, questionnaire.organisation, BODY_FONT, 10))
    for line in simpleSplit(questionnaire.title, BOLD_FONT, TITLE_SIZE, title_width):
        ops.append(TextOp(left, y, line, BOLD_FONT, TITLE_SIZE))
        y += TITLE_SIZE * 1.2
    y = max(y, HEADER_BOTTOM)
    for paragraph in [p for p in questionnaire.intro.split("\n\n") if p.strip()]:
        for line in simpleSplit(" ".join(paragraph.split()), BODY_FONT, BODY_SIZE, content_width):
            ops.append(TextOp(left, y, line, BODY_FONT, BODY_SIZE))
            y += BODY_SIZE * 1.35
        y += 2 * MM
    box_top = y
    y += 5 * MM
    for line in INSTRUCTIONS:
        for wrapped in simpleSplit(line, BOLD_FONT, 10, content_width - 8 * MM):
            ops.append(TextOp(left + 4 * MM, y, wrapped, BOLD_FONT, 10))
            y += 13
    ops.append(RuleOp((left, box_top, left + content_width, y - 1 * MM), width=0.6, grey=0.25))
    return y + 6 * MM


def _question_block(
    question: Question, number: int, left: float, width: float
) -> tuple[list[DrawOp], list[FieldBox], float]:
    """Ops and fields with y relative to the block's top, and the block's height."""
    ops: list[DrawOp] = []
    fields: list[FieldBox] = []
    indent = 9 * MM
    y = LABEL_SIZE
    ops.append(TextOp(left, y, f"{number}.", BOLD_FONT, LABEL_SIZE))
    for line in simpleSplit(question.label, BOLD_FONT, LABEL_SIZE, width - indent):
        ops.append(TextOp(left + indent, y, line, BOLD_FONT, LABEL_SIZE))
        y += LABEL_SIZE * 1.3
    hint = question.hint or {
        "select_one": "Please tick one box.",
        "select_multiple": "Please tick all that apply.",
        "text": "Please write in capitals or clear handwriting inside the box.",
    }[question.type]
    for line in simpleSplit(hint, ITALIC_FONT, HINT_SIZE, width - indent):
        ops.append(TextOp(left + indent, y, line, ITALIC_FONT, HINT_SIZE))
        y += HINT_SIZE * 1.3
    y += 1.5 * MM
    if question.type in ("select_one", "select_multiple"):
        for choice in question.choices:
            box = (left + indent, y, left + indent + TICK_BOX, y + TICK_BOX)
            ops.append(RuleOp(box, width=1.0))
            label_x = box[2] + 3 * MM
            ops.append(TextOp(label_x, y + TICK_BOX - 0.9 * MM, choice.label, BODY_FONT, BODY_SIZE))
            fields.append(FieldBox(question.name, "choice", box, choice.name))
            y += CHOICE_ROW
        y -= CHOICE_ROW - TICK_BOX
    else:
        box = (left + indent, y, left + width, y + question.lines * TEXT_LINE)
        ops.append(RuleOp(box, width=1.0))
        fields.append(FieldBox(question.name, "text", box))
        y = box[3]
    return ops, fields, y


def _closing_block(
    questionnaire: Questionnaire, left: float, width: float
) -> tuple[list[DrawOp], float] | None:
    returns = questionnaire.returns
    sentences = ["Thank you for taking part."]
    if returns.closing_date:
        sentences.append(f"Please return this questionnaire by {returns.closing_date}")
        if returns.address:
            sentences[-1] += " in the envelope provided, or post it free to:"
        else:
            sentences[-1] += " in the envelope provided."
    if not (returns.address or returns.helpline or returns.closing_date):
        return None
    ops: list[DrawOp] = []
    y = BODY_SIZE
    for sentence in sentences:
        for line in simpleSplit(sentence, BODY_FONT, BODY_SIZE, width):
            ops.append(TextOp(left, y, line, BODY_FONT, BODY_SIZE))
            y += BODY_SIZE * 1.35
    for line in returns.address.splitlines():
        ops.append(TextOp(left + 9 * MM, y, line.strip(), BOLD_FONT, BODY_SIZE))
        y += BODY_SIZE * 1.35
    if returns.helpline:
        y += 1 * MM
        ops.append(TextOp(left, y, f"Questions or need help? Call free on {returns.helpline}.",
                          BODY_FONT, BODY_SIZE))
        y += BODY_SIZE * 1.35
    return ops, y


def _shift(op: DrawOp, dy: float) -> DrawOp:
    if isinstance(op, TextOp):
        return TextOp(op.x, op.y + dy, op.text, op.font, op.size, op.align)
    x0, y0, x1, y1 = op.box
    return RuleOp((x0, y0 + dy, x1, y1 + dy), op.width, op.grey, op.fill)


def _shift_field(field: FieldBox, dy: float) -> FieldBox:
    x0, y0, x1, y1 = field.box
    return FieldBox(field.question, field.kind, (x0, y0 + dy, x1, y1 + dy), field.value)
