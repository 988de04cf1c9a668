"""What reading a page produces: plain data that the one writer stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PageOutcome = Literal["identified", "blank", "not_a_form", "unknown_form", "unreadable",
                      "duplicate"]


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


@dataclass(frozen=True)
class Answer:
    question: str
    value: str  # choice name(s) space-separated, or text; "" for blank or undecided
    confidence: float
    needs_review: bool = False
    reason: str = ""
    crop_png: bytes | None = None  # the text box as scanned, for a person to check


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
