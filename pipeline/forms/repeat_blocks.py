"""How a repeat prints: a block of numbered copies, or a table with one row per copy.

A repeat (household members, visits, plots) is asked once per member online; paper prints a fixed
number of copies, each under its own heading ("Person 1", "Person 2"), with the questions of each
copy under the copy's instance names (`member[2]/age`). A repeat of a few short questions prints
as a table instead, a row per copy, which takes a fraction of the room. Nothing here knows about
pages: the layout flows the parts this module gives it like any other block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from pipeline.forms.blocks import (
    HINT_GREY,
    Block,
    Context,
    RuleOp,
    TextOp,
    comb,
    splittable_heading,
    width_of,
)
from pipeline.forms.combs import comb_width
from pipeline.forms.phrases import phrase
from pipeline.forms.style import BOLD, MM, REGULAR
from pipeline.model import Grid, Item, Label, Note, Question, Repeat, Section
from pipeline.records import FieldBox

MAX_REPEAT_COUNT = 40  # copies printed at most: a roster of 40 already takes several pages
TABLE_QUESTIONS = 4  # a table has at most this many columns of questions ...
TABLE_CHOICES = 4  # ... each single-choice column at most this many choices ...
TABLE_CHOICE_CHARS = 14  # ... each this many characters long
TABLE_ROWS_PER_PART = 10  # rows kept together; a longer table continues, header repeated
TEXT_COLUMN = 32 * MM  # the narrowest column a name or a word is written in
CHOICE_COLUMN = 24 * MM  # a choice's label wider than this is wrapped over its tick boxes
QUESTION_COLUMN = 30 * MM  # a choice question's label wider than this wraps over its choices
BAND_GREY = 0.88  # the shaded band a copy's heading is printed on
NESTED_INDENT = 5 * MM  # a nested repeat's copy headings, moved in under their parent's
COPY_LABEL_CHARS = 60  # of a repeat's label in each copy's band ("Household member 2")


@dataclass(frozen=True)
class RepeatPart:
    """Something a repeat prints besides its questions: its heading, a copy's heading, or a part
    of its table; the layout turns it into a block like any other item."""

    what: str  # names the part in messages
    advice: str  # what to change when it does not fit a page
    build: Callable[[Context, float], Block]
    keep: bool = False  # kept on the page of what follows it
    # printed only where a page begins, blank elsewhere: it stands for the gap between questions
    page_top: bool = False


Printed = Section | Note | Question | Grid | RepeatPart


def suits_table(items: Sequence[Item]) -> bool:
    """A short list of simple questions, each of which fits a table cell."""
    if not 1 <= len(items) <= TABLE_QUESTIONS:
        return False
    return all(isinstance(item, Question) and _fits_cell(item) for item in items)


def _fits_cell(question: Question) -> bool:
    if question.other_of:
        return False
    if question.type == "select_one":
        return len(question.choices) <= TABLE_CHOICES and all(
            len(text) <= TABLE_CHOICE_CHARS for c in question.choices for _, text in c.label.texts)
    if question.type == "text":
        return question.cells > 0 or question.lines <= 4  # not a long answer (multiline)
    return question.type in ("integer", "decimal", "date")


Within = tuple[tuple[Label, int], ...]  # the copies an item is in, outermost first: (label, k)


def printed_items(items: Sequence[Item], ctx: Context, width: float,
                  within: Within = ()) -> Iterator[Printed]:
    """The items in print order, each repeat turned into its parts and its copies' items.

    Within a copy, each item after the first is preceded by the copy's heading "(continued)",
    printed only when the item begins a page, so that a respondent always knows whose answers
    the page holds: 5a, 5b are the same numbers in every copy.
    """
    for index, item in enumerate(items):
        if within and index and not (isinstance(item, Question) and item.other_of):
            # (a "please specify" line prints beside its choice, not after a gap)
            yield RepeatPart("the heading of a continued copy", "shorten its label",
                             partial(continued_heading, within), keep=True, page_top=True)
        if not isinstance(item, Repeat):
            yield item
        elif item.table and table_fits(ctx, item, width):
            yield from _table_parts(ctx, item)
        else:
            yield from _block_parts(ctx, item, width, within)


def _what(ctx: Context, repeat: Repeat) -> str:
    number = ctx.numbers.get(repeat.name)
    return f"repeat {number} ({repeat.name})" if number is not None else f"repeat {repeat.name}"


def _block_parts(ctx: Context, repeat: Repeat, width: float, within: Within
                 ) -> Iterator[Printed]:
    what = _what(ctx, repeat)
    yield RepeatPart(what, "shorten its label and hint", partial(_repeat_heading, repeat, "each"),
                     keep=True)
    for k in range(1, repeat.count + 1):
        copy = (*within, (repeat.label, k))
        yield RepeatPart(f"{what}, the heading of copy {k}", "shorten its label",
                         partial(copy_heading, copy), keep=True)
        yield from printed_items(repeat.copy_items(k), ctx, width, copy)


def _repeat_heading(repeat: Repeat, kind: str, ctx: Context, width: float) -> Block:
    """The repeat's number, label and hint, and how many copies there are to fill in."""
    block = Block()
    how = ctx.phrase(f"repeat_{kind}", n=str(repeat.count))
    hint = f"{ctx.joined(repeat.hint)} {how}" if repeat.hint else how
    y, _ = splittable_heading(block, ctx, ctx.numbers.get(repeat.name), repeat.label, hint,
                              width, ctx.filters.get(repeat.name, ()))
    block.height = y
    return block


def _copy_text(copy: Within, ctx: Context, continued: bool) -> str:
    """"Person 2", nested "Visit 1: Plot 2", in each language printed."""
    texts: list[str] = []
    for lang in ctx.languages:
        text = ": ".join(f"{_short(label.text(lang))} {k}" for label, k in copy)
        text = f"{text} {phrase('continued', lang)}" if continued else text
        if text not in texts:
            texts.append(text)
    return " / ".join(texts)


def _short(text: str) -> str:
    """A repeat's label as a copy's band shows it: the whole label is printed above the copies,
    so a long one is cut at a word, with an ellipsis."""
    if len(text) <= COPY_LABEL_CHARS:
        return text
    cut = text[:COPY_LABEL_CHARS].rsplit(" ", 1)[0] or text[:COPY_LABEL_CHARS]
    return f"{cut.rstrip()}\u2026"


def copy_heading(copy: Within, ctx: Context, width: float) -> Block:
    """The copy's label and number on a shaded band, kept with the copy's first question."""
    style = ctx.style
    block = Block()
    left = (len(copy) - 1) * NESTED_INDENT
    lines = block.lines(_copy_text(copy, ctx, False), BOLD, style.label, width - left - 6 * MM)
    height = len(lines) * style.label * 1.25 + 2.5 * MM
    block.ops.append(RuleOp((left, 0, width, height), width=0, fill_grey=BAND_GREY))
    for i, line in enumerate(lines):
        block.text(left + 2 * MM, 1.25 * MM + style.label * (0.95 + 1.25 * i), line, BOLD,
                   style.label)
    block.height = height + 2 * MM
    return block


def continued_heading(copy: Within, ctx: Context, width: float) -> Block:
    """"Visit 1 (continued)" on a slim band, in the gap between two questions of a copy.

    The layout prints it only when the question after it begins a page, and leaves the gap
    blank elsewhere; small enough for the gap, in the hint's size (16 pt in large print).
    """
    style = ctx.style
    block = Block(height=style.gap + 1.5 * MM)
    left = (len(copy) - 1) * NESTED_INDENT
    size = style.hint
    line = block.lines(_copy_text(copy, ctx, True), BOLD, size, width - left - 4 * MM)[0]
    band = min(size * 1.2 + 0.8 * MM, style.gap)
    block.ops.append(RuleOp((left, 0, width, band), width=0, fill_grey=BAND_GREY))
    block.text(left + 2 * MM, band / 2 + size * 0.35, line, BOLD, size)
    return block


# The table form

@dataclass(frozen=True)
class _Column:
    question: Question  # as the template names it; each row's copy gives the instance name
    width: float
    choice_width: float = 0.0  # of each choice's sub-column, for a single-choice question


def table_fits(ctx: Context, repeat: Repeat, width: float) -> bool:
    """Whether the repeat fits `width` (PDF points) as a table, one row per copy."""
    return _columns(ctx, repeat, width) is not None


def _columns(ctx: Context, repeat: Repeat, width: float) -> tuple[float, list[_Column]] | None:
    """(width of the copy-number column, the question columns), or None when they are too wide.

    Choices and cells take the width they need; a line to write on takes what is left, at least
    TEXT_COLUMN; without one, what is left is shared out so that the table fills the width.
    """
    style = ctx.style
    header = _header_size(ctx)
    number_width = width_of(str(repeat.count), BOLD, style.label) + 5 * MM
    questions = [item for item in repeat.items if isinstance(item, Question)]
    if len(questions) != len(repeat.items):
        return None
    needs: list[tuple[float, float]] = []  # (width, width of each choice) per question
    for question in questions:
        if question.type == "select_one":
            # each choice's label on a line of its own per language, where it fits on one
            texts = [t for c in question.choices for t in ctx.texts(c.label)]
            each = max([style.tick + 4 * MM,
                        *(min(width_of(t, REGULAR, header), CHOICE_COLUMN) + 2 * MM
                          for t in texts)])
            # and room for the question's label over them, on a line when it is short
            label = max(width_of(t, BOLD, header) for t in ctx.texts(question.label) or [""])
            each = max(each, min(label + 2 * MM, QUESTION_COLUMN) / len(question.choices))
            needs.append((each * len(question.choices), each))
        elif question.uses_cells:
            needs.append((comb_width(ctx.style, question) + 3 * MM, 0.0))
        else:
            needs.append((TEXT_COLUMN, 0.0))
    spare = width - number_width - sum(w for w, _ in needs)
    if spare < 0:
        return None
    lines = [q.type == "text" and not q.uses_cells for q in questions]
    takers = sum(lines) or len(questions)
    columns = []
    for question, (need, each), line in zip(questions, needs, lines, strict=True):
        extra = spare / takers if line or not any(lines) else 0.0
        share = extra / len(question.choices) if question.type == "select_one" else 0.0
        columns.append(_Column(question, need + extra, each + share))
    return number_width, columns


def _header_size(ctx: Context) -> float:
    return min(ctx.style.hint, ctx.style.body)


def _table_parts(ctx: Context, repeat: Repeat) -> Iterator[Printed]:
    what = _what(ctx, repeat)
    for first in range(1, repeat.count + 1, TABLE_ROWS_PER_PART):
        last = min(first + TABLE_ROWS_PER_PART - 1, repeat.count)
        yield RepeatPart(f"{what}, rows {first}-{last}",
                         "shorten its column labels, or print it as copies (papertwin::table no)",
                         partial(_table_block, repeat, first, last))


def _table_block(repeat: Repeat, first: int, last: int, ctx: Context, width: float) -> Block:
    """Rows first..last of the table, under the column labels (and the heading, on the first)."""
    style = ctx.style
    block = Block()
    y = 0.0
    if first == 1:
        heading = _repeat_heading(repeat, "rows", ctx, width)
        block.ops.extend(heading.ops)
        block.broken.extend(heading.broken)
        y = heading.height
    found = _columns(ctx, repeat, width)
    if found is None:  # printed_items prints the table only when it fits
        raise ValueError(f"repeat {repeat.name} is too wide for a table")
    number_width, columns = found
    y = _column_labels(block, ctx, columns, number_width, y)
    height = max(style.cell_h, style.line, style.row) + 2 * MM
    for k in range(first, last + 1):
        if k % 2:
            block.ops.append(RuleOp((0, y, width, y + height), width=0, fill_grey=0.93))
        block.ops.append(TextOp(number_width / 2, y + height / 2 + style.label * 0.35, str(k),
                                BOLD, style.label, align="centre"))
        x = number_width
        for column, item in zip(columns, repeat.copy_items(k), strict=True):
            if isinstance(item, Question):  # always: a table holds questions only
                _table_cell(block, ctx, column, item, x, y, height)
            x += column.width
        y += height
    block.ops.append(RuleOp((0, y, width, y), width=0.6, grey=0.4, line_only=True))
    block.height = y + 1 * MM
    return block


def _stacked(block: Block, ctx: Context, label: Label, font: str, size: float,
             width: float) -> list[str]:
    """The label's lines, each language beginning a line of its own."""
    return [line for text in ctx.texts(label) for line in block.lines(text, font, size, width)]


def _column_labels(block: Block, ctx: Context, columns: list[_Column], number_width: float,
                   y: float) -> float:
    """Each question's label over its column; a choice question's choices under it."""
    size = _header_size(ctx)
    leading = size * 1.2
    labels = [_stacked(block, ctx, c.question.label, BOLD, size, c.width - 2 * MM)
              for c in columns]
    rows = max(len(lines) for lines in labels)
    x = number_width
    for column, lines in zip(columns, labels, strict=True):
        top = y + (rows - len(lines)) * leading
        for j, line in enumerate(lines):
            block.ops.append(TextOp(x + column.width / 2, top + size + j * leading, line, BOLD,
                                    size, align="centre"))
        x += column.width
    y += rows * leading + 1 * MM
    choice_lines = [[_stacked(block, ctx, choice.label, REGULAR, size, c.choice_width - 1 * MM)
                     for choice in c.question.choices] for c in columns]
    deepest = max((len(lines) for per in choice_lines for lines in per), default=0)
    x = number_width
    for column, per in zip(columns, choice_lines, strict=True):
        for i, lines in enumerate(per):
            centre = x + (i + 0.5) * column.choice_width
            top = y + (deepest - len(lines)) * leading
            for j, line in enumerate(lines):
                block.ops.append(TextOp(centre, top + size + j * leading, line, REGULAR, size,
                                        grey=HINT_GREY, align="centre"))
        x += column.width
    return y + deepest * leading + 1.5 * MM


def _table_cell(block: Block, ctx: Context, column: _Column, question: Question, x: float,
                y: float, height: float) -> None:
    """The answer boxes of one question in one row, under the copy's instance name."""
    style = ctx.style
    if question.type == "select_one":
        for i, choice in enumerate(question.choices):
            centre = x + (i + 0.5) * column.choice_width
            box = (centre - style.tick / 2, y + (height - style.tick) / 2,
                   centre + style.tick / 2, y + (height + style.tick) / 2)
            block.ops.append(RuleOp(box, width=1.0, fill_grey=1.0))
            block.fields.append(FieldBox(question.name, "choice", box, choice.name))
    elif question.uses_cells:
        left = x + (column.width - comb_width(ctx.style, question)) / 2
        comb(block, ctx, question, left, y + (height - style.cell_h) / 2, fill_grey=1.0)
    else:
        area = (x + 1 * MM, y + (height - style.line) / 2, x + column.width - 1 * MM,
                y + (height + style.line) / 2)
        block.ops.append(RuleOp(area, width=1.0, fill_grey=1.0))
        block.fields.append(FieldBox(question.name, "text", area))


