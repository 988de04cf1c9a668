"""An online export file (CSV, XLSX, or ODK Central's CSV zip) read as a header and rows of text,
nothing interpreted.

Survey tools disagree on separators (Kobo writes ';'), byte order marks and cell types (XLSX dates
and numbers), so every file is first brought to the same plain form; the conventions then name
what the columns mean. A form with repeat groups exports one table per group besides the main one
(Kobo: further sheets of the XLSX; ODK Central: further CSV files of the zip, or beside the main
CSV): `read_tables` reads them all, named, for pipeline/online/repeats.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
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
    name: str = ""  # the sheet's title, or the CSV file's name (in a zip: its member name)

    def column(self, name: str) -> list[str]:
        """A column's values, row by row; ValueError when the table has no such column."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def read_table(path: Path) -> Table:
    """The online export's first sheet or its CSV text, every cell as text; refuses what it
    cannot read, naming the file."""
    return read_tables(path)[0]


def read_tables(path: Path) -> tuple[Table, tuple[Table, ...]]:
    """The online export's main table and the tables that came with it (a Kobo XLSX's further
    sheets, the other CSV files of an ODK Central CSV zip), every cell as text; refuses what it
    cannot read, naming the file."""
    if not path.is_file():
        raise InputFileError(f"online export {path} does not exist: check the path")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        tables = [_read_csv(path)]
    elif suffix == ".xlsx":
        tables = _read_xlsx(path)
    elif suffix == ".zip":
        tables = _read_zip(path)
    else:
        raise InputFileError(
            f"online export {path}: papertwin reads CSV (.csv) and Excel (.xlsx) exports, and "
            "ODK Central's CSV zip (.zip); export the responses again in one of these"
        )
    for table in tables:
        _check_header(path if table is tables[0] else Path(f"{path} ({table.name})"),
                      table.columns)
    return tables[0], tuple(tables[1:])


def read_beside(path: Path, names: Sequence[str]) -> tuple[Table, ...]:
    """The CSV files named `names` in the folder of `path` that exist (ODK Central's repeat
    files, `FORMID-REPEAT.csv`, kept beside the main CSV), read as read_tables reads a CSV."""
    found = [path.with_name(name) for name in names]
    tables = [_read_csv(p) for p in found if p.is_file()]
    for table, beside in zip(tables, [p for p in found if p.is_file()], strict=True):
        _check_header(beside, table.columns)
    return tuple(tables)


def _read_zip(path: Path) -> list[Table]:
    """ODK Central's "CSV zip": FORMID.csv (one row per submission) and FORMID-REPEAT.csv for
    each repeat group; media files beside them are left. The main table is the one CSV that is
    no repeat group's (no PARENT_KEY column)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist()
                       if not m.is_dir() and m.filename.lower().endswith(".csv")]
            tables = [_csv_table(f"{path} ({m.filename})", archive.read(m), m.filename)
                      for m in members]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(f"online export {path} is not a readable .zip file: {exc}") from exc
    main = [t for t in tables if "PARENT_KEY" not in t.columns]
    if len(main) != 1:
        found = ", ".join(t.name for t in main) or "none"
        raise InputFileError(
            f"online export {path}: a CSV zip holds one main CSV file (one row per submission, "
            f"no PARENT_KEY column) and a file per repeat group; found main files: {found}. "
            "Download the zip again from ODK Central (Submissions, Download, CSV)")
    return [main[0], *(t for t in tables if t is not main[0])]


def _read_csv(path: Path) -> Table:
    return _csv_table(str(path), path.read_bytes(), path.name)


def _csv_table(where: str, data: bytes, name: str) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"online export {where} is not UTF-8 text ({exc.reason} at byte {exc.start}): "
            "export it again as UTF-8 CSV"
        ) from exc
    if not text.strip():
        raise InputFileError(f"online export {where} is empty: export the responses again")
    delimiter = _delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                  strict=True))
    except csv.Error as exc:
        raise InputFileError(f"online export {where} is not a readable CSV file: {exc}") from exc
    header = tuple(cell.strip() for cell in records[0])
    rows = []
    for number, record in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            raise InputFileError(
                f"online export {where}: data row {number} has {len(record)} cells but the header "
                f"has {len(header)} columns (a separator inside an unquoted value?)"
            )
        rows.append(tuple(record) + ("",) * (len(header) - len(record)))
    return Table(header, tuple(rows), delimiter, name=name)


def _delimiter(text: str) -> str:
    """The separator that splits the header line into the most columns, quotes respected."""
    header = text.split("\n", 1)[0]
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])  # a tie keeps ',', the first


def _read_xlsx(path: Path) -> list[Table]:
    """Every sheet, the first one first; a further sheet left empty is left out."""
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputFileError(f"online export {path} is not a readable .xlsx file: {exc}") from exc
    try:
        sheets = [(str(sheet.title), [tuple(_cell_text(v) for v in row)
                                      for row in sheet.iter_rows(values_only=True)])
                  for sheet in workbook.worksheets]
    finally:
        workbook.close()
    names = tuple(title for title, _ in sheets[1:])
    tables: list[Table] = []
    for title, values in sheets:
        values = [row for row in values if any(v.strip() for v in row)]
        if not values:
            if not tables:
                raise InputFileError(f"online export {path}: its first sheet is empty")
            continue
        header = tuple(v.strip() for v in values[0])
        while header and not header[-1]:
            header = header[:-1]
        rows = tuple((row[:len(header)] + ("",) * len(header))[:len(header)]
                     for row in values[1:])
        tables.append(Table(header, rows, "", names if not tables else (), title))
    return tables


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
