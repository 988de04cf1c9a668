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
from typing import Any, Literal, get_args

from pipeline.errors import LayoutError
from pipeline.model import Questionnaire

__all__ = [
    "FLAG_CATEGORIES",
    "LAYOUT_SCHEMA",
    "SERIAL_DIGITS",
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
    "OnlineNaming",
    "OnlineRow",
    "PageCode",
    "PageCodes",
    "PageLayout",
    "PageOutcome",
    "PageRef",
    "PageResult",
    "PaperAnswer",
    "decode_page_code",
    "flag_of",
    "flag_reason",
    "layout_from_dict",
    "layout_to_dict",
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
        """The mark's centre (x, y), in the units of its box (PDF points in a layout)."""
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
        """The page number a barcode's text names, or None when it names no page of this form."""
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
        """The layout of one page (numbered from 1); LayoutError when the form has no such page."""
        for p in self.pages:
            if p.page == page:
                return p
        raise LayoutError(f"form {self.form_key} has no page {page}")

    def with_copies(self, copies: tuple[Copy, ...]) -> Layout:
        return replace(self, copies=copies)


LAYOUT_SCHEMA = "papertwin.layout/1"


def layout_to_dict(layout: Layout) -> dict[str, Any]:
    """The manifest's JSON (papertwin.layout/1): coordinates in PDF points rounded to 0.01, the
    questionnaire and the copies printed."""
    return {
        "schema": LAYOUT_SCHEMA,
        "form_key": layout.form_key,
        "title": layout.title,
        "page_size_pt": round_all(layout.page_size),
        "pages": [page_layout_to_dict(p) for p in layout.pages],
        "copies": [{"serial": c.serial, "codes": list(c.codes)} for c in layout.copies],
        "languages": list(layout.languages),
        "large_print": layout.large_print,
        "cover_letters": layout.cover_letters,
        **({"letter_pages": layout.letter_pages} if layout.cover_letters else {}),
        **({"duplex": True, "padding_pages": layout.padding_pages} if layout.duplex else {}),
        **({"page_codes": _page_codes_to_dict(layout.page_codes)} if layout.page_codes else {}),
        "questionnaire": layout.questionnaire.to_dict(),
    }


def _page_codes_to_dict(codes: PageCodes) -> dict[str, Any]:
    return {"system": codes.system, "symbology": codes.symbology, "pages": dict(codes.pages)}


def _page_codes_from_dict(data: Any) -> PageCodes | None:
    if data is None:
        return None
    return PageCodes(symbology=str(data["symbology"]),
                     pages=tuple((str(k), int(v)) for k, v in data["pages"].items()),
                     system=str(data.get("system", "")))


def layout_from_dict(data: dict[str, Any], source: str = "layout") -> Layout:
    """The layout a manifest's JSON holds, older manifests included; LayoutError naming `source`
    when its schema is not papertwin.layout/1 or it is malformed."""
    if not isinstance(data, dict) or data.get("schema") != LAYOUT_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise LayoutError(f"{source}: schema is {found!r}, papertwin reads {LAYOUT_SCHEMA!r}")
    try:
        pages = tuple(
            PageLayout(
                page=int(p["page"]),
                marks=tuple(Mark(_box(m["box"]), m.get("kind", "solid")) for m in p["marks"]),
                barcode=_box(p["barcode"]["box"]),
                fields=tuple(
                    FieldBox(
                        question=str(f["question"]),
                        kind=f["kind"],
                        box=_box(f["box"]),
                        value=f.get("value"),
                        index=f.get("index"),
                    )
                    for f in p["fields"]
                ),
            )
            for p in data["pages"]
        )
        return Layout(
            form_key=str(data["form_key"]),
            title=str(data["title"]),
            page_size=(float(data["page_size_pt"][0]), float(data["page_size_pt"][1])),
            pages=pages,
            questionnaire=Questionnaire.from_dict(data["questionnaire"]),
            copies=tuple(
                Copy(serial=str(c["serial"]), codes=tuple(c["codes"]))
                for c in data.get("copies", [])
            ),
            languages=tuple(data.get("languages") or ("en",)),
            large_print=bool(data.get("large_print", False)),
            cover_letters=bool(data.get("cover_letters", False)),
            page_codes=_page_codes_from_dict(data.get("page_codes")),
            # a layout written before letters could be longer had one page of letter
            letter_pages=int(data.get("letter_pages", 1 if data.get("cover_letters") else 0)),
            padding_pages=int(data.get("padding_pages", 0)),
            duplex=bool(data.get("duplex", False)),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise LayoutError(f"{source}: malformed layout manifest ({exc!r})") from exc


def page_layout_to_dict(page: PageLayout) -> dict[str, Any]:
    """One page of the manifest's JSON: its corner marks, code box and answer boxes, in PDF
    points rounded to 0.01."""
    fields: list[dict[str, Any]] = []
    for f in page.fields:
        entry: dict[str, Any] = {"question": f.question, "kind": f.kind}
        if f.value is not None:
            entry["value"] = f.value
        if f.index is not None:
            entry["index"] = f.index
        entry["box"] = round_all(f.box)
        fields.append(entry)
    return {
        "page": page.page,
        "marks": [{"box": round_all(m.box), "kind": m.kind} for m in page.marks],
        "barcode": {"box": round_all(page.barcode)},
        "fields": fields,
    }


def _box(values: Any) -> Box:
    x0, y0, x1, y1 = (float(v) for v in values)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty box {values}")
    return (x0, y0, x1, y1)


def round_all(values: tuple[float, ...]) -> list[float]:
    """Coordinates rounded to 0.01, as the manifest stores them."""
    return [round(v, 2) for v in values]


# -- the code printed on every page: format version, form key, copy serial, page --------------

SERIAL_DIGITS = 6  # copy serials run 000001, 000002, ... within a form

PAGE_CODE_PREFIX = "PT1"
PAGE_CODE_SEPARATOR = "|"


@dataclass(frozen=True)
class PageCode:
    form_key: str
    serial: str
    page: int

    def encode(self) -> str:
        """The text the page's QR code holds: PT1|form key|serial|page."""
        return PAGE_CODE_SEPARATOR.join((PAGE_CODE_PREFIX, self.form_key, self.serial,
                                         str(self.page)))


def decode_page_code(text: str) -> PageCode | None:
    """The page code in a decoded barcode text, or None when it is not one of ours."""
    parts = text.strip().split(PAGE_CODE_SEPARATOR)
    if len(parts) != 4 or parts[0] != PAGE_CODE_PREFIX:
        return None
    _, form_key, serial, page = parts
    if not form_key or not serial.isdigit() or not page.isdigit() or int(page) < 1:
        return None
    return PageCode(form_key=form_key, serial=serial, page=int(page))


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
    # The online tool's own columns of this response (start, end, deviceid, _id, ...): export
    # column -> value, as exported (OnlineNaming.metadata says which and in what order).
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OnlineNaming:
    """How an online export named its columns, kept with the import so that the dataset can be
    written in the online export's own column names (`papertwin export --columns online`)."""

    convention: str = ""  # the convention the export was read with (online/conventions.py)
    group_separator: str = ""  # between group path components ("/" Kobo, "-" ODK Central)
    columns: Mapping[str, str] = field(default_factory=dict)  # answer name -> export column
    # "question/choice" -> the export's 0/1 column of that choice of a multiple choice
    choice_columns: Mapping[str, str] = field(default_factory=dict)
    metadata: tuple[str, ...] = ()  # the tool's metadata columns kept, in the export's order

    def then(self, newer: OnlineNaming) -> OnlineNaming:
        """This naming updated by a later import's: the later one wins where both name a
        column, and what only this one names is kept (its rows are still in the store)."""
        return OnlineNaming(
            convention=newer.convention or self.convention,
            group_separator=newer.group_separator if newer.convention else self.group_separator,
            columns={**self.columns, **newer.columns},
            choice_columns={**self.choice_columns, **newer.choice_columns},
            metadata=(*newer.metadata, *(c for c in self.metadata if c not in newer.metadata)),
        )
