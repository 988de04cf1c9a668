"""How the XLSForm types beyond choices, text and numbers are answered on paper.

rank: a cell beside each choice for 1, 2, 3...; range: a row of tick boxes, one per value;
time and datetime: digit cells (HH:MM, and DD/MM/YYYY before it); acknowledge: one tick box.
Each block records its boxes as the others in blocks.py do, so the reader finds them by kind:
range and acknowledge are tick boxes read as a single choice, the rest are character cells.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from pipeline.forms.blocks import (
    Block,
    Context,
    RuleOp,
    TextOp,
    comb,
    line_cuts,
    numbered_heading,
    specify_line,
    width_of,
)
from pipeline.forms.style import MM, REGULAR
from pipeline.model import Question, QuestionType
from pipeline.records import FieldBox

DEFAULT_HINTS: dict[str, str] = {"time": "write_time", "datetime": "write_datetime",
                                 "rank": "write_rank", "range": "tick_one",
                                 "acknowledge": "tick_acknowledge"}


def has_answer_block(question_type: QuestionType) -> bool:
    """Whether a question of this type is printed by `answer_block` (rank, range, time,
    date-time, acknowledge) rather than as choices, text or a number."""
    return question_type in DEFAULT_HINTS


def answer_block(ctx: Context, question: Question, width: float,
                 specify: Question | None = None) -> Block:
    """The block of a question whose type is one of DEFAULT_HINTS; `specify` is a rank's
    "please specify" text (or_other), printed beside its "other" choice."""
    builders: dict[str, Callable[[Block, Context, Question, float, float, float], float]] = {
        "time": _cells, "datetime": _cells, "rank": partial(_rank, specify=specify),
        "range": _range, "acknowledge": _acknowledge,
    }
    block = Block()
    y, indent = numbered_heading(block, ctx, question, DEFAULT_HINTS[question.type], width)
    block.height = builders[question.type](block, ctx, question, indent, width, y) + 1 * MM
    return block


def _cells(block: Block, ctx: Context, question: Question, indent: float, width: float,
           y: float) -> float:
    """Digit cells in groups, the separators printed between them: 10:30, 05/01/2027 10:30."""
    comb(block, ctx, question, indent, y)
    return y + ctx.style.cell_h


def _rank(block: Block, ctx: Context, question: Question, indent: float, width: float,
          y: float, specify: Question | None = None) -> float:
    """A cell (two past nine choices) before each choice, for its rank; the cells are indexed
    choice by choice, so the reader knows whose rank each digit is."""
    style = ctx.style
    digits = question.rank_digits
    index = 0
    for number, choice in enumerate(question.choices):
        if number:  # a long list goes on over the next page between two choices
            block.cuts.append(y - 0.75 * MM)
        x = indent
        for _ in range(digits):
            box = (x, y, x + style.cell_w, y + style.cell_h)
            block.ops.append(RuleOp(box, width=0.9))
            block.fields.append(FieldBox(question.name, "char", box, choice.name, index))
            x += style.cell_w
            index += 1
        label_x = x + 3 * MM
        lines = block.lines(ctx.joined(choice.label), REGULAR, style.body, width - label_x)
        baseline = y + style.cell_h / 2 + style.body * 0.35
        start = len(block.ops)
        for i, line in enumerate(lines):
            block.text(label_x, baseline + i * style.body * 1.25, line, REGULAR, style.body)
        block.weak_cuts.extend(line_cuts(block.ops[start:], skip_first=2))
        y += max(style.cell_h, (len(lines) - 0.5) * style.body * 1.25 + style.cell_h / 2)
        y += 1.5 * MM
        if specify is not None and choice.name == _other_choice(question):
            y = specify_line(block, ctx, specify, label_x, width, y)
    return y - 1.5 * MM


def _other_choice(question: Question) -> str:
    """The choice or_other added ("other"), else the last: where the specify line goes."""
    names = question.choice_names()
    return "other" if "other" in names else names[-1]


def _range(block: Block, ctx: Context, question: Question, indent: float, width: float,
           y: float) -> float:
    """A box per value, the value printed above it, in rows as wide as the page allows."""
    style = ctx.style
    size = min(style.hint, style.body)
    column = max(style.tick + 3 * MM,
                 max(width_of(c.name, REGULAR, size) for c in question.choices) + 2 * MM)
    per_row = max(1, int((width - indent) // column))
    for start in range(0, len(question.choices), per_row):
        if start:
            block.cuts.append(y - 1 * MM)
        for i, choice in enumerate(question.choices[start:start + per_row]):
            centre = indent + (i + 0.5) * column
            block.ops.append(TextOp(centre, y + size, choice.name, REGULAR, size,
                                    align="centre"))
            box = (centre - style.tick / 2, y + size * 1.4,
                   centre + style.tick / 2, y + size * 1.4 + style.tick)
            block.ops.append(RuleOp(box, width=1.0))
            block.fields.append(FieldBox(question.name, "choice", box, choice.name))
        y += size * 1.4 + style.tick + 2 * MM
    return y - 2 * MM


def _acknowledge(block: Block, ctx: Context, question: Question, indent: float, width: float,
                 y: float) -> float:
    """One box; ticked, the answer is the acknowledge value (OK)."""
    style = ctx.style
    box = (indent, y, indent + style.tick, y + style.tick)
    block.ops.append(RuleOp(box, width=1.0))
    block.fields.append(FieldBox(question.name, "choice", box, question.choices[0].name))
    text = ctx.joined(question.choices[0].label)
    block.text(box[2] + 3 * MM, y + style.tick / 2 + style.body * 0.35, text, REGULAR,
               style.body)
    return y + style.tick
