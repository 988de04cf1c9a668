"""What each part of a questionnaire looks like: drawing operations and answer boxes.

A block is laid out at a given width with y measured down from its own top; the page flow
(layout.py) decides where it goes. Nothing here knows about pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reportlab.lib.utils import simpleSplit

from pipeline.forms import typeset
from pipeline.forms.manifest import Box, FieldBox
from pipeline.forms.phrases import phrase
from pipeline.forms.routing import END
from pipeline.forms.style import BOLD, MM, REGULAR, Style
from pipeline.model import Choice, Grid, Label, Question

HINT_GREY = 0.25
GUIDE_GREY = 0.78  # dotted writing lines: light enough that the reader's ink threshold drops them


@dataclass(frozen=True)
class TextOp:
    x: float
    y: float  # baseline, measured down from the top
    text: str
    font: str
    size: float
    grey: float = 0.0
    align: str = "left"


@dataclass(frozen=True)
class RuleOp:
    box: Box
    width: float = 0.8  # of the outline; 0 for none
    grey: float = 0.0  # of the outline: 0 black .. 1 white
    fill_grey: float | None = None  # fill the box with this grey
    dotted: bool = False
    line_only: bool = False  # draw the top edge only (a rule or a writing line)


DrawOp = TextOp | RuleOp


@dataclass
class Block:
    """Ops and fields with y relative to the block's top, and the block's height."""

    ops: list[DrawOp] = field(default_factory=list)
    fields: list[FieldBox] = field(default_factory=list)
    height: float = 0.0
    broken: list[str] = field(default_factory=list)  # words too wide for a line, broken up
    missing: list[str] = field(default_factory=list)  # characters no font prints

    def text(self, x: float, y: float, text: str, font: str, size: float,
             grey: float = 0.0) -> None:
        self.ops.append(TextOp(x, y, text, font, size, grey))

    def lines(self, text: str, font: str, size: float, width: float) -> list[str]:
        """`wrap`, remembering the words it had to break so that the build can warn of them."""
        lines, broken = wrap_breaking(text, font, size, width)
        self.broken.extend(broken)
        self.missing.extend(typeset.missing_glyphs(text, font))
        return lines

    def paragraph(self, x: float, y: float, width: float, text: str, font: str, size: float,
                  grey: float = 0.0, leading: float = 1.3) -> float:
        """Wrapped text from y (the top of the first line); returns the y below it."""
        for line in self.lines(text, font, size, width):
            self.text(x, y + size, line, font, size, grey)
            y += size * leading
        return y


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than `width`: at spaces, and within a word too long for a line."""
    return wrap_breaking(text, font, size, width)[0]


def wrap_breaking(text: str, font: str, size: float,
                  width: float) -> tuple[list[str], list[str]]:
    """The lines, and the words that were too wide for one and so were broken across lines."""
    lines: list[str] = []
    broken: list[str] = []
    for paragraph in text.split("\n"):
        if typeset.is_plain(paragraph):
            split = simpleSplit(paragraph, font, size, width) or [""]
        else:  # other scripts: measured shaped, and CJK broken between characters
            split = typeset.split_words(paragraph, font, size, width)
        for line in split:
            if width_of(line, font, size) <= width:
                lines.append(line)
                continue
            # simpleSplit leaves a word wider than the line on a line of its own
            broken.append(line)
            lines.extend(_break_word(line, font, size, width))
    return lines, broken


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    """The word in pieces that each fit the width (at least one character each)."""
    pieces: list[str] = []
    start, used = 0, 0.0
    plain = typeset.is_plain(word)
    for index, char in enumerate(word):
        advance = width_of(char, font, size)
        if plain:
            too_wide = used + advance > width
        else:  # shaped letters are not the sum of single ones: measure the piece
            too_wide = width_of(word[start:index + 1], font, size) > width
        if index > start and too_wide:
            pieces.append(word[start:index])
            start, used = index, 0.0
        used += advance
    pieces.append(word[start:])
    return pieces


def width_of(text: str, font: str, size: float) -> float:
    """The printed width: shaped glyphs, in the font each script prints in."""
    return typeset.width_of(text, font, size)


@dataclass(frozen=True)
class Context:
    style: Style
    languages: tuple[str, ...]
    numbers: Mapping[str, int | str]  # question, grid or repeat name -> printed number (5, 5a)
    right_to_left: bool = False  # laid out as usual, then mirrored (pipeline/forms/mirror.py)

    def texts(self, label: Label) -> list[str]:
        """The label in each printed language, without repeats."""
        seen: list[str] = []
        for lang in self.languages:
            text = label.text(lang)
            if text and text not in seen:
                seen.append(text)
        return seen

    def joined(self, label: Label) -> str:
        return " / ".join(self.texts(label))

    def phrase(self, key: str, **values: str) -> str:
        texts: list[str] = []
        for lang in self.languages:
            text = phrase(key, lang, **values)
            if text not in texts:
                texts.append(text)
        return " / ".join(texts)

    @property
    def arrow(self) -> str:
        """The routing arrow, pointing on in the direction the form reads."""
        return "\u2190" if self.right_to_left else "\u2192"

    def route_text(self, target: str) -> str:
        if target == END:
            return f"{self.arrow} " + self.phrase("go_to_end")
        return f"{self.arrow} " + self.phrase("go_to", n=str(self.numbers.get(target, "?")))


def heading_block(ctx: Context, label: Label, width: float) -> Block:
    block = Block()
    style = ctx.style
    y = style.gap * 0.4
    for text in ctx.texts(label):
        y = block.paragraph(0, y, width, text, BOLD, style.heading, leading=1.25)
    block.ops.append(RuleOp((0, y + 1.5 * MM, width, y + 1.5 * MM), width=1.2, line_only=True))
    block.height = y + 3 * MM
    return block


def note_block(ctx: Context, label: Label, width: float) -> Block:
    block = Block()
    y = 0.0
    for text in ctx.texts(label):
        y = block.paragraph(0, y, width, text, REGULAR, ctx.style.body)
    block.height = y + ctx.style.gap * 0.6
    return block


def question_heading(block: Block, ctx: Context, number: int | str | None, label: Label,
                     hint: str, width: float) -> tuple[float, float]:
    """Number, label (every language) and hint; returns (y below them, indent of the answers)."""
    style = ctx.style
    widest = "00."  # a repeat's questions are 5a, 12b, and those of a nested one 5c.1
    if isinstance(number, str):
        widest = max("00a.", f"{number}.", key=lambda text: width_of(text, BOLD, style.label))
    indent = width_of(widest, BOLD, style.label) + 2.5 * MM
    y = 0.0
    if number is not None:
        block.text(0, style.label, f"{number}.", BOLD, style.label)
    for text in ctx.texts(label):
        y = block.paragraph(indent, y, width - indent, text, BOLD, style.label, leading=1.25)
    if hint:
        y = block.paragraph(indent, y + 0.5 * MM, width - indent, hint, REGULAR, style.hint,
                            grey=HINT_GREY)
    return y + 2 * MM, indent


def _numbered_heading(block: Block, ctx: Context, question: Question, default_hint: str,
                      width: float) -> tuple[float, float]:
    hint = ctx.joined(question.hint) or ctx.phrase(default_hint)
    return question_heading(block, ctx, ctx.numbers.get(question.name), question.label, hint,
                            width)


def choice_question_block(ctx: Context, question: Question, width: float,
                          specify: Question | None = None) -> Block:
    style = ctx.style
    block = Block()
    default_hint = "tick_one" if question.type == "select_one" else "tick_all"
    y, indent = _numbered_heading(block, ctx, question, default_hint, width)
    if question.horizontal:
        y = _horizontal_choices(block, ctx, question, indent, width, y)
    else:
        for choice in question.choices:
            y = _choice_row(block, ctx, question, choice, indent, width, y, specify)
    block.height = y - (style.row - style.tick) + 1 * MM
    return block


def _choice_row(block: Block, ctx: Context, question: Question, choice: Choice, indent: float,
                width: float, y: float, specify: Question | None) -> float:
    style = ctx.style
    box = (indent, y, indent + style.tick, y + style.tick)
    block.ops.append(RuleOp(box, width=1.0))
    block.fields.append(FieldBox(question.name, "choice", box, choice.name))
    label_x = box[2] + 3 * MM
    text = ctx.joined(choice.label)
    if choice.route_to:
        text = f"{text}   {ctx.route_text(choice.route_to)}"
    lines = block.lines(text, REGULAR, style.body, width - label_x)
    baseline = y + style.tick / 2 + style.body * 0.35
    for i, line in enumerate(lines):
        routed = choice.route_to and i == len(lines) - 1 and ctx.arrow in line
        block.text(label_x, baseline + i * style.body * 1.25, line, BOLD if routed else REGULAR,
                   style.body)
    y += style.row + (len(lines) - 1) * style.body * 1.25
    if specify is not None and choice.name == _specify_choice(question):
        prompt = ctx.phrase("specify")
        block.text(label_x, y + style.body, prompt, REGULAR, style.hint, HINT_GREY)
        left = label_x + width_of(prompt, REGULAR, style.hint) + 2 * MM
        area = (left, y - 1 * MM, width, y - 1 * MM + style.line)
        block.ops.append(RuleOp(area, width=0.8))
        block.fields.append(FieldBox(specify.name, "text", area))
        y += style.line + 1.5 * MM
    return y


def _specify_choice(question: Question) -> str:
    """The choice a "please specify" text belongs to: one named like "other", else the last."""
    for choice in question.choices:
        if choice.name.lower() in ("other", "other_way", "another", "else"):
            return choice.name
    return question.choices[-1].name


def _horizontal_choices(block: Block, ctx: Context, question: Question, indent: float,
                        width: float, y: float) -> float:
    style = ctx.style
    x = indent
    room = width - indent - style.tick - 2 * MM  # for a choice's text on a row of its own
    for choice in question.choices:
        text = ctx.joined(choice.label)
        if choice.route_to:
            text = f"{text} {ctx.route_text(choice.route_to)}"
        needed = style.tick + 2 * MM + width_of(text, REGULAR, style.body) + 8 * MM
        if x > indent and x + needed > width:
            x, y = indent, y + style.row
        box = (x, y, x + style.tick, y + style.tick)
        block.ops.append(RuleOp(box, width=1.0))
        block.fields.append(FieldBox(question.name, "choice", box, choice.name))
        font = BOLD if choice.route_to else REGULAR
        baseline = y + style.tick / 2 + style.body * 0.35
        lines = [text]
        if width_of(text, REGULAR, style.body) > room:  # too long for any row: wrapped
            lines = block.lines(text, font, style.body, room)
        for i, line in enumerate(lines):
            block.text(box[2] + 2 * MM, baseline + i * style.body * 1.25, line, font, style.body)
        if len(lines) > 1:  # too long to share a row: it takes rows of its own
            x, y = width, y + (len(lines) - 1) * style.body * 1.25
        else:
            x += needed
    return y + style.row


def grid_block(ctx: Context, grid: Grid, width: float) -> Block:
    style = ctx.style
    block = Block()
    default_hint = "tick_all" if grid.multiple else "tick_row"
    hint = ctx.joined(grid.hint) or ctx.phrase(default_hint)
    y, indent = question_heading(block, ctx, ctx.numbers.get(grid.name), grid.label, hint, width)
    label_width = (width - indent) * 0.38
    column = (width - indent - label_width) / len(grid.choices)
    header_size = min(style.hint, style.body)
    words = [w for c in grid.choices for w in ctx.joined(c.label).split()]
    if max(width_of(w, REGULAR, header_size) for w in words) > column - 1.5 * MM:
        return _stacked_grid(block, ctx, grid, indent, width, y)
    header_lines = [block.lines(ctx.joined(c.label), REGULAR, header_size, column - 1.5 * MM)
                    for c in grid.choices]
    rows_of_header = max(len(lines) for lines in header_lines)
    for i, lines in enumerate(header_lines):
        centre = indent + label_width + (i + 0.5) * column
        top = y + (rows_of_header - len(lines)) * header_size * 1.2
        for j, line in enumerate(lines):
            block.ops.append(TextOp(centre, top + header_size + j * header_size * 1.2, line,
                                    REGULAR, header_size, align="centre"))
    y += rows_of_header * header_size * 1.2 + 2 * MM
    for index, row in enumerate(grid.rows):
        lines = block.lines(ctx.joined(row.label), REGULAR, style.body, label_width - 2 * MM)
        height = max(style.row, len(lines) * style.body * 1.25 + 2.5 * MM)
        if index % 2 == 0:
            shade = (indent - 1 * MM, y, width, y + height)
            block.ops.append(RuleOp(shade, width=0, fill_grey=0.93))
        text_top = y + (height - len(lines) * style.body * 1.25) / 2
        for j, line in enumerate(lines):
            block.text(indent, text_top + style.body * 0.95 + j * style.body * 1.25, line,
                       REGULAR, style.body)
        for i, choice in enumerate(grid.choices):
            centre = indent + label_width + (i + 0.5) * column
            box = (centre - style.tick / 2, y + (height - style.tick) / 2,
                   centre + style.tick / 2, y + (height + style.tick) / 2)
            block.ops.append(RuleOp(box, width=1.0, fill_grey=1.0))
            block.fields.append(FieldBox(row.name, "choice", box, choice.name))
        y += height
    block.height = y + 1 * MM
    return block


def _stacked_grid(block: Block, ctx: Context, grid: Grid, indent: float, width: float,
                  y: float) -> Block:
    """A grid too wide for its page (large print): each row a labelled line of choices."""
    style = ctx.style
    for row in grid.rows:
        y = block.paragraph(indent, y, width - indent, ctx.joined(row.label), BOLD, style.body)
        y = _horizontal_choices(block, ctx, row, indent + 4 * MM, width, y + 1 * MM)
        y += 1 * MM
    block.height = y
    return block


def cells_block(ctx: Context, question: Question, width: float) -> Block:
    """A comb of character cells: one letter or digit per cell, dates grouped DD MM YYYY."""
    style = ctx.style
    block = Block()
    default_hint = "write_date" if question.type == "date" else "write_cells"
    y, indent = _numbered_heading(block, ctx, question, default_hint, width)
    count = question.cells or 8
    groups = _cell_groups(question, count)
    x = indent
    index = 0
    for group_number, size in enumerate(groups):
        if group_number:
            separator = "/" if question.type == "date" else "."
            block.text(x + 0.8 * MM, y + style.cell_h * 0.75, separator, BOLD, style.label)
            x += 3.5 * MM
        for _ in range(size):
            box = (x, y, x + style.cell_w, y + style.cell_h)
            block.ops.append(RuleOp(box, width=0.9))
            block.fields.append(FieldBox(question.name, "char", box, index=index))
            x += style.cell_w
            index += 1
    block.height = y + style.cell_h + 1 * MM
    return block


def _cell_groups(question: Question, count: int) -> Sequence[int]:
    if question.type == "date":
        return (2, 2, 4)
    if question.type == "decimal" and count > 2:
        return (count - 2, 2)
    return (count,)


def text_area_block(ctx: Context, question: Question, width: float, lines: int,
                    continued: bool = False, with_heading: bool = True) -> Block:
    """A framed writing area with faint guide lines; long text may continue on the next page."""
    style = ctx.style
    block = Block()
    y, indent = 0.0, 0.0
    if with_heading:
        label = question.label
        if continued:
            label = Label.of({lang: f"{question.label.text(lang)} {phrase('continued', lang)}"
                              for lang in ctx.languages})
        hint = ctx.joined(question.hint) or ("" if continued else ctx.phrase("write_text"))
        number = None if continued else ctx.numbers.get(question.name)
        y, indent = question_heading(block, ctx, number, label, hint, width)
    area = (indent, y, width, y + lines * style.line)
    block.ops.append(RuleOp(area, width=1.0))
    for line in range(1, lines):
        rule_y = y + line * style.line
        block.ops.append(RuleOp((indent + 2 * MM, rule_y, width - 2 * MM, rule_y), width=0.5,
                                grey=GUIDE_GREY, dotted=True, line_only=True))
    block.fields.append(FieldBox(question.name, "text", area))
    block.height = area[3] + 1 * MM
    return block


def heading_height(ctx: Context, question: Question, width: float) -> float:
    probe = Block()
    y, _ = question_heading(probe, ctx, 1, question.label, ctx.joined(question.hint) or "x",
                            width)
    return y
