"""The data that passes between papertwin's stages, in one module every stage imports.

Producers (the form builder, the reader, scan intake, the online import) and consumers (the store,
review, the dataset) meet here, so neither side imports the other: the store knows what a layout,
a page result and an archived file are without importing `forms`, `read` or `scan`. Everything here
is a frozen dataclass or a type alias: plain data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

from pipeline.errors import LayoutError
from pipeline.model import Questionnaire

__all__ = [
    "FLAG_CATEGORIES",
    "Answer",
    "ArchivedFile",
    "Box",
    "BoxResult",
    "Copy",
    "FieldBox",
    "FieldKind",
    "FileKind",
    "FlagCategory",
    "Layout",
    "Mark",
    "MarkKind",
    "OnlineRow",
    "PageCodes",
    "PageLayout",
    "PageOutcome",
    "PageRef",
    "PageResult",
    "PaperAnswer",
    "flag_of",
    "flag_reason",
]


# -- the layout of a printed form (layout.json; written and read by forms/manifest.py) ----------

Box = tuple[float, float, float, float]
FieldKind = Literal["choice", "text", "char"]
# corner: an L-shaped mark (printed by another system); its box is centred on the inner corner
MarkKind = Literal["solid", "ring", "corner"]


@dataclass(frozen=True)
class Mark:
    box: Box
    kind: MarkKind

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)


@dataclass(frozen=True)
class FieldBox:
    question: str
    kind: FieldKind
    box: Box
    value: str | None = None  # the choice's name, for kind "choice"
    index: int | None = None  # the cell's position, from 0, for kind "char"


@dataclass(frozen=True)
class PageLayout:
    page: int
    marks: tuple[Mark, ...]
    barcode: Box
    fields: tuple[FieldBox, ...]


@dataclass(frozen=True)
class Copy:
    serial: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class PageCodes:
    """How a form printed by another system names its pages: one barcode per page that says which
    page it is but not which copy, so consecutive pages of a scan file make one response."""

    symbology: str  # the barcode format, as zxing-cpp names it ("ITF")
    pages: tuple[tuple[str, int], ...]  # barcode text -> page number
    system: str = ""  # the system that printed the form ("queXF")

    def page_of(self, text: str) -> int | None:
        return dict(self.pages).get(text)


@dataclass(frozen=True)
class Layout:
    form_key: str
    title: str
    page_size: tuple[float, float]
    pages: tuple[PageLayout, ...]
    questionnaire: Questionnaire
    copies: tuple[Copy, ...] = field(default_factory=tuple)
    languages: tuple[str, ...] = ("en",)  # the languages printed, in order
    large_print: bool = False
    cover_letters: bool = False  # each copy starts with an addressed cover letter (no code)
    page_codes: PageCodes | None = None  # set for a form printed elsewhere, with no copy serial
    # The print order of each copy: its letter's pages (blank ones included, so every letter has
    # as many), the questionnaire's, then blank pages that make whole sheets when printed duplex.
    letter_pages: int = 0
    padding_pages: int = 0
    duplex: bool = False

    @property
    def pages_per_copy(self) -> int:
        """Pages each copy takes in the printed PDF, letter and blank pages included."""
        return self.letter_pages + len(self.pages) + self.padding_pages

    def page_layout(self, page: int) -> PageLayout:
        for p in self.pages:
            if p.page == page:
                return p
        raise LayoutError(f"form {self.form_key} has no page {page}")

    def with_copies(self, copies: tuple[Copy, ...]) -> Layout:
        return replace(self, copies=copies)


# -- what reading a page produces (read/) -------------------------------------------------

PageOutcome = Literal["identified", "blank", "not_a_form", "unknown_form", "unreadable",
                      "duplicate"]
# Why an answer waits for a person: a small fixed set, so reviewers can sort and count the work.
# A flagged answer's reason starts with its category ("ambiguous: 2 marked (a b)"), so the store
# keeps the category without a column of its own.
FlagCategory = Literal[
    "ambiguous",  # two live marks on a single choice, or a box between empty and marked
    "low contrast",  # faint ink (a light pencil) that may or may not be a mark
    "failed validation",  # cells that are not a number, a date or a UK postcode
    "OCR low confidence",  # text or cells tesseract is unsure of
    "OCR failed",  # tesseract crashed or timed out
    "cancelled or heavy",  # a filled-in box: a cancelled mark, or a heavy one?
    "ringed",  # a ring drawn around a box instead of a mark in it, not clear enough to read
    "noisy scan",  # speckle or streaks around a box hide whether it is marked
    "specify without its choice",  # "please specify" written, its choice not marked
    "page code unreadable",  # the serial was read from the printed key: confirm it
    "audit",  # a confident answer picked at random for a person to check
]
FLAG_CATEGORIES: tuple[FlagCategory, ...] = get_args(FlagCategory)


def flag_reason(category: FlagCategory, detail: str = "") -> str:
    """The reason a person reads, starting with its category."""
    return f"{category}: {detail}" if detail else category


def flag_of(reason: str) -> FlagCategory | Literal[""]:
    """The category a reason starts with ("" when it names none)."""
    for category in FLAG_CATEGORIES:
        if reason == category or reason.startswith(f"{category}:"):
            return category
    return ""


@dataclass(frozen=True)
class PageRef:
    """Where a page came from: the archived file (by content hash) and its page number in it."""

    sha256: str
    name: str  # the file's name as the mailroom gave it
    index: int  # 1-based page number within the file


@dataclass(frozen=True)
class BoxResult:
    question: str
    value: str
    state: str
    fill: float
    confidence: float
    surround: float = 0.0  # ink just outside the box: a ring drawn around it
    faint: bool = False  # light ink (pencil) in a box with little dark ink: low contrast
    noisy: bool = False  # read against speckle or streaks around it
    edge: float = 0.0  # ink in the margin inside the outline: a stroke running through it
    tone: float = 1.0  # how dark its ink is, as a share of the ink threshold (0: black)


@dataclass(frozen=True)
class Answer:
    question: str
    value: str  # choice name(s) space-separated, or text; "" for blank or undecided
    confidence: float
    needs_review: bool = False
    reason: str = ""  # for a person: starts with the category (flag_reason)
    crop_png: bytes | None = None  # the text box as scanned, for a person to check
    flag: FlagCategory | Literal[""] = ""  # why it waits for a person; "" when it does not

    def __post_init__(self) -> None:
        # Code that flags an answer by its reason alone (replace(..., needs_review=True,
        # reason=...)) still gets the category the reason starts with.
        if self.needs_review and not self.flag:
            object.__setattr__(self, "flag", flag_of(self.reason))


@dataclass(frozen=True)
class PageResult:
    ref: PageRef
    outcome: PageOutcome
    reason: str = ""
    form_key: str = ""
    serial: str = ""
    page: int = 0
    rotation: int = 0
    alignment_quality: float = 0.0
    boxes: tuple[BoxResult, ...] = field(default_factory=tuple)
    answers: tuple[Answer, ...] = field(default_factory=tuple)
    timings: tuple[tuple[str, float], ...] = ()  # seconds spent per stage of reading


# -- a scan file as archived in the workspace (scan/intake.py) ---------------------------

FileKind = Literal["pdf", "image"]


@dataclass(frozen=True)
class ArchivedFile:
    sha256: str
    name: str  # the name the file arrived with
    original: Path
    archived: Path
    kind: FileKind
    size: int


# -- answers as the store gives them to the dataset -----------------------------------------

@dataclass(frozen=True)
class PaperAnswer:
    form_key: str
    serial: str
    page: int
    question: str
    value: str
    confidence: float
    needs_review: bool
    reason: str
    source: str  # "<file name> p<page index>"
    read_at: str
    decided_by: str = ""  # the reviewer whose decision gives the value ("" : as read)
    read_value: str | None = None  # what the reader found, when a decision overrides it
    # The serial printed on the page when this answer is another response's on it (a
    # photocopy, stored as "<serial>-2"); "" for the response the serial was printed for.
    copy_of: str = ""

    @property
    def flag(self) -> FlagCategory | Literal[""]:
        """Why it waits for a person: the category its reason starts with (no column needed)."""
        return flag_of(self.reason) if self.needs_review else ""


@dataclass(frozen=True)
class OnlineRow:
    response_id: str
    submitted_at: str
    respondent_ref: str
    answers: Mapping[str, str]
    source: str
