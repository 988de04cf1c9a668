"""Lays a questionnaire out on A4 pages with reportlab platypus, recording where every box lands.

Platypus decides the page flow (questions kept whole, long text continuing on the next page); each
block records its drawing operations and answer boxes at the absolute position platypus gives it.
The plan is made once per layout and replayed for every copy, so the manifest and the PDF come
from the same numbers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from reportlab.platypus import BaseDocTemplate, Flowable, Frame, KeepTogether, PageTemplate
from reportlab.platypus.doctemplate import LayoutError as PlatypusLayoutError

from pipeline.errors import MissingProgramError, TemplateError
from pipeline.forms.answer_blocks import answer_block, has_answer_block
from pipeline.forms.blocks import (
    Block,
    Context,
    DrawOp,
    RuleOp,
    TextOp,
    cells_block,
    choice_continuation,
    choice_question_block,
    continued_heading,
    first_line,
    grid_block,
    grid_continuation,
    heading_block,
    line_cuts,
    note_block,
    text_area_block,
)
from pipeline.forms.condition_words import printed_filters
from pipeline.forms.dates import date_text
from pipeline.forms.limits import describe
from pipeline.forms.manifest import geometry_digest, make_form_key
from pipeline.forms.mirror import mirror_block
from pipeline.forms.numbering import question_numbers
from pipeline.forms.phrases import catalogue_language, phrase
from pipeline.forms.repeat_blocks import RepeatPart, printed_items
from pipeline.forms.splitting import (
    Window,
    choose_cut,
    first_cut,
    shift_field,
    shift_op,
    tallest_piece,
)
from pipeline.forms.style import (
    BOLD,
    KEY_TEXT_WIDTH,
    LARGE_PRINT,
    MM,
    REGULAR,
    STANDARD,
    Style,
    ensure_fonts,
)
from pipeline.forms.typeset import is_rtl_language
from pipeline.model import Grid, Note, Question, Questionnaire, ReturnInfo, Section
from pipeline.records import Box, FieldBox, Layout, Mark, PageLayout

A4 = (595.28, 841.89)
MARK_SIZE = 6 * MM
MARK_INSET = 9 * MM
MARGIN = 18 * MM
QR_SIZE = 22 * MM
QR_TOP = MARK_INSET
HEADER_BOTTOM = QR_TOP + QR_SIZE + 9 * MM
FOOTER_TOP = A4[1] - MARK_INSET - MARK_SIZE - 5 * MM
MIN_TEXT_LINES = 2  # a long text split over pages keeps at least this many lines on each
FIRST_ROOM = FOOTER_TOP - (MARK_INSET + 3 * MM)  # height of page 1's frame, which the title opens
LATER_ROOM = FOOTER_TOP - HEADER_BOTTOM  # height of the frame of every later page
BROKEN_SHOWN = 24  # characters of a broken word quoted in its warning
KEPT_SHARE = 0.4  # of a page: a heading or note no taller keeps with what follows it


@dataclass(frozen=True)
class PagePlan:
    page: int
    ops: tuple[DrawOp, ...]
    fields: tuple[FieldBox, ...]


@dataclass(frozen=True)
class FormPlan:
    layout: Layout
    pages: tuple[PagePlan, ...]
    style: Style
    languages: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # what was printed, but not as written (a word broken up)
    right_to_left: bool = False  # the first language reads from the right: the layout mirrored


@dataclass(frozen=True)
class LayoutOptions:
    languages: tuple[str, ...] | None = None  # None: the questionnaire's first language
    large_print: bool = False


@dataclass
class _Recorder:
    """Collects what the blocks draw, page by page, at absolute top-left coordinates."""

    pages: dict[int, tuple[list[DrawOp], list[FieldBox]]] = field(default_factory=dict)
    warnings: dict[str, None] = field(default_factory=dict)  # in order, without repeats
    mirrored: bool = False  # a right-to-left form: every block mirrored about the page centre
    moved: _Part | None = None  # the last part that did not fit where it was: what a
    # failure of the page flow is about

    def add(self, page: int, left: float, top: float, block: Block, what: str) -> None:
        ops, fields = self.pages.setdefault(page, ([], []))
        shifted_ops = [shift_op(op, left, top, ndigits=2) for op in block.ops]
        shifted_fields = [shift_field(f, left, top, ndigits=2) for f in block.fields]
        if self.mirrored:
            shifted_ops, shifted_fields = mirror_block(shifted_ops, shifted_fields, A4[0])
        ops.extend(shifted_ops)
        fields.extend(shifted_fields)
        if block.missing:
            shown = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in dict.fromkeys(block.missing))
            self.warnings[f"{what}: no font papertwin prints with has the characters {shown}: "
                          "they print as empty boxes: replace them, or write them out in "
                          "words"] = None
        for word in block.broken:
            shown = word if len(word) <= BROKEN_SHOWN else word[:BROKEN_SHOWN] + "…"
            self.warnings[f"{what}: the word '{shown}' ({len(word):,} characters) is too long "
                          "for a line and is printed broken over several lines: put spaces in it, "
                          "or shorten it"] = None


@dataclass(frozen=True)
class _Part:
    """What a flowable prints, for messages: 'question 3 (age)', and how to make it fit a page."""

    what: str
    advice: str


class _BlockFlowable(Flowable):  # type: ignore[misc]
    """A platypus flowable that lays out a block at the width it is given and records it.

    A block taller than a page is split at one of its cuts (between choices, grid rows or
    lines); the rest starts the next page under its continuation heading, if it has one.
    """

    def __init__(self, recorder: _Recorder, build: Callable[[float], Block], part: _Part,
                 keep_with_next: bool = False,
                 continuation: Callable[[float], Block] | None = None,
                 window: Window | None = None) -> None:
        super().__init__()
        self._recorder = recorder
        self._build = build
        self._continuation = continuation
        self._window = window  # set for a part of a split block
        self._laid_out = Window(Block())
        self.part = part
        self.keepWithNext = keep_with_next

    def _part_at(self, width: float) -> Window:
        return self._window if self._window is not None else Window(self._build(width))

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self._laid_out = self._part_at(avail_width)  # made a block only when drawn
        return avail_width, self._laid_out.height

    def least_height(self, width: float) -> float:
        """The height of the tallest piece that must go on one page."""
        continuation = self._continuation(width) if self._continuation else None
        return tallest_piece(self._build(width), continuation, LATER_ROOM)

    def whole_height(self, width: float) -> float:
        return self._part_at(width).height

    def first_piece(self, width: float) -> float:
        """The height of the least part it can begin at a page's foot with."""
        return first_cut(self._build(width), LATER_ROOM)

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self._recorder.moved = self.part
        part = self._part_at(avail_width)
        if part.height <= LATER_ROOM:
            return []  # kept whole: it goes on the next page
        cut = choose_cut(part, avail_height, LATER_ROOM)
        if cut is None:
            return []
        continuation = self._continuation(avail_width) if self._continuation else None
        return [self._piece(piece) for piece in part.split(cut, continuation)]

    def _piece(self, window: Window) -> _BlockFlowable:
        return _BlockFlowable(self._recorder, self._build, self.part,
                              continuation=self._continuation, window=window)

    def draw(self) -> None:
        block = self._laid_out.block()
        left, top = self.canv.absolutePosition(0, block.height)
        self._recorder.add(self.canv.getPageNumber(), left, A4[1] - top, block, self.part.what)


class _PageTopFlowable(Flowable):  # type: ignore[misc]
    """A block drawn only when it begins a page, blank elsewhere: it stands for the gap before
    a question of a repeat's copy, and says at the top of a page whose copy the page goes on
    with ("Visit 1 (continued)"). It is kept with its question, so it begins a page when the
    question does."""

    def __init__(self, recorder: _Recorder, build: Callable[[float], Block], part: _Part
                 ) -> None:
        super().__init__()
        self._recorder = recorder
        self._build = build
        self._block = Block()
        self.part = part
        self.keepWithNext = True

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self._block = self._build(avail_width)
        return avail_width, self._block.height

    def draw(self) -> None:
        left, top = self.canv.absolutePosition(0, self._block.height)
        if abs(A4[1] - top - HEADER_BOTTOM) < 1.0:  # the top of a page after the first
            self._recorder.add(self.canv.getPageNumber(), left, A4[1] - top, self._block,
                               self.part.what)


class _TextAreaFlowable(_BlockFlowable):
    """A long-text question that may continue on the next page, keeping its heading with it."""

    def __init__(self, recorder: _Recorder, ctx: Context, question: Question, lines: int,
                 part: _Part, continued: bool = False) -> None:
        self._ctx, self._question, self._lines, self._continued = ctx, question, lines, continued
        super().__init__(recorder, lambda width: text_area_block(
            ctx, question, width, lines, continued), part, continuation=lambda width: (
                continued_heading(ctx, ctx.numbers.get(question.name), question.label, width)))

    def least_height(self, width: float) -> float:
        least = self._lines if self._lines < 2 * MIN_TEXT_LINES else MIN_TEXT_LINES
        block = text_area_block(self._ctx, self._question, width, least, self._continued)
        if block.height <= LATER_ROOM:
            return block.height
        return super().least_height(width)  # a label longer than a page: cut between its lines

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self._recorder.moved = self.part
        style = self._ctx.style
        heading = text_area_block(self._ctx, self._question, avail_width, 1,
                                  self._continued).height - style.line
        fits = int((avail_height - heading) // style.line)
        if fits < MIN_TEXT_LINES or self._lines - fits < MIN_TEXT_LINES:
            return super().split(avail_width, avail_height) if heading > LATER_ROOM / 2 else []
        return [
            _TextAreaFlowable(self._recorder, self._ctx, self._question, fits, self.part,
                              self._continued),
            _TextAreaFlowable(self._recorder, self._ctx, self._question, self._lines - fits,
                              self.part, continued=True),
        ]


class _KeepTogether(KeepTogether):  # type: ignore[misc]
    """A heading kept with what follows it, which may begin at the foot of a page when what
    follows is too long for any page and must be split anyway."""

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        *leading, last = self._content
        first = self._content[0]
        if isinstance(first, _BlockFlowable) and first.whole_height(avail_width) > LATER_ROOM:
            return [self.NullActionFlowable(), *self._content]  # a note longer than a page
        if isinstance(last, _BlockFlowable) and last.least_height(avail_width) <= LATER_ROOM:
            whole = last.whole_height(avail_width)
            before = sum(f.wrap(avail_width, avail_height)[1] for f in leading)
            if whole > LATER_ROOM and before + last.first_piece(avail_width) <= avail_height:
                return [self.NullActionFlowable(), *self._content]  # each flowed in turn
        return list(super().split(avail_width, avail_height))


def plan_form(questionnaire: Questionnaire, options: LayoutOptions | None = None,
              source: str = "") -> FormPlan:
    """Lay out every item; returns the layout (no copies yet) and the drawing plan per page.

    `source` names the template in messages (its path), else the questionnaire's id does.
    """
    options = options or LayoutOptions()
    source = source or f"template {questionnaire.id}"
    languages = options.languages or questionnaire.languages[:1]
    unknown = [lang for lang in languages if lang not in questionnaire.languages]
    if unknown:
        raise TemplateError(
            f"template {questionnaire.id} has no labels in {', '.join(unknown)}: its languages "
            f"are {', '.join(questionnaire.languages)}"
        )
    ensure_fonts()
    style = LARGE_PRINT if options.large_print else STANDARD
    right_to_left = is_rtl_language(languages[0], questionnaire.title.text(languages[0]))
    numbers = question_numbers(questionnaire)
    ctx = Context(style, tuple(languages), numbers, right_to_left,
                  printed_filters(questionnaire, numbers, languages))
    recorder = _Recorder(warnings=dict.fromkeys(_untranslated(languages)),
                         mirrored=right_to_left)
    story = _story(questionnaire, ctx, recorder)

    width, height = A4
    frame_width = width - 2 * MARGIN
    _check_fits(story, frame_width, source)
    first = Frame(MARGIN, height - FOOTER_TOP, frame_width, FIRST_ROOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="first")
    later = Frame(MARGIN, height - FOOTER_TOP, frame_width, LATER_ROOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="later")
    doc = BaseDocTemplate(io.BytesIO(), pagesize=A4, invariant=1)
    doc.keepTogetherClass = _KeepTogether
    doc.addPageTemplates([PageTemplate("first", [first], autoNextPageTemplate="later"),
                          PageTemplate("later", [later])])
    try:
        doc.build(story)
    except PlatypusLayoutError as exc:  # _check_fits should have named the part first
        moved = recorder.moved or _Part("a part of it", "shorten its longest labels")
        raise TemplateError(f"{source} cannot be laid out: {moved.what} does not fit on a "
                            f"page: {moved.advice}") from exc
    except (TemplateError, MissingProgramError):
        raise
    except Exception as exc:
        raise TemplateError(f"{source} cannot be laid out: {_first_line(exc)}") from exc

    page_count = max(recorder.pages) if recorder.pages else 1
    plans: list[PagePlan] = []
    layouts: list[PageLayout] = []
    for number in range(1, page_count + 1):
        ops, fields = recorder.pages.get(number, ([], []))
        ops = [*_page_furniture(questionnaire, ctx, number, page_count), *ops]
        plans.append(PagePlan(number, tuple(ops), tuple(fields)))
        layouts.append(PageLayout(number, corner_marks(), barcode_box(), tuple(fields)))
    digest = geometry_digest(A4, tuple(layouts), questionnaire)
    key = make_form_key(questionnaire, digest, "lp" if options.large_print else "")
    layout = Layout(form_key=key, title=ctx.joined(questionnaire.title), page_size=A4,
                    pages=tuple(layouts), questionnaire=questionnaire,
                    languages=tuple(languages), large_print=options.large_print)
    return FormPlan(layout, tuple(plans), style, tuple(languages), tuple(recorder.warnings),
                    right_to_left)


def _untranslated(languages: Sequence[str]) -> list[str]:
    """One warning per printed language whose fixed texts papertwin has no catalogue for."""
    return [f"papertwin's own texts (instructions, page numbers, routing) print in English on "
            f"the {lang} form: there is no catalogue for {lang}; a translator adds one as "
            f"pipeline/forms/locale/{lang}/LC_MESSAGES/papertwin.po "
            "(see docs/template-format.md)"
            for lang in languages if catalogue_language(lang) is None]


def _check_fits(story: list[Flowable], width: float, source: str) -> None:
    """Refuse, naming it, a part with a piece that no page can hold (a choice or a grid row
    whose label is longer than a page), before platypus fails on it."""
    for index, flowable in enumerate(story):
        if not isinstance(flowable, _BlockFlowable):
            continue
        room = FIRST_ROOM if index == 0 else LATER_ROOM  # the title opens page 1
        height = flowable.least_height(width)
        if height > room:
            part = flowable.part
            raise TemplateError(
                f"{source}: {part.what} cannot be printed: a piece of it that cannot be split "
                f"over pages needs {height / room:.1f} pages: {part.advice}")


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
    """Where the page code's QR code is printed, in PDF points from the page's top-left: the same
    place on every page of every papertwin form."""
    right = A4[0] - MARGIN
    return (right - QR_SIZE, QR_TOP, right, QR_TOP + QR_SIZE)


def _story(questionnaire: Questionnaire, ctx: Context, recorder: _Recorder) -> list[Flowable]:
    def block(build: Callable[[float], Block], part: _Part, keep: bool = False,
              continuation: Callable[[float], Block] | None = None) -> Flowable:
        return _BlockFlowable(recorder, build, part, keep, continuation)

    specify = {q.other_of: q for q in questionnaire.questions if q.other_of}
    story: list[Flowable] = [block(partial(_title_block, questionnaire, ctx), _Part(
        "the title and introduction", "shorten the title or the introduction"))]
    for item in printed_items(questionnaire.items, ctx, A4[0] - 2 * MARGIN):
        if isinstance(item, RepeatPart):  # a repeat's heading, a copy's, or a part of its table
            part = _Part(item.what, item.advice)
            if item.page_top:  # it stands for the gap after the question before it
                if story and isinstance(story[-1], _Spacer):
                    story.pop()
                story.append(_PageTopFlowable(recorder, partial(item.build, ctx), part))
                continue
            story.append(block(partial(item.build, ctx), part, item.keep))
            story.extend(() if item.keep else [_Spacer(ctx.style.gap)])
            continue
        part = _Part(describe(item, ctx.numbers), _advice(item))
        if isinstance(item, Section | Note):
            build = partial(heading_block, ctx, item.label, filters=ctx.filters.get(
                item.name, ())) if isinstance(item, Section) else partial(note_block, ctx,
                                                                        item.label)
            # kept with what follows it, unless it is so long that the two cannot share a page
            keep = build(A4[0] - 2 * MARGIN).height <= LATER_ROOM * KEPT_SHARE
            story.append(block(build, part, keep=keep))
        elif isinstance(item, Grid):
            story.append(block(partial(grid_block, ctx, item), part,
                               continuation=partial(grid_continuation, ctx, item)))
        elif item.other_of:
            continue  # printed beside its choice
        elif has_answer_block(item.type):
            story.append(block(partial(answer_block, ctx, item,
                                       specify=specify.get(item.name)), part,
                               continuation=partial(choice_continuation, ctx, item)))
        elif item.is_choice:
            story.append(block(partial(choice_question_block, ctx, item,
                                       specify=specify.get(item.name)), part,
                               continuation=partial(choice_continuation, ctx, item)))
        elif item.uses_cells:
            story.append(block(partial(cells_block, ctx, item), part,
                               continuation=partial(continued_heading, ctx,
                                                    ctx.numbers.get(item.name), item.label)))
        else:
            story.append(_TextAreaFlowable(recorder, ctx, item, item.lines, part))
        if not isinstance(item, Section | Note):  # those keep with what follows them
            story.append(_Spacer(ctx.style.gap))
    closing = _closing_block(questionnaire, ctx)
    if closing is not None:
        story.append(block(closing, _Part("the closing text (thanks, return address, helpline)",
                                          "shorten the return address")))
    return story


def _advice(item: Section | Note | Question | Grid) -> str:
    """What to change so that each piece of the item fits on a page."""
    if isinstance(item, Section):
        return "shorten the heading"
    if isinstance(item, Note):
        return "shorten it, or split it into several notes"
    if isinstance(item, Grid):
        return ("shorten the label of its longest row, or ask that row as a question of its "
                "own")
    if item.is_choice:
        return "shorten the label of its longest choice, or put the explanation in a note"
    return "shorten its label and hint, or put the explanation in a note before it"


class _Spacer(Flowable):  # type: ignore[misc]
    def __init__(self, height: float) -> None:
        super().__init__()
        self.height = height

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return avail_width, min(self.height, avail_height)

    def draw(self) -> None:
        return None


def _title_block(questionnaire: Questionnaire, ctx: Context, width: float) -> Block:
    """Organisation, title (clear of the page code), introduction and how to answer."""
    style = ctx.style
    block = Block()
    beside_code = width - KEY_TEXT_WIDTH - 4 * MM
    left = width - beside_code if ctx.right_to_left else 0.0  # mirrored: clear of the code
    y = 0.0
    for text in ctx.texts(questionnaire.organisation):
        y = block.paragraph(left, y, beside_code, text, REGULAR, style.body)
    y += 1 * MM
    for text in ctx.texts(questionnaire.title):
        y = block.paragraph(left, y, beside_code, text, BOLD, style.title, leading=1.15)
    block.weak_cuts.extend(line_cuts(block.ops))  # a title longer than a page
    y = max(y, HEADER_BOTTOM - (MARK_INSET + 3 * MM)) + 2 * MM
    for text in ctx.texts(questionnaire.intro):
        for paragraph in [p for p in text.split("\n\n") if p.strip()]:
            start = len(block.ops)
            if start:
                block.cuts.append(y)
            y = block.paragraph(0, y, width, " ".join(paragraph.split()), REGULAR, style.body)
            block.cuts.extend(line_cuts(block.ops[start:], skip_first=2, skip_last=2))
            y += 1.5 * MM
    top = y + 1 * MM
    y = top + 3 * MM
    for key in ("instructions_pen", "instructions_cancel"):
        for text in dict.fromkeys(phrase(key, lang) for lang in ctx.languages):  # once if alike
            y = block.paragraph(4 * MM, y, width - 8 * MM, text, BOLD, style.body,
                                leading=1.25)
        y += 1 * MM
    block.ops.append(RuleOp((0, top, width, y + 1 * MM), width=0.8, grey=0.2))
    block.height = y + 1 * MM + ctx.style.gap
    return block


def _closing_block(questionnaire: Questionnaire,
                   ctx: Context) -> Callable[[float], Block] | None:
    """Thanks, when and where to send the form back, and the helpline, in every printed language.

    Each language's thanks and instructions are a paragraph of their own; an address the same in
    every language is printed once, after them, and otherwise after each language's paragraph.
    """
    returns = questionnaire.returns
    if not (returns.address or returns.helpline or returns.closing_date):
        return None
    languages = _distinct_languages(ctx.languages, returns)
    addresses = {lang: returns.address.text(lang) for lang in languages}
    shared = len(set(addresses.values())) == 1

    def build(width: float) -> Block:
        style = ctx.style
        block = Block()
        y = 0.0

        def address(text: str, y: float) -> float:
            for line in text.splitlines():
                y = block.paragraph(8 * MM, y, width - 8 * MM, line.strip(), BOLD, style.body)
            return y + (1 * MM if len(languages) > 1 else 0.0)

        for number, lang in enumerate(languages):
            y += 1.5 * MM if number else 0.0  # each language's paragraph apart
            y = block.paragraph(0, y, width, phrase("thanks", lang), BOLD, style.body)
            if returns.closing_date:
                y = block.paragraph(0, y, width, phrase(
                    "return_by", lang, date=date_text(returns.closing_date, lang)),
                    REGULAR, style.body)
            if returns.address:
                y = block.paragraph(0, y, width, phrase("return_free", lang), REGULAR,
                                    style.body)
                if not shared:
                    y = address(addresses[lang], y)
        if returns.address and shared:
            y = address(addresses[languages[0]], y)
        for text in dict.fromkeys(phrase("helpline", lang, number=returns.helpline.text(lang))
                                  for lang in languages if returns.helpline):
            y = block.paragraph(0, y + 1 * MM, width, text, REGULAR, style.body)
        block.weak_cuts.extend(line_cuts(block.ops))
        block.height = y
        return block

    return build


def _distinct_languages(languages: Sequence[str], returns: ReturnInfo) -> list[str]:
    """The printed languages whose closing text differs: a language without a catalogue and
    without postal texts of its own says just what English does, so is left out."""
    seen: dict[tuple[str, ...], str] = {}
    for lang in languages:
        said = (phrase("thanks", lang), phrase("return_by", lang, date=""),
                returns.address.text(lang), date_text(returns.closing_date, lang),
                returns.helpline.text(lang))
        seen.setdefault(said, lang)
    return list(seen.values())


def _page_furniture(questionnaire: Questionnaire, ctx: Context, page: int,
                    page_count: int) -> list[DrawOp]:
    """What every page carries besides its questions: running title and page number."""
    style = ctx.style
    ops: list[DrawOp] = []
    if page > 1:
        size = max(style.footer, 11.0)
        title = first_line(ctx.joined(questionnaire.title), BOLD, size,
                           A4[0] - 2 * MARGIN - QR_SIZE - 30 * MM)
        ops.append(TextOp(MARGIN, MARK_INSET + 12 * MM, title, BOLD, size))
    text = ctx.phrase("page", n=str(page), m=str(page_count))
    ops.append(TextOp(A4[0] / 2, A4[1] - MARK_INSET - 1.5 * MM, text, REGULAR, style.footer,
                      align="centre"))
    return ops


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
