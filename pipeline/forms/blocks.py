"""What each part of a questionnaire looks like: drawing operations and answer boxes.

A block is laid out at a given width with y measured down from its own top; the page flow
(layout.py) decides where it goes. Nothing here knows about pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise

from reportlab.lib.utils import simpleSplit

from pipeline.forms import typeset
from pipeline.forms.combs import comb_groups, separator_width
from pipeline.forms.phrases import phrase
from pipeline.forms.route import END, specify_choice
from pipeline.forms.style import BOLD, MM, REGULAR, Style
from pipeline.model import Choice, Grid, Label, Question
from pipeline.records import Box, FieldBox

HINT_GREY = 0.2  # hints and second languages: very dark grey, never faint (style.py)
REFERENCE = re.compile(r"\$\{\s*([^{}\s]+)\s*\}")  # XLSForm's ${name}, in a label
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
    # Where the page flow may split the block (y from its top): `cuts` between answers (choices,
    # grid rows) and lines of a note; `weak_cuts` between the lines of a label, used only when
    # the part before the first cut is taller than a page (splitting.py).
    cuts: list[float] = field(default_factory=list)
    weak_cuts: list[float] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, font: str, size: float,
             grey: float = 0.0) -> None:
        """Draw one line of text, x and y in PDF points from the block's top-left, y its
        baseline; it is not wrapped (`paragraph` wraps)."""
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
    # item name -> "Answer this only if ..." in each printed language (condition_words.py)
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def texts(self, label: Label) -> list[str]:
        """The label in each printed language, without repeats; a `${x}` in it printed as "your
        answer to question n" (a value worked out by the form, which paper cannot show: "…")."""
        seen: list[str] = []
        for lang in self.languages:
            text = label.text(lang)
            if "${" in text:
                text = REFERENCE.sub(partial(self._reference, lang), text)
            if text and text not in seen:
                seen.append(text)
        return seen

    def _reference(self, lang: str, match: re.Match[str]) -> str:
        number = self.numbers.get(match[1])
        return "\u2026" if number is None else phrase("answer_to", lang, n=str(number))

    def joined(self, label: Label) -> str:
        """The label in each printed language on one line, separated by " / "."""
        return " / ".join(self.texts(label))

    def phrase(self, key: str, **values: str) -> str:
        """A fixed text (phrases.py) in each printed language, each said once, separated by
        " / "; `values` fill its placeholders."""
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
        """The go-to printed beside a choice: the arrow and "Go to question N", or "Go to the
        end" when `target` is END, in each printed language."""
        if target == END:
            return f"{self.arrow} " + self.phrase("go_to_end")
        return f"{self.arrow} " + self.phrase("go_to", n=str(self.numbers.get(target, "?")))


def heading_block(ctx: Context, label: Label, width: float,
                  filters: Sequence[str] = ()) -> Block:
    """A section's heading, with the filter that holds for all its questions under it."""
    block = Block()
    style = ctx.style
    y = style.gap * 0.4
    for text in ctx.texts(label):
        y = block.paragraph(0, y, width, text, BOLD, style.heading, leading=1.25)
    block.weak_cuts.extend(line_cuts(block.ops))
    block.ops.append(RuleOp((0, y + 1.5 * MM, width, y + 1.5 * MM), width=1.2, line_only=True))
    block.height = y + 3 * MM
    if filters:
        y = filter_band(block, ctx, filters, 0, block.height + 1 * MM, width)
        block.height = y + 2 * MM
    return block


def filter_band(block: Block, ctx: Context, filters: Sequence[str], x: float, top: float,
                right: float) -> float:
    """"Answer this only if ..." lines on a pale band, so that they read as an instruction and
    not as a question; returns the y below the band."""
    start = len(block.ops)
    y = top + 1 * MM
    for text in filters:
        y = block.paragraph(x + 1.5 * MM, y, right - x - 3 * MM, f"{ctx.arrow} {text}", BOLD,
                            ctx.style.body, leading=1.25)
    block.ops.insert(start, RuleOp((x, top, right, y + 1.5 * MM), width=0,
                                   fill_grey=FILTER_GREY))
    return y + 1.5 * MM


def note_block(ctx: Context, label: Label, width: float) -> Block:
    """A note (text that asks for no answer) as a block; a long one may be split between its
    lines."""
    block = Block()
    y = 0.0
    for text in ctx.texts(label):
        y = block.paragraph(0, y, width, text, REGULAR, ctx.style.body)
    block.cuts.extend(line_cuts(block.ops, skip_first=2, skip_last=2))  # a long note may go on
    block.height = y + ctx.style.gap * 0.6
    return block


FILTER_GREY = 0.9  # the band behind an "Answer this only if" line


def question_heading(block: Block, ctx: Context, number: int | str | None, label: Label,
                     hint: str, width: float, filters: Sequence[str] = ()
                     ) -> tuple[float, float]:
    """Filter lines, number, label (every language) and hint; returns (y below them, indent of
    the answers). A filter comes first, so that it is read before the question is answered."""
    style = ctx.style
    widest = "00a." if isinstance(number, str) else "00."  # a repeat's: 5a, 12b, nested 5c.1
    if number is not None:  # question 100 and on, 5c.1: wider
        widest = max(widest, f"{number}.", key=lambda text: width_of(text, BOLD, style.label))
    indent = width_of(widest, BOLD, style.label) + 2.5 * MM
    y = filter_band(block, ctx, filters, indent, 0, width) + 2 * MM if filters else 0.0
    if number is not None:
        block.text(0, y + style.label, f"{number}.", BOLD, style.label)
    for text in ctx.texts(label):
        y = block.paragraph(indent, y, width - indent, text, BOLD, style.label, leading=1.25)
    if hint:
        y = block.paragraph(indent, y + 0.5 * MM, width - indent, hint, REGULAR, style.hint,
                            grey=HINT_GREY)
    return y + 2 * MM, indent


def numbered_heading(block: Block, ctx: Context, question: Question, default_hint: str,
                     width: float) -> tuple[float, float]:
    """A question's heading with its printed number, its hint (the type's `default_hint` phrase
    when the template gives none) and its filter; returns (y below it, indent of the answers) in
    PDF points."""
    hint = ctx.joined(question.hint) or ctx.phrase(default_hint)
    return splittable_heading(block, ctx, ctx.numbers.get(question.name), question.label,
                              hint, width, ctx.filters.get(question.name, ()))


def splittable_heading(block: Block, ctx: Context, number: int | str | None, label: Label,
                       hint: str, width: float, filters: Sequence[str] = ()
                       ) -> tuple[float, float]:
    """`question_heading`, marking the lines of a label too long for a page as places to cut."""
    start = len(block.ops)
    y, indent = question_heading(block, ctx, number, label, hint, width, filters)
    block.weak_cuts.extend(line_cuts(block.ops[start:]))
    return y, indent


def continued_heading(ctx: Context, number: int | str | None, label: Label, width: float) -> Block:
    """What a question continued on the next page starts with: its number, and the start of
    its label with "(continued)" in each printed language, one line each."""
    block = Block()
    y, _ = splittable_heading(block, ctx, number, continued_label(ctx, label, width), "",
                              width)
    block.height = y
    return block


def continued_label(ctx: Context, label: Label, width: float) -> Label:
    """The label's first line (shortened with an ellipsis) and "(continued)", per language."""
    style = ctx.style
    room = width - width_of("00.", BOLD, style.label) - 2.5 * MM
    texts: dict[str, str] = {}
    for lang in ctx.languages:
        suffix = f" {phrase('continued', lang)}"
        start = first_line(label.text(lang), BOLD, style.label,
                            room - width_of(suffix, BOLD, style.label))
        texts[lang] = f"{start}{suffix}".strip()
    return Label(tuple(texts.items()))


def first_line(text: str, font: str, size: float, width: float) -> str:
    """The text's first line at this width, with an ellipsis when more follows."""
    lines = wrap(text, font, size, max(width, size))
    if len(lines) <= 1:
        return lines[0] if lines else ""
    shortened = wrap(lines[0], font, size, max(width - width_of(" …", font, size), size))[0]
    return f"{shortened.rstrip()} …"


def line_cuts(ops: Sequence[DrawOp], skip_first: int = 1, skip_last: int = 1) -> list[float]:
    """Places to cut between consecutive lines of text among `ops` (one label or paragraph),
    keeping at least `skip_first` lines above the first cut and `skip_last` below the last."""
    baselines = sorted({(op.y, op.size) for op in ops if isinstance(op, TextOp)})
    cuts = []
    for (y, size), (next_y, next_size) in pairwise(baselines):
        between = (y + 0.24 * size + next_y - 0.93 * next_size) / 2
        cuts.append(min(max(between, y + 0.01), next_y - 0.01))
    return cuts[skip_first - 1:len(cuts) - (skip_last - 1)]


def choice_question_block(ctx: Context, question: Question, width: float,
                          specify: Question | None = None) -> Block:
    """A choice question: vertical list of boxes, or for appearance horizontal one row (or rows
    of aligned columns); may be cut between choices."""
    style = ctx.style
    block = Block()
    default_hint = "tick_one" if question.type == "select_one" else "tick_all"
    y, indent = numbered_heading(block, ctx, question, default_hint, width)
    columns = 1 if specify is not None else list_columns(ctx, question, width - indent)
    if question.horizontal and specify is None:
        y = _horizontal_choices(block, ctx, question, indent, width, y)
    elif columns > 1:
        y = _columned_choices(block, ctx, question, indent, width, y, columns)
    else:
        beside = specify_choice(question) if specify is not None else ""
        for index, choice in enumerate(question.choices):
            if index:
                block.cuts.append(y)
            y = _choice_row(block, ctx, question, choice, indent, width, y,
                            specify if choice.name == beside else None)
    # a "please specify" area under the last choice reaches lower than its row's box
    bottom = max((f.box[3] for f in block.fields), default=y)
    block.height = max(y - (style.row - style.tick), bottom) + 1 * MM
    return block


COLUMNED_LIST = 16  # choices: a list this long of short labels prints in columns
COLUMN_ROWS = 10  # rows of a band of columns: read down each column, then the next band
BAND_GAP = 0.5  # of a row, between bands, so that no one reads on down a column into the next
COLUMN_GAP = 4 * MM


def list_columns(ctx: Context, question: Question, room: float) -> int:
    """How many columns a long list of short choices takes (1: a plain list), so that a list of
    hundreds of districts fills pages rather than a thin strip down each."""
    if len(question.choices) < COLUMNED_LIST or any(c.route_to for c in question.choices):
        return 1
    style = ctx.style
    widest = max(width_of(ctx.joined(c.label), REGULAR, style.body) for c in question.choices)
    for columns in (4, 3, 2):
        if style.tick + 3 * MM + widest + COLUMN_GAP <= room / columns:
            return columns
    return 1


def _columned_choices(block: Block, ctx: Context, question: Question, indent: float,
                      width: float, y: float, columns: int) -> float:
    """Bands of COLUMN_ROWS rows, each read down its columns; the page flow may cut between
    bands, so the order on every page is the order of the list."""
    style = ctx.style
    column_width = (width - indent) / columns
    per_band = COLUMN_ROWS * columns
    for start in range(0, len(question.choices), per_band):
        band = question.choices[start:start + per_band]
        rows = -(-len(band) // columns)
        if start:
            block.cuts.append(y)
            y += style.row * BAND_GAP
        for index, choice in enumerate(band):
            column, row = divmod(index, rows)
            x, top = indent + column * column_width, y + row * style.row
            box = (x, top, x + style.tick, top + style.tick)
            block.ops.append(RuleOp(box, width=1.0))
            block.fields.append(FieldBox(question.name, "choice", box, choice.name))
            label_x = box[2] + 3 * MM
            line = block.lines(ctx.joined(choice.label), REGULAR, style.body,
                               column_width - (label_x - x) - COLUMN_GAP)[0]
            block.text(label_x, top + style.tick / 2 + style.body * 0.35, line, REGULAR,
                       style.body)
        y += rows * style.row
    return y


def choice_continuation(ctx: Context, question: Question, width: float) -> Block:
    """The heading of a choice question's part on a later page."""
    return continued_heading(ctx, ctx.numbers.get(question.name), question.label, width)


def _choice_text(ctx: Context, choice: Choice, gap: str) -> str:
    text = ctx.joined(choice.label)
    return f"{text}{gap}{ctx.route_text(choice.route_to)}" if choice.route_to else text


def _choice_row(block: Block, ctx: Context, question: Question, choice: Choice, indent: float,
                width: float, y: float, specify: Question | None) -> float:
    style = ctx.style
    box = (indent, y, indent + style.tick, y + style.tick)
    block.ops.append(RuleOp(box, width=1.0))
    block.fields.append(FieldBox(question.name, "choice", box, choice.name))
    label_x = box[2] + 3 * MM
    measure = BOLD if choice.route_to else REGULAR  # its routing line is printed bold
    lines = block.lines(_choice_text(ctx, choice, "   "), measure, style.body, width - label_x)
    baseline = y + style.tick / 2 + style.body * 0.35
    start = len(block.ops)
    for i, line in enumerate(lines):
        routed = choice.route_to and i == len(lines) - 1 and ctx.arrow in line
        block.text(label_x, baseline + i * style.body * 1.25, line, BOLD if routed else REGULAR,
                   style.body)
    block.weak_cuts.extend(line_cuts(block.ops[start:], skip_first=2))
    y += style.row + (len(lines) - 1) * style.body * 1.25
    if specify is not None:  # the "please specify" line of this choice
        y = specify_line(block, ctx, specify, label_x, width, y)
    return y


def specify_line(block: Block, ctx: Context, specify: Question, left: float, width: float,
                 y: float) -> float:
    """A "please specify" prompt and its writing area from `left`; returns the y below it."""
    style = ctx.style
    prompt = ctx.phrase("specify")
    block.text(left, y + style.body, prompt, REGULAR, style.hint, HINT_GREY)
    start = left + width_of(prompt, REGULAR, style.hint) + 2 * MM
    area = (start, y - 1 * MM, width, y - 1 * MM + style.line)
    block.ops.append(RuleOp(area, width=0.8))
    block.fields.append(FieldBox(specify.name, "text", area))
    return y + style.line + 1.5 * MM


LIST_SPACING = 8 * MM  # after each choice of a line of choices


def _horizontal_choices(block: Block, ctx: Context, question: Question, indent: float,
                        width: float, y: float) -> float:
    """One row when the choices fit across; else aligned columns, else a list: never a ragged
    wrap whose boxes land in different places on each line."""
    style = ctx.style
    spacing = LIST_SPACING
    texts = [_choice_text(ctx, c, " ") for c in question.choices]
    fonts = [BOLD if c.route_to else REGULAR for c in question.choices]
    needed = [style.tick + 2 * MM + width_of(t, f, style.body) + spacing
              for t, f in zip(texts, fonts, strict=True)]
    if indent + sum(needed) <= width:
        x = indent
        for choice, text, font, room in zip(question.choices, texts, fonts, needed, strict=True):
            _tick_with_text(block, ctx, question.name, choice, x, y, [text], font)
            x += room
        return y + style.row
    columns = column_widths(needed, width - indent, spacing)
    if len(columns) < 2:
        for index, choice in enumerate(question.choices):
            if index:
                block.cuts.append(y)
            y = _choice_row(block, ctx, question, choice, indent, width, y, None)
        return y
    return _aligned_choices(block, ctx, question.name, question.choices, indent, y, columns,
                            spacing, cut_between=True)


def column_widths(needed: Sequence[float], room: float, spacing: float) -> tuple[float, ...]:
    """The most columns the choices fit across `room` in, filled line by line in order, each
    column as wide as its widest choice; one column (a list) when no two fit."""
    def widths(count: int) -> tuple[float, ...]:
        return tuple(max(needed[j::count]) for j in range(count))

    for count in range(len(needed), 1, -1):
        if sum(widths(count)) - spacing <= room:
            lines = -(-len(needed) // count)
            even = -(-len(needed) // lines)  # as many lines, filled evenly: 4 4 3, not 5 5 1
            if sum(widths(even)) - spacing <= room:
                return widths(even)
            return widths(count)
    return (room,)


def _aligned_choices(block: Block, ctx: Context, name: str, choices: Sequence[Choice],
                     left: float, y: float, columns: tuple[float, ...], spacing: float,
                     cut_between: bool) -> float:
    """Choices line by line in fixed columns, in order: the same place for the same choice
    wherever the list is printed (on every row of a grid)."""
    style = ctx.style
    pitch = style.body * 1.25
    count = len(columns)
    lefts = [left + sum(columns[:j]) for j in range(count)]
    for start in range(0, len(choices), count):
        if start and cut_between:
            block.cuts.append(y)
        tallest = 1
        for offset, choice in enumerate(choices[start:start + count]):
            font = BOLD if choice.route_to else REGULAR
            room = columns[offset] - style.tick - 2 * MM - (spacing if count > 1 else 0)
            lines = block.lines(_choice_text(ctx, choice, " "), font, style.body, room)
            _tick_with_text(block, ctx, name, choice, lefts[offset], y, lines, font)
            tallest = max(tallest, len(lines))
        y += style.row + (tallest - 1) * pitch
    return y


def _tick_with_text(block: Block, ctx: Context, name: str, choice: Choice, x: float, y: float,
                    lines: Sequence[str], font: str) -> None:
    style = ctx.style
    box = (x, y, x + style.tick, y + style.tick)
    block.ops.append(RuleOp(box, width=1.0))
    block.fields.append(FieldBox(name, "choice", box, choice.name))
    baseline = y + style.tick / 2 + style.body * 0.35
    for i, line in enumerate(lines):
        block.text(box[2] + 2 * MM, baseline + i * style.body * 1.25, line, font, style.body)


@dataclass(frozen=True)
class _GridPlan:
    """How a grid's scale is printed, decided once so that every row and every continued part
    puts each box in the same column."""

    label_width: float  # of the row labels' column (0 when the scale is listed under each row)
    column: float  # width of one point of the scale
    header: tuple[tuple[tuple[str, float], ...], ...]  # per point: lines (text, grey)
    key: tuple[str, ...] = ()  # "1 = Strongly agree", ... when the header numbers the points
    list_columns: tuple[float, ...] = ()  # widths of the columns the scale is listed in under
    # each row label, when it does not fit across the page


HEADER_LINES = 3  # lines a header cell may take per language before the points are numbered
LABEL_SHARES = (0.38, 0.3, 0.25)  # of the width beside the number, for the row labels


def _grid_plan(ctx: Context, grid: Grid, indent: float, width: float) -> _GridPlan:
    """Labels of the scale in the header (stacked by language); numbered with a key when they
    are too long for the columns; listed under each row when even numbers do not fit."""
    style = ctx.style
    size = _header_size(ctx)
    room = width - indent
    count = max(len(grid.choices), 1)
    for share in LABEL_SHARES:
        column = (room - room * share) / count
        header = _header_cells(ctx, grid, column - 1.5 * MM, size)
        if header is not None and column >= style.tick + 2 * MM:
            return _GridPlan(room * share, column, header)
    needed = max(style.tick, width_of(str(count), BOLD, size)) + 2 * MM
    column = min((room - room * LABEL_SHARES[-1]) / count, needed + 6 * MM)
    if column >= needed:  # numbered columns, no wider than they need: the rest for the labels
        marks, key = _marks(ctx, grid, column - 1.5 * MM, size)
        return _GridPlan(room - count * column, column, marks, key)
    spacing = LIST_SPACING
    listed = indent + 4 * MM
    needed_each = [style.tick + 2 * MM + spacing + width_of(
        _choice_text(ctx, c, " "), BOLD if c.route_to else REGULAR, style.body)
        for c in grid.choices]
    return _GridPlan(0.0, 0.0, (), list_columns=column_widths(needed_each, width - listed,
                                                              spacing))


def _header_size(ctx: Context) -> float:
    return min(ctx.style.hint, ctx.style.body)


def _header_cells(ctx: Context, grid: Grid, room: float,
                  size: float) -> tuple[tuple[tuple[str, float], ...], ...] | None:
    """Each point's label wrapped to its column, a language under the other (the second
    grey); None when a word would have to be broken or a label takes too many lines."""
    cells = [_header_cell(ctx, choice, room, size) for choice in grid.choices]
    return None if any(cell is None for cell in cells) else tuple(c for c in cells if c)


def _header_cell(ctx: Context, choice: Choice, room: float,
                 size: float) -> tuple[tuple[str, float], ...] | None:
    lines: list[tuple[str, float]] = []
    for number, text in enumerate(ctx.texts(choice.label)):
        wrapped, broken = wrap_breaking(text, REGULAR, size, room)
        if broken or len(wrapped) > HEADER_LINES:
            return None
        lines.extend((line, HINT_GREY if number else 0.0) for line in wrapped)
    return tuple(lines)


def _marks(ctx: Context, grid: Grid, room: float, size: float) -> tuple[
        tuple[tuple[tuple[str, float], ...], ...], tuple[str, ...]]:
    """The header of a scale whose labels do not fit its columns, and its key: each point
    numbered 1..k; but on a numbered scale (0 Not at all likely, 1, 2, ... 10 Extremely likely)
    the points that fit keep their labels and the others are lettered A, B, ..."""
    cells = [_header_cell(ctx, choice, room, size) for choice in grid.choices]
    numeric = any(c.label.text(ctx.languages[0]).strip().isdigit() for c in grid.choices)
    lettered = sum(cell is None for cell in cells)
    if numeric and lettered <= 26:
        header: list[tuple[tuple[str, float], ...]] = []
        key: list[str] = []
        for choice, cell in zip(grid.choices, cells, strict=True):
            if cell is None:
                letter = chr(ord("A") + len(key))
                key.append(f"{letter} = {ctx.joined(choice.label)}")
                cell = ((letter, 0.0),)
            header.append(cell)
        return tuple(header), tuple(key)
    return (tuple(((str(i), 0.0),) for i in range(1, len(grid.choices) + 1)),
            tuple(f"{i} = {ctx.joined(c.label)}" for i, c in enumerate(grid.choices, start=1)))


def grid_block(ctx: Context, grid: Grid, width: float) -> Block:
    """Rows sharing one scale: a header row over columns of boxes, the same columns on every
    row; may be cut between rows, the header printed again on the next page."""
    block = Block()
    y, indent = _grid_heading(block, ctx, grid, width, continued=False)
    plan = _grid_plan(ctx, grid, indent, width)
    if plan.list_columns:
        return _listed_grid(block, ctx, grid, plan, indent, width, y)
    y = _grid_header(block, ctx, grid, plan, indent, y)
    for index in range(len(grid.rows)):
        if index:
            block.cuts.append(y)
        y = _grid_row(block, ctx, grid, plan, index, indent, width, y)
    block.height = y + 1 * MM
    return block


def grid_continuation(ctx: Context, grid: Grid, width: float) -> Block:
    """What a grid's part on a later page starts with: its number, "(continued)", and the
    header of its scale (and the key of a numbered one) again."""
    block = Block()
    y, indent = _grid_heading(block, ctx, grid, width, continued=True)
    plan = _grid_plan(ctx, grid, indent, width)
    if not plan.list_columns:
        y = _grid_header(block, ctx, grid, plan, indent, y)
    block.height = y
    return block


def _grid_heading(block: Block, ctx: Context, grid: Grid, width: float,
                  continued: bool) -> tuple[float, float]:
    number = ctx.numbers.get(grid.name)
    if continued:
        heading = continued_heading(ctx, number, grid.label, width)
        block.ops.extend(heading.ops)
        return heading.height, _indent(ctx, number, width)
    default_hint = "tick_all" if grid.multiple else "tick_row"
    hint = ctx.joined(grid.hint) or ctx.phrase(default_hint)
    return splittable_heading(block, ctx, number, grid.label, hint, width,
                              ctx.filters.get(grid.name, ()))


def _indent(ctx: Context, number: int | str | None, width: float) -> float:
    """Where question_heading puts the answers."""
    _, indent = question_heading(Block(), ctx, number, Label(), "", width)
    return indent


def _grid_header(block: Block, ctx: Context, grid: Grid, plan: _GridPlan, indent: float,
                 y: float) -> float:
    size = _header_size(ctx)
    for line in plan.key:  # one point of the scale a line: a key read at a glance
        y = block.paragraph(indent, y, plan.label_width + len(grid.choices) * plan.column,
                            line, REGULAR, size, leading=1.2)
    y += 1 * MM if plan.key else 0
    rows_of_header = max((len(lines) for lines in plan.header), default=1)
    for i, lines in enumerate(plan.header):
        centre = indent + plan.label_width + (i + 0.5) * plan.column
        top = y + (rows_of_header - len(lines)) * size * 1.2
        for j, (line, grey) in enumerate(lines):
            font = BOLD if plan.key else REGULAR
            block.ops.append(TextOp(centre, top + size + j * size * 1.2, line, font, size,
                                    grey=grey, align="centre"))
    return y + rows_of_header * size * 1.2 + 2 * MM


ROW_LINES_CENTRED = 3  # a row label of more lines has its boxes beside its first line


def _grid_row(block: Block, ctx: Context, grid: Grid, plan: _GridPlan, index: int,
              indent: float, width: float, y: float) -> float:
    style = ctx.style
    row = grid.rows[index]
    pitch = style.body * 1.25
    text = " ".join((ctx.joined(row.label), *ctx.filters.get(row.name, ())))
    lines = block.lines(text, REGULAR, style.body, plan.label_width - 2 * MM)
    height = max(style.row, len(lines) * pitch + 2.5 * MM)
    tall = len(lines) > ROW_LINES_CENTRED
    text_top = y + (height - len(lines) * pitch) / 2
    start = len(block.ops)
    for j, line in enumerate(lines):
        block.text(indent, text_top + style.body * 0.95 + j * pitch, line, REGULAR, style.body)
    cuts = line_cuts(block.ops[start:], skip_first=2) if tall else []
    if index % 2 == 0:  # shaded in one piece per part the row may be cut into
        edges = [y, *cuts, y + height]
        block.ops[start:start] = [RuleOp((indent - 1 * MM, top, width, bottom), width=0,
                                         fill_grey=0.93)
                                  for top, bottom in pairwise(edges)]
    block.weak_cuts.extend(cuts)
    middle = text_top + pitch / 2 if tall else y + height / 2
    for i, choice in enumerate(grid.choices):
        centre = indent + plan.label_width + (i + 0.5) * plan.column
        box = (centre - style.tick / 2, middle - style.tick / 2,
               centre + style.tick / 2, middle + style.tick / 2)
        block.ops.append(RuleOp(box, width=1.0, fill_grey=1.0))
        block.fields.append(FieldBox(row.name, "choice", box, choice.name))
    return y + height


def _listed_grid(block: Block, ctx: Context, grid: Grid, plan: _GridPlan, indent: float,
                 width: float, y: float) -> Block:
    """A scale too wide for its page (large print, many points): under each row label the
    scale as a list, in the same columns and order on every row."""
    style = ctx.style
    for index, row in enumerate(grid.rows):
        if index:
            block.cuts.append(y)
        start = len(block.ops)
        y = block.paragraph(indent, y, width - indent, ctx.joined(row.label), BOLD, style.body)
        block.weak_cuts.extend(line_cuts(block.ops[start:]))
        y = _aligned_choices(block, ctx, row.name, grid.choices, indent + 4 * MM, y + 1 * MM,
                             plan.list_columns, LIST_SPACING, cut_between=False)
        y += 2 * MM
    block.height = y
    return block


def cells_block(ctx: Context, question: Question, width: float) -> Block:
    """A comb of character cells, one letter or digit per cell, in the groups combs.py gives
    (dates DD / MM / YYYY, a decimal's point, a postcode's two parts apart)."""
    style = ctx.style
    block = Block()
    y, indent = numbered_heading(block, ctx, question, _cells_hint(question), width)
    y = comb(block, ctx, question, indent, y, right=width)
    block.height = y + style.cell_h + 1 * MM
    return block


def comb(block: Block, ctx: Context, question: Question, x: float, y: float,
         fill_grey: float | None = None, right: float | None = None) -> float:
    """The question's cells from (x, y), in their groups, indexed in order; past `right` (when
    given) they go on below, from x. Returns the top of the last line of cells."""
    style = ctx.style
    left = x
    index = 0
    for number, (size, separator) in enumerate(comb_groups(question)):
        if number:
            if separator.strip():
                block.text(x + 0.8 * MM, y + style.cell_h * 0.75, separator, BOLD, style.label)
            x += separator_width(style, separator)
        for _ in range(size):
            if right is not None and x + style.cell_w > right:  # longer than the line
                x, y = left, y + style.cell_h + 2 * MM
            box = (x, y, x + style.cell_w, y + style.cell_h)
            block.ops.append(RuleOp(box, width=0.9, fill_grey=fill_grey))
            block.fields.append(FieldBox(question.name, "char", box, index=index))
            x += style.cell_w
            index += 1
    return y


def _cells_hint(question: Question) -> str:
    """The phrase printed when the template gives no hint of its own."""
    if question.type == "date":
        return "write_date"
    if question.shape == "postcode":
        return "write_postcode"
    if question.type == "decimal" and 0 < question.decimals < (question.cells or 8):
        return "write_decimal"
    return "write_cells"


def text_area_block(ctx: Context, question: Question, width: float, lines: int,
                    continued: bool = False, with_heading: bool = True) -> Block:
    """A framed writing area with faint guide lines; long text may continue on the next page."""
    style = ctx.style
    block = Block()
    y, indent = 0.0, 0.0
    if with_heading:
        label = continued_label(ctx, question.label, width) if continued else question.label
        hint = "" if continued else ctx.joined(question.hint) or ctx.phrase("write_text")
        filters = () if continued else ctx.filters.get(question.name, ())
        y, indent = splittable_heading(block, ctx, ctx.numbers.get(question.name), label, hint,
                                       width, filters)
    area = (indent, y, width, y + lines * style.line)
    block.ops.append(RuleOp(area, width=1.0))
    for line in range(1, lines):
        rule_y = y + line * style.line
        block.ops.append(RuleOp((indent + 2 * MM, rule_y, width - 2 * MM, rule_y), width=0.5,
                                grey=GUIDE_GREY, dotted=True, line_only=True))
    block.fields.append(FieldBox(question.name, "text", area))
    block.height = area[3] + 1 * MM
    return block
