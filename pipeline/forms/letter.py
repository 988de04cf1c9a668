"""The cover letter of an addressed copy: a letter a council or health body would sign.

Letterhead (logo, organisation, return address and helpline, on the right), the recipient's name
and address in the envelope's window, the date and reference, then in each printed language, in
the order given: the salutation, the introduction, what is enclosed, how and by when to send it
back, and the helpline; then one signature block. Every line is wrapped within the margins.

The letter is laid out once per run for each shape of salutation (how many lines each
language's "Dear ..." takes), not once per recipient: only the address, the salutation and the
reference differ from copy to copy, and are drawn into the slots the layout leaves for them.
All letters of a run have the same number of pages (a shorter one is padded with a blank page),
so that every copy has the same pages and folding and inserting machines can fill the envelopes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Literal

from pipeline.forms.blocks import RuleOp, TextOp, width_of, wrap
from pipeline.forms.dates import date_text, long_date
from pipeline.forms.layout import A4, MARGIN
from pipeline.forms.phrases import phrase
from pipeline.forms.recipients import Recipient
from pipeline.forms.style import BOLD, MM, REGULAR, Style
from pipeline.model import Label, Questionnaire
from pipeline.records import Box

ADDRESS_WINDOW: Box = (20 * MM, 50 * MM, 105 * MM, 85 * MM)  # C5 and DL window envelopes
WINDOW_PAD = 2 * MM  # kept clear inside the window: a letter moves a little in its envelope
ADDRESS_SIZE = {False: 11.0, True: 14.0}  # standard and large print, when the address fits
MIN_ADDRESS_SIZE = 9.0  # smaller is hard for sorting machines and postal staff to read
SIZE_STEP = 0.5
ADDRESS_LEADING = 1.2
RETURN_LINE_SIZE = 7.0  # "If undelivered, please return to: ...", at the top of the window
TOP = 14 * MM  # the letterhead starts here; a later page's text too
BOTTOM = A4[1] - 20 * MM  # no body text below this
FOOTER = A4[1] - 11 * MM  # baseline of "Letter, page 1 of 2"
LETTERHEAD_LEFT = ADDRESS_WINDOW[2] + 8 * MM  # clear of the window
LOGO_BOX = (60 * MM, 20 * MM)  # the largest a logo is drawn, kept in proportion
# The organisation's name and the lines under it, in standard and in large print.
LETTERHEAD_SIZES = {False: (12.0, 8.5), True: (14.0, 12.0)}
BLANK_GREY = 0.7  # the blank page's note: readable, lighter than the reader takes for ink


@dataclass(frozen=True)
class Spacing:
    """How airy a letter is; a letter that does not fit one page is tried once more tighter."""

    leading: float  # line height, as a share of the type size
    paragraph: float  # space after a paragraph, as a share of the type size
    signature: float  # room to sign in, in points


NORMAL = Spacing(1.35, 0.75, 16 * MM)
COMPACT = Spacing(1.22, 0.4, 11 * MM)


@dataclass(frozen=True)
class ImageOp:
    path: str
    box: Box  # where the image is drawn, from the top left


LetterOp = TextOp | RuleOp | ImageOp


@dataclass(frozen=True)
class Slot:
    """Where a recipient's own text goes: a language's salutation, or the reference line."""

    kind: Literal["greeting", "reference"]
    lang: str
    x: float
    y: float  # top of its first line
    width: float
    size: float
    leading: float  # points from one line to the next
    align: str


@dataclass(frozen=True)
class LetterPage:
    ops: tuple[LetterOp, ...]  # the same in every letter of this shape
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class LetterDesign:
    """Everything a run's letters share: the questionnaire, the languages, the type sizes."""

    questionnaire: Questionnaire
    languages: tuple[str, ...]
    style: Style
    large_print: bool = False
    right_to_left: bool = False
    today: date = field(default_factory=date.today)
    reminder: bool = False  # a reminder's letter: says so, and thanks those who already replied

    @property
    def body_width(self) -> float:
        """The width a line of the letter may take between the margins, in PDF points."""
        return A4[0] - 2 * MARGIN

    @property
    def body_x(self) -> tuple[float, str]:
        """Where the letter's lines are anchored, in PDF points, and how they align: at the right
        margin for a right-to-left letter, else the left."""
        return (A4[0] - MARGIN, "right") if self.right_to_left else (MARGIN, "left")


Shape = tuple[int, ...]  # lines of each greeting language's salutation


@dataclass(frozen=True)
class AddressFit:
    """The recipient's lines as they fit the window, at `size` points."""

    size: float
    lines: tuple[str, ...]
    return_line: str  # the sender's "If undelivered ..." line, "" when it made no room
    fits: bool  # False: even at the smallest size some lines were left out
    wanted: int = 0  # lines it would take, wrapped to the window, when it does not fit


@dataclass(frozen=True)
class Letters:
    """The letters of a run: a layout per salutation shape, every letter `pages` pages long, and
    each copy's shape and address as fitted, by serial and recipient list line (a preview's
    specimen copies share one serial)."""

    design: LetterDesign
    layouts: Mapping[Shape, tuple[LetterPage, ...]]
    pages: int
    copies: Mapping[tuple[str, int], tuple[Shape, AddressFit]]
    warnings: tuple[str, ...] = ()

    def copy(self, serial: str, recipient: Recipient) -> tuple[tuple[LetterPage, ...],
                                                              AddressFit]:
        """The pages of this copy's letter, and its address as it fits the window."""
        shape, fit = self.copies[serial, recipient.line]
        return self.layouts[shape], fit


def plan_letters(design: LetterDesign, recipients: Sequence[Recipient],
                 serials: Sequence[str]) -> Letters:
    """Lay out the letters of a run, and warn of each recipient whose address does not fit."""
    layouts: dict[Shape, tuple[LetterPage, ...]] = {}
    copies: dict[tuple[str, int], tuple[Shape, AddressFit]] = {}
    warnings: list[str] = []
    for recipient, serial in zip(recipients, serials, strict=True):
        shape = greeting_shape(design, recipient.name)
        if shape not in layouts:
            layouts[shape] = plan_letter(design, shape)
        fit = fit_address(design, recipient)
        copies[serial, recipient.line] = (shape, fit)
        if not fit.fits:
            where = f"line {recipient.line}, " if recipient.line else ""
            warnings.append(
                f"recipient list {where}serial {serial}: the name and address do not fit the "
                f"envelope window even at {MIN_ADDRESS_SIZE:g} pt: {len(fit.lines)} of their "
                f"{fit.wanted} lines (wrapped to the window) print, the rest are left off: "
                "shorten the address lines or use fewer of them")
    pages = max((len(pages) for pages in layouts.values()), default=1)
    return Letters(design, MappingProxyType(layouts), pages, MappingProxyType(copies),
                   tuple(warnings))


# What the letter says, in each language


def _own(label: Label, lang: str, languages: Sequence[str]) -> str:
    """The label's text in `lang`; a text given in none of the printed languages goes in the
    first language's part, so that it prints once, not in every language's."""
    if lang in label.languages():
        return label.text(lang)
    if lang == languages[0] and not any(code in label.languages() for code in languages):
        return label.text(lang)
    return ""


def _greeting_languages(design: LetterDesign) -> tuple[str, ...]:
    """The languages whose salutation differs (a language without a catalogue says "Dear")."""
    seen: dict[str, str] = {}
    for lang in design.languages:
        seen.setdefault(phrase("cover_greeting", lang, name="\0"), lang)
    return tuple(seen.values())


def greeting_lines(design: LetterDesign, name: str, lang: str) -> list[str]:
    """The salutation ("Dear ...") to `name` in one language, wrapped to the letter's width."""
    return wrap(phrase("cover_greeting", lang, name=name), REGULAR, design.style.body,
                design.body_width)


def greeting_shape(design: LetterDesign, name: str) -> Shape:
    """How many lines the salutation to `name` takes in each language the letter greets in:
    letters of one shape share one layout."""
    return tuple(len(greeting_lines(design, name, lang)) for lang in _greeting_languages(design))


@dataclass(frozen=True)
class _Para:
    """A paragraph of the body: wrapped lines that may be split between pages, or a slot."""

    lines: tuple[str, ...] = ()
    font: str = REGULAR
    slot_lang: str = ""  # a salutation: lines filled in per recipient
    slot_lines: int = 0
    keep_with_next: bool = False
    gap_after: bool = True
    signature: bool = False  # the room to sign in, before the sender's name
    space: bool = False  # a blank line between one language's part and the next


def _body(design: LetterDesign, shape: Shape) -> list[_Para]:
    """Each language's part in order, then the signature block; said once where alike."""
    questionnaire = design.questionnaire
    returns = questionnaire.returns
    languages = design.languages
    size, width = design.style.body, design.body_width
    greetings = dict(zip(_greeting_languages(design), shape, strict=True))
    said: set[tuple[str, ...]] = set()
    paras: list[_Para] = []

    def say(*texts: tuple[str, str]) -> None:
        """(font, text) paragraphs printed together, once however many languages say them."""
        unit = tuple(text for _, text in texts)
        if not any(unit) or unit in said:
            return
        said.add(unit)
        for number, (font, text) in enumerate(texts, start=1):
            last = number == len(texts)
            paras.append(_Para(tuple(wrap(text, font, size, width)), font,
                               keep_with_next=not last, gap_after=last))

    for lang in languages:
        if lang in greetings:
            if paras:  # the next language's part: a line apart
                paras.append(_Para(space=True))
            paras.append(_Para(slot_lang=lang, slot_lines=greetings[lang]))
        if design.reminder:
            say((BOLD, f"{phrase('reminder_subject', lang)} {questionnaire.title.text(lang)}"))
            say((REGULAR, phrase("reminder_intro", lang)))
        else:
            for paragraph in _own(questionnaire.intro, lang, languages).split("\n\n"):
                say((REGULAR, " ".join(paragraph.split())))
            say((REGULAR, phrase("cover_enclosed", lang)),
                (BOLD, questionnaire.title.text(lang)))
        if returns.closing_date and not (design.reminder and _passed(returns.closing_date, lang,
                                                                     design.today)):
            back = phrase("letter_return", lang, date=date_text(returns.closing_date, lang))
        else:
            back = phrase("letter_return_undated", lang)
        if returns.address:
            back = f"{back} {phrase('letter_no_stamp', lang)}"
        say((REGULAR, back))
        if returns.helpline:
            say((REGULAR, phrase("helpline", lang, number=returns.helpline.text(lang))))
        if design.reminder:
            say((REGULAR, phrase("reminder_thanks", lang)))
    closings = list(dict.fromkeys(phrase("letter_closing", lang) for lang in languages))
    # each line once: the name is the same in every language, the title is not
    sender = list(dict.fromkeys(
        line.strip() for lang in languages
        for line in _own(questionnaire.sender, lang, languages).splitlines() if line.strip()))
    paras.append(_Para(tuple(line for closing in closings
                             for line in wrap(closing, REGULAR, size, width)),
                       keep_with_next=True, gap_after=False))
    paras.append(_Para(tuple(line for text in sender for line in wrap(text, REGULAR, size, width)),
                       signature=True))
    return paras


def _passed(closing: Label, lang: str, today: date) -> bool:
    """Whether a closing date given as an ISO date is before `today`: a reminder then asks for
    the reply without a date rather than by a day gone by."""
    try:
        return date.fromisoformat(closing.text(lang).strip()) < today
    except ValueError:
        return False


# Laying the letter out


@dataclass
class _Pages:
    """The pages as they fill: ops and slots per page, and where the next line goes."""

    pages: list[tuple[list[LetterOp], list[Slot]]] = field(default_factory=list)
    y: float = 0.0

    def new_page(self) -> None:
        self.pages.append(([], []))
        self.y = TOP

    @property
    def ops(self) -> list[LetterOp]:
        return self.pages[-1][0]

    @property
    def slots(self) -> list[Slot]:
        return self.pages[-1][1]


def plan_letter(design: LetterDesign, shape: Shape) -> tuple[LetterPage, ...]:
    """The letter's pages for salutations of this shape: on one page if tighter spacing
    gets it there, else over as many as it needs."""
    pages = _lay_out(design, shape, NORMAL)
    if len(pages) > 1:
        tighter = _lay_out(design, shape, COMPACT)
        if len(tighter) < len(pages):
            return tighter
    return pages


def _lay_out(design: LetterDesign, shape: Shape, spacing: Spacing) -> tuple[LetterPage, ...]:
    out = _Pages()
    out.new_page()
    head_bottom = _letterhead(design, out.ops)
    out.y = _date_block(design, out, head_bottom, spacing)
    size = design.style.body
    line = size * spacing.leading
    x, align = design.body_x
    body = _body(design, shape)
    for index, para in enumerate(body):
        height = _height(para, line, spacing)
        chained = height + (_first_lines(body[index + 1], line, spacing) if para.keep_with_next
                            and index + 1 < len(body) else 0.0)
        if out.y + chained > BOTTOM and out.y > TOP:
            splittable = para.lines and not para.slot_lines and not para.keep_with_next \
                and not para.signature
            if not splittable or out.y + 2 * line > BOTTOM:
                out.new_page()
        if para.space:
            out.y += line if out.y > TOP else 0.0
            continue
        if para.slot_lines:
            out.slots.append(Slot("greeting", para.slot_lang, x, out.y, design.body_width, size,
                                  line, align))
            out.y += para.slot_lines * line
        if para.signature:
            out.y += spacing.signature
        for text in para.lines:
            if out.y + line > BOTTOM and out.y > TOP:
                out.new_page()
            out.ops.append(TextOp(x, out.y + size, text, para.font, size, align=align))
            out.y += line
        if para.gap_after:
            out.y += size * spacing.paragraph
    count = len(out.pages)
    if count > 1:
        for number, (ops, _) in enumerate(out.pages, start=1):
            text = " / ".join(dict.fromkeys(phrase("letter_page", lang, n=str(number),
                                                   m=str(count)) for lang in design.languages))
            ops.append(TextOp(A4[0] / 2, FOOTER, text, REGULAR, design.style.footer,
                              align="centre"))
    return tuple(LetterPage(tuple(ops), tuple(slots)) for ops, slots in out.pages)


def _height(para: _Para, line: float, spacing: Spacing) -> float:
    return (para.slot_lines + len(para.lines)) * line + (spacing.signature if para.signature
                                                          else 0.0)


def _first_lines(para: _Para, line: float, spacing: Spacing) -> float:
    """What must share the page with a paragraph kept with the one before: its first two
    lines, or the whole signature block (no one signs at the top of a page on its own)."""
    height = _height(para, line, spacing)
    return height if para.signature else min(height, 2 * line)


def _letterhead(design: LetterDesign, ops: list[LetterOp]) -> float:
    """Logo, organisation, return address and helpline, aligned right; returns the y below.

    The letterhead is the sender's, not what the respondent must read (the body says again how
    to reply and whom to call), so in large print too it is set small enough for its column.
    """
    questionnaire = design.questionnaire
    languages = design.languages
    right, width = A4[0] - MARGIN, A4[0] - MARGIN - LETTERHEAD_LEFT
    big, small = LETTERHEAD_SIZES[design.large_print]
    y = TOP
    logo = questionnaire.printing.logo.text(languages[0])
    if logo:
        w, h = _logo_size(logo)
        ops.append(ImageOp(logo, (right - w, y, right, y + h)))
        y += h + 3 * MM
    returns = questionnaire.returns
    rows = [(BOLD, big, text) for text in dict.fromkeys(
        _own(questionnaire.organisation, lang, languages) for lang in languages)]
    rows += [(REGULAR, small, part.strip()) for text in dict.fromkeys(
        _own(returns.address, lang, languages) for lang in languages)
        for part in text.splitlines()]
    if returns.helpline:
        rows += [(REGULAR, small, text) for text in dict.fromkeys(
            phrase("letter_helpline", lang, number=returns.helpline.text(lang))
            for lang in languages)]
    shown = [row for row in rows if row[2]]
    for number, (font, size, text) in enumerate(shown):
        if number and font == REGULAR and shown[number - 1][0] == BOLD:
            y += 1 * MM  # the address apart from the name
        fitted = _shrunk_to_fit(text, font, size, width)
        for line in wrap(text, font, fitted, width):
            ops.append(TextOp(right, y + fitted, line, font, fitted, align="right"))
            y += fitted * 1.22
    return y


def _shrunk_to_fit(text: str, font: str, size: float, width: float) -> float:
    """The size at which the text fits one line, down to 80 % of `size` (then it wraps)."""
    least = size * 0.8
    while size > least and width_of(text, font, size) > width:
        size -= SIZE_STEP
    return max(size, least)


def _logo_size(path: str) -> tuple[float, float]:
    """The logo's printed size: as large as LOGO_BOX allows, in its own proportions."""
    from PIL import Image

    with Image.open(path) as image:
        pixels_w, pixels_h = image.size
    scale = min(LOGO_BOX[0] / pixels_w, LOGO_BOX[1] / pixels_h)
    return pixels_w * scale, pixels_h * scale


def _date_block(design: LetterDesign, out: _Pages, head_bottom: float,
                spacing: Spacing) -> float:
    """The reference and the date in each language, on the right, level with the foot of the
    address window or below the letterhead; returns where the body starts."""
    size = design.style.body
    line = size * spacing.leading
    languages = design.languages
    references = dict.fromkeys(phrase("letter_reference", lang, serial="\0") for lang in languages)
    reference_langs = [next(lang for lang in languages
                            if phrase("letter_reference", lang, serial="\0") == text)
                       for text in references]
    dates = list(dict.fromkeys(long_date(design.today, lang) for lang in languages))
    height = (len(reference_langs) + len(dates)) * line
    y = max(head_bottom + 4 * MM, ADDRESS_WINDOW[3] - height)
    right = A4[0] - MARGIN
    width = right - LETTERHEAD_LEFT
    for lang in reference_langs:
        out.slots.append(Slot("reference", lang, right, y, width, size, line, "right"))
        y += line
    for text in dates:
        out.ops.append(TextOp(right, y + size, text, REGULAR, size, align="right"))
        y += line
    return max(ADDRESS_WINDOW[3] + 8 * MM, y + 6 * MM)


# What differs between letters


def fit_address(design: LetterDesign, recipient: Recipient) -> AddressFit:
    """The name and address as large as they fit the window (down to MIN_ADDRESS_SIZE): each
    line on one line if possible, else wrapped; the sender's line for undelivered mail is kept
    only while there is room for it. What fits nowhere is cut off, never drawn outside."""
    x0, y0, x1, y1 = ADDRESS_WINDOW
    width, height = x1 - x0 - 2 * WINDOW_PAD, y1 - y0 - 2 * WINDOW_PAD
    wanted = (recipient.name, *recipient.address)
    sizes = _sizes(ADDRESS_SIZE[design.large_print])
    returned = _return_line(design, width)
    for return_line in dict.fromkeys((returned, "")):
        room = height - (RETURN_LINE_SIZE * ADDRESS_LEADING if return_line else 0.0)
        for allow_wrapping in (False, True):
            for size in sizes:
                lines = [piece for text in wanted
                         for piece in wrap(text, REGULAR, size, width)]
                if not allow_wrapping and len(lines) > len(wanted):
                    continue
                if len(lines) * size * ADDRESS_LEADING <= room:
                    return AddressFit(size, tuple(lines), return_line, True)
    lines = [piece for text in wanted for piece in wrap(text, REGULAR, MIN_ADDRESS_SIZE, width)]
    kept = int(height // (MIN_ADDRESS_SIZE * ADDRESS_LEADING))
    return AddressFit(MIN_ADDRESS_SIZE, tuple(lines[:kept]), "", False, len(lines))


def _sizes(largest: float) -> list[float]:
    count = round((largest - MIN_ADDRESS_SIZE) / SIZE_STEP)
    return [largest - step * SIZE_STEP for step in range(count + 1)]


def _return_line(design: LetterDesign, width: float) -> str:
    """"If undelivered, please return to: <first line of the return address>", if it fits."""
    address = design.questionnaire.returns.address.text(design.languages[0])
    first = next((line.strip() for line in address.splitlines() if line.strip()), "")
    if not first:
        return ""
    text = f"{phrase('undelivered', design.languages[0])} {first}"
    for candidate in (text, first):
        if width_of(candidate, REGULAR, RETURN_LINE_SIZE) <= width:
            return candidate
    return ""


def address_ops(design: LetterDesign, fit: AddressFit) -> list[TextOp]:
    """The window's text: the sender's line, then the name and address, top down."""
    x0, y0, x1, _ = ADDRESS_WINDOW
    x, align = (x1 - WINDOW_PAD, "right") if design.right_to_left else (x0 + WINDOW_PAD, "left")
    ops: list[TextOp] = []
    y = y0 + WINDOW_PAD
    if fit.return_line:
        ops.append(TextOp(x, y + RETURN_LINE_SIZE * 0.95, fit.return_line, REGULAR,
                          RETURN_LINE_SIZE, grey=0.2, align=align))
        y += RETURN_LINE_SIZE * ADDRESS_LEADING
    for text in fit.lines:
        ops.append(TextOp(x, y + fit.size * 0.95, text, REGULAR, fit.size, align=align))
        y += fit.size * ADDRESS_LEADING
    return ops


def slot_ops(design: LetterDesign, page: LetterPage, recipient: Recipient,
             serial: str) -> list[TextOp]:
    """The salutations and the reference of one recipient, in the page's slots."""
    ops: list[TextOp] = []
    for slot in page.slots:
        if slot.kind == "greeting":
            lines = greeting_lines(design, recipient.name, slot.lang)
        else:
            lines = wrap(phrase("letter_reference", slot.lang, serial=serial), REGULAR,
                         slot.size, slot.width)[:1]
        for number, text in enumerate(lines):
            ops.append(TextOp(slot.x, slot.y + number * slot.leading + slot.size, text,
                              REGULAR, slot.size, align=slot.align))
    return ops


def blank_page_ops(languages: Sequence[str], style: Style) -> list[TextOp]:
    """"This page is intentionally blank", in each printed language, faint, mid-page."""
    texts = list(dict.fromkeys(phrase("blank_page", lang) for lang in languages))
    size = style.body
    y = A4[1] / 2 - len(texts) * size * 0.7
    ops: list[TextOp] = []
    for text in texts:
        for line in wrap(text, REGULAR, size, A4[0] - 2 * MARGIN):
            ops.append(TextOp(A4[0] / 2, y + size, line, REGULAR, size, grey=BLANK_GREY,
                              align="centre"))
            y += size * 1.4
    return ops

