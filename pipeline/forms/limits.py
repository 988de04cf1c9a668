"""How much a template may hold, and the checks that hold every template format to it.

A template comes from outside: a workbook can be a zip bomb, a YAML file can multiply itself
through aliases, and a form of a million rows or a label of a million characters would take the
layout hours and gigabytes before it failed. The limits are far above any real questionnaire
(docs/template-format.md gives each default and the largest value measured on real forms), so a
template that crosses one is refused at once, with a message naming the file, the place, the
limit and what to do, instead of exhausting the machine.

The file size is checked as the file is read (`read_limited`); each format then checks its raw
shape before it is interpreted (safezip.py for .xlsx, the sheets of every XLSForm here, YAML
aliases and queXML elements in their loaders), and the loaded questionnaire is checked once
(`check_limits`), whatever its format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import TemplateError
from pipeline.forms.numbering import Number, question_numbers
from pipeline.model import (
    Grid,
    Item,
    Label,
    Note,
    Question,
    Questionnaire,
    Repeat,
    Section,
    expand_items,
    printed_size,
)

MIB = 1024 * 1024


@dataclass(frozen=True)
class TemplateLimits:
    """Upper bounds on a template. Each default is several times the largest value measured on
    eighteen real XLSForms (ODK, Kobo, SurveyCTO, Ona), given after it."""

    file_bytes: int = 10 * MIB  # the template file as stored (0.9 MB)
    xlsx_inflated_bytes: int = 32 * MIB  # all entries of an .xlsx, inflated (6.1 MB)
    xlsx_entries: int = 1_000  # files inside an .xlsx (33)
    xlsx_ratio: int = 100  # inflated / compressed size of an entry over 1 MiB inflated (15)
    sheet_rows: int = 50_000  # rows of one XLSForm sheet (5,242)
    cells: int = 500_000  # filled cells of a workbook; values of a YAML file, its aliases
    # written out; elements of a queXML file (34,224 cells)
    items: int = 5_000  # printed questions (each grid row one), notes and headings (289)
    choices_per_list: int = 5_000  # choices of one question or grid (2,131)
    choices: int = 20_000  # tick boxes in all: the choices of every question, of a grid once
    # per row (5,289)
    label_chars: int = 10_000  # characters of one label, title, note or choice, per
    # language (3,685: a consent text)
    hint_chars: int = 10_000  # characters of one hint, per language (607)


DEFAULT_LIMITS = TemplateLimits()


def read_limited(path: Path, max_bytes: int, what: str = "template") -> bytes:
    """The file's bytes, refused unread when it is larger than `max_bytes`."""
    if not path.exists():
        raise TemplateError(f"{what} {path} does not exist: check the path")
    if not path.is_file():
        raise TemplateError(f"{what} {path} is not a file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TemplateError(too_large(f"{what} {path}", size, max_bytes, what))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # a file still growing cannot slip past the limit
    except OSError as exc:
        raise TemplateError(f"{what} {path} cannot be read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise TemplateError(too_large(f"{what} {path}", len(data), max_bytes, what))
    return data


def too_large(where: str, size: int, limit: int, what: str = "template") -> str:
    """The message for a file over its size limit: where it is, both sizes, and what to check."""
    return (f"{where} is {byte_size(size)}; papertwin reads a {what} of at most "
            f"{byte_size(limit)} (file size limit): is it the right file? A questionnaire is far "
            "smaller (save a workbook without pictures or sheets the form does not use)")


def check_sheets(book: Mapping[str, Any], source: str, limits: TemplateLimits) -> None:
    """Rows per sheet and filled cells in all, before a row of the workbook is interpreted."""
    cells = 0
    for name, rows in book.items():
        if not isinstance(rows, list) or name.endswith("_header"):
            continue
        if len(rows) > limits.sheet_rows:
            raise TemplateError(
                f"{source}: the {name} sheet has {len(rows):,} rows; papertwin reads at most "
                f"{limits.sheet_rows:,} rows per sheet (sheet rows limit): remove the rows the "
                "paper form does not need, or split the questionnaire")
        cells += sum(len(row) for row in rows if isinstance(row, Mapping))
    if cells > limits.cells:
        raise TemplateError(
            f"{source}: the workbook has {cells:,} filled cells; papertwin reads at most "
            f"{limits.cells:,} (cells limit): remove the columns and rows the paper form does "
            "not need, such as unused languages or choice lists")


def check_limits(questionnaire: Questionnaire, source: str, limits: TemplateLimits) -> None:
    """Items, choices and text lengths of a loaded questionnaire, whatever its format."""
    numbers = question_numbers(questionnaire)
    items = printed_size(questionnaire.items)  # a repeat's once per printed copy
    if items > limits.items:
        repeats = ", a repeat's once per copy" if any(
            isinstance(item, Repeat) for item in questionnaire.items) else ""
        raise TemplateError(
            f"{source} has {items:,} questions, notes and headings{repeats}; papertwin prints at "
            f"most {limits.items:,} (items limit): split it into several questionnaires")
    printed = tuple(expand_items(questionnaire.items))
    boxes = 0
    for item in printed:
        if isinstance(item, Question | Grid):
            count = len(item.choices)
            if count > limits.choices_per_list:
                raise TemplateError(
                    f"{source}: {describe(item, numbers)} has {count:,} choices; papertwin "
                    f"prints at most {limits.choices_per_list:,} per question (choices per "
                    "list limit): split the list over several questions (for example one per "
                    "region), or ask for the answer in words")
            boxes += count * (len(item.rows) if isinstance(item, Grid) else 1)
    if boxes > limits.choices:
        raise TemplateError(
            f"{source} has {boxes:,} tick boxes (the choices of all its questions, a grid's once "
            f"per row); papertwin prints at most {limits.choices:,} (choices limit): split it "
            "into several questionnaires, or shorten its longest lists")
    for where, kind, label in _texts(questionnaire, numbers):
        limit = limits.hint_chars if kind == "hint" else limits.label_chars
        for lang, text in label.texts:
            if len(text) > limit:
                language = f" ({lang})" if len(questionnaire.languages) > 1 else ""
                raise TemplateError(
                    f"{source}: {where}: its {kind}{language} has {len(text):,} characters; "
                    f"papertwin prints at most {limit:,} characters per {kind} "
                    f"({kind} length limit): shorten it{_advice(kind)}")


def describe(item: Item, numbers: Mapping[str, Number]) -> str:
    """How messages name an item: by its printed number and its name."""
    if isinstance(item, Section):
        return f"section {item.name}"
    if isinstance(item, Note):
        return f"note {item.name}"
    kind = "repeat" if isinstance(item, Repeat) else "question"
    number = numbers.get(item.name)
    if number is None:
        return f"{kind} {item.name}"
    return f"{kind} {number} ({item.name})"


def _texts(questionnaire: Questionnaire,
           numbers: Mapping[str, Number]) -> Iterator[tuple[str, str, Label]]:
    """(where, "label" or "hint", text) for every text papertwin prints from the template."""
    yield "the title", "label", questionnaire.title
    yield "the organisation", "label", questionnaire.organisation
    yield "the introduction", "label", questionnaire.intro
    yield "the return address", "label", questionnaire.returns.address
    yield "the closing date", "label", questionnaire.returns.closing_date
    yield "the helpline", "label", questionnaire.returns.helpline
    yield "the sender", "label", questionnaire.sender
    for item in expand_items(questionnaire.items):
        where = describe(item, numbers)
        yield where, "label", item.label
        if isinstance(item, Question | Grid | Repeat):
            yield where, "hint", item.hint
        if isinstance(item, Question | Grid):
            for choice in item.choices:
                yield f"{where}, choice {choice.name}", "label", choice.label
        if isinstance(item, Grid):
            for row in item.rows:
                yield f"{where}, row {row.name}", "label", row.label


def _advice(kind: str) -> str:
    if kind == "hint":
        return ", or put the explanation in a note before the question"
    return ", or split it: a long explanation can go in notes of its own"


def byte_size(size: int) -> str:
    """A size in bytes as a person reads it: bytes, MiB or GiB."""
    if size >= 1024 * MIB:
        return f"{size / (1024 * MIB):.1f} GiB"
    return f"{size / MIB:.1f} MiB" if size >= MIB else f"{size:,} bytes"
