"""What reading a page produces: plain data that the one writer stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

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
