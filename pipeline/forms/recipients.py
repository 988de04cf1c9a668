"""Addressed mailings: the recipient list in, a contacts file keyed by copy serial out.

The contacts file and the store's contacts table are the only places a name meets a serial; the
questionnaire pages carry the serial alone, and the address is printed on a separate cover letter
that shows in the envelope's window. The contacts file is opened in spreadsheets, so no field of
it is a formula (pipeline/formulas.py).

Two optional columns say how a person wants their copy: `language` (the languages printed, in
order: `cy,en`) and `format` (`standard` or `large-print`); blank takes the run's options.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputFileError
from pipeline.formulas import neutral_csv
from pipeline.fsutil import atomic_write_text

ADDRESS_COLUMNS = ("address", "address1", "address2", "address3", "address4", "address5",
                   "town", "county", "postcode")
MAX_ADDRESS_LINES = 6
LANGUAGE_COLUMN = "language"
FORMAT_COLUMN = "format"
FORMATS = ("standard", "large-print")


@dataclass(frozen=True)
class Recipient:
    name: str
    address: tuple[str, ...]
    row: dict[str, str]  # every column as given, for the contacts file
    line: int = 0  # its line in the recipient list (the header is line 1), for messages
    languages: tuple[str, ...] = ()  # the languages asked for, in order; () for the run's
    format: str = ""  # one of FORMATS; "" for the run's


def read_recipients(path: Path, languages: Sequence[str] | None = None) -> list[Recipient]:
    """The recipients of an addressed mailing, in the list's order, from a CSV with a name column
    and address columns; InputFileError, naming the file and line, for a list that cannot be
    printed. `languages`: the template's, which a `language` column may name (spelled as the
    template spells them, whatever the case written); None takes any."""
    if not path.is_file():
        raise InputFileError(f"recipient list {path} does not exist: check the path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"recipient list {path} is not UTF-8 text: save it as CSV UTF-8")\
            from exc
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    lowered = [c.lower() for c in columns]
    if "name" not in lowered or not any(c in lowered for c in ADDRESS_COLUMNS):
        raise InputFileError(
            f"recipient list {path} needs a 'name' column and address columns "
            f"({', '.join(ADDRESS_COLUMNS)})"
        )
    recipients = []
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        by_lower = {k.lower(): v for k, v in row.items()}
        name = by_lower.get("name", "")
        lines = [part.strip() for column in ADDRESS_COLUMNS
                 for part in by_lower.get(column, "").split("\n") if part.strip()]
        if not name or not lines:
            raise InputFileError(f"recipient list {path} line {number}: name or address missing")
        if len(lines) > MAX_ADDRESS_LINES:
            raise InputFileError(f"recipient list {path} line {number}: more than "
                                 f"{MAX_ADDRESS_LINES} address lines do not fit the window")
        where = f"recipient list {path} line {number}"
        recipients.append(Recipient(
            name, tuple(lines), row, number,
            _languages(by_lower.get(LANGUAGE_COLUMN, ""), languages, where),
            _format(by_lower.get(FORMAT_COLUMN, ""), where)))
    if not recipients:
        raise InputFileError(f"recipient list {path} has no recipients")
    return recipients


def _languages(value: str, known: Sequence[str] | None, where: str) -> tuple[str, ...]:
    """`cy,en` (commas, semicolons or spaces between) as the template spells its codes."""
    asked = [part for part in value.replace(";", ",").replace(" ", ",").split(",") if part]
    spelled = {lang.lower(): lang for lang in known} if known is not None else None
    found: list[str] = []
    for lang in asked:
        code = lang if spelled is None else spelled.get(lang.lower())
        if code is None:
            raise InputFileError(
                f"{where}, column '{LANGUAGE_COLUMN}': '{lang}' is not a language of the "
                f"template (its languages: {', '.join(known or ())}); write them in the order "
                f"to print, e.g. '{','.join((known or ())[:2])}', or leave it blank for the run's")
        if code in found:
            raise InputFileError(f"{where}, column '{LANGUAGE_COLUMN}': '{lang}' is named twice")
        found.append(code)
    return tuple(found)


def _format(value: str, where: str) -> str:
    """A known format, whatever the case or a space for the hyphen; "" for blank."""
    normal = "-".join(value.lower().replace("_", " ").split())
    if normal and normal not in FORMATS:
        raise InputFileError(f"{where}, column '{FORMAT_COLUMN}': '{value}' is not a format "
                             f"papertwin prints ({', '.join(FORMATS)}), or leave it blank for "
                             "the run's")
    return normal


def write_contacts(path: Path, serials: list[str], recipients: list[Recipient]) -> None:
    """Write the contacts file: each serial beside its recipient's columns as given (`serials`
    and `recipients` pair up in order), no field able to run as a spreadsheet formula."""
    columns = list(dict.fromkeys(c for r in recipients for c in r.row))
    atomic_write_text(path, neutral_csv([["serial", *columns], *(
        [serial, *(recipient.row.get(c, "") for c in columns)]
        for serial, recipient in zip(serials, recipients, strict=True))]))


def recipient_of(fields: dict[str, str]) -> Recipient:
    """A recipient again from the fields the contacts kept (a reminder's address): the name
    and address columns read as the recipient list's are."""
    by_lower = {k.strip().lower(): v for k, v in fields.items()}
    lines = [part.strip() for column in ADDRESS_COLUMNS
             for part in by_lower.get(column, "").split("\n") if part.strip()]
    return Recipient(by_lower.get("name", ""), tuple(lines[:MAX_ADDRESS_LINES]), dict(fields))
