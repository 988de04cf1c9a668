"""An online export file (CSV or XLSX) read as a header and rows of text, nothing interpreted.

Survey tools disagree on separators (Kobo writes ';'), byte order marks and cell types (XLSX dates
and numbers), so every file is first brought to the same plain form; the conventions then name
what the columns mean.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from pipeline.errors import InputFileError

DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    delimiter: str  # "" for XLSX
    other_sheets: tuple[str, ...] = ()  # XLSX sheets after the first (Kobo's repeat groups)

    def column(self, name: str) -> list[str]:
        """A column's values, row by row; ValueError when the table has no such column."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def read_table(path: Path) -> Table:
    """The online export's first sheet or its CSV text, every cell as text; refuses what it
    cannot read, naming the file."""
    if not path.is_file():
        raise InputFileError(f"online export {path} does not exist: check the path")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _read_csv(path)
    elif suffix == ".xlsx":
        table = _read_xlsx(path)
    else:
        raise InputFileError(
            f"online export {path}: papertwin reads CSV (.csv) and Excel (.xlsx) exports; "
            "export the responses again in one of these"
        )
    _check_header(path, table.columns)
    return table


def _read_csv(path: Path) -> Table:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"online export {path} is not UTF-8 text ({exc.reason} at byte {exc.start}): "
            "export it again as UTF-8 CSV"
        ) from exc
    if not text.strip():
        raise InputFileError(f"online export {path} is empty: export the responses again")
    delimiter = _delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                  strict=True))
    except csv.Error as exc:
        raise InputFileError(f"online export {path} is not a readable CSV file: {exc}") from exc
    header = tuple(cell.strip() for cell in records[0])
    rows = []
    for number, record in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            raise InputFileError(
                f"online export {path}: data row {number} has {len(record)} cells but the header "
                f"has {len(header)} columns (a separator inside an unquoted value?)"
            )
        rows.append(tuple(record) + ("",) * (len(header) - len(record)))
    return Table(header, tuple(rows), delimiter)


def _delimiter(text: str) -> str:
    """The separator that splits the header line into the most columns, quotes respected."""
    header = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])  # a tie keeps ',', the first


def _read_xlsx(path: Path) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputFileError(f"online export {path} is not a readable .xlsx file: {exc}") from exc
    try:
        sheets = list(workbook.worksheets)
        values = [tuple(_cell_text(v) for v in row)
                  for row in sheets[0].iter_rows(values_only=True)]
        names = tuple(str(s.title) for s in sheets[1:])
    finally:
        workbook.close()
    values = [row for row in values if any(v.strip() for v in row)]
    if not values:
        raise InputFileError(f"online export {path}: its first sheet is empty")
    header = tuple(v.strip() for v in values[0])
    while header and not header[-1]:
        header = header[:-1]
    rows = tuple((row[:len(header)] + ("",) * len(header))[:len(header)] for row in values[1:])
    return Table(header, rows, "", names)


def _cell_text(value: Any) -> str:
    """A cell as the CSV export of the same tool would write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _check_header(path: Path, columns: tuple[str, ...]) -> None:
    blank = [i + 1 for i, c in enumerate(columns) if not c]
    if blank:
        raise InputFileError(
            f"online export {path}: column {blank[0]} has no name in the header row; "
            "is the first row the header?"
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InputFileError(
            f"online export {path}: columns named more than once: {', '.join(repeated)}; "
            "export again with unique column names"
        )
