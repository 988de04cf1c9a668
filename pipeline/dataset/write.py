"""Writing the unified dataset, its codebook and its per-question summary.

CSV, Parquet, SPSS and Stata files get the codebook and summary as CSV files beside the dataset
(`NAME.codebook.csv`, `NAME.summary.csv`); an XLSX workbook holds all three as sheets. Every
format also gets the codebook as a page to read (`NAME.codebook.md`). Every file is written whole
or not at all (temporary file, fsync, rename). No cell of a CSV or XLSX file is a formula a
spreadsheet would evaluate (pipeline/formulas.py), unless `raw` asks for CSV values exactly as
stored; Parquet is typed data that no spreadsheet evaluates, and is written as it is.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from pipeline.dataset.statfiles import StatsTable, write_stats
from pipeline.errors import UsageError
from pipeline.formulas import CSV_QUOTING, evaluable, neutral_frame
from pipeline.fsutil import atomic_write_bytes, atomic_write_text, not_writable
from pipeline.terminal import shown

DatasetFormat = Literal["csv", "parquet", "xlsx", "sav", "dta"]
FORMATS: tuple[DatasetFormat, ...] = ("csv", "parquet", "xlsx", "sav", "dta")
TYPED_FORMATS: tuple[DatasetFormat, ...] = ("parquet", "xlsx")  # hold numbers and dates
STATS_FORMATS: tuple[DatasetFormat, ...] = ("sav", "dta")
XLSX_MAX_ROWS = 1_048_575  # one header row besides


def companion_paths(path: Path) -> tuple[Path, Path]:
    """Where the codebook and the summary of a CSV or Parquet dataset go."""
    stem = path.name.removesuffix(path.suffix) if path.suffix else path.name
    return path.with_name(f"{stem}.codebook.csv"), path.with_name(f"{stem}.summary.csv")


def codebook_page_path(path: Path) -> Path:
    """Where the codebook to read (Markdown) goes, for every format."""
    stem = path.name.removesuffix(path.suffix) if path.suffix else path.name
    return path.with_name(f"{stem}.codebook.md")


def write_dataset(frame: pd.DataFrame, path: Path, fmt: str = "csv",
                  codebook: pd.DataFrame | None = None,
                  summary: pd.DataFrame | None = None, raw: bool = False,
                  stats: StatsTable | None = None,
                  codebook_page: str | None = None) -> list[Path]:
    """The dataset in `fmt`, plus codebook and summary if given (beside it, or as sheets of the
    workbook); returns the paths written, the dataset's first. `frame` is the text dataset for
    CSV and the typed one (types.typed_dataset) for Parquet and XLSX; SPSS and Stata write
    `stats` (statfiles.stats_table). `raw` writes CSV values exactly, text marks left off."""
    if fmt not in FORMATS:
        raise UsageError(f"export format {fmt!r}: papertwin writes {', '.join(FORMATS)}")
    if fmt == "xlsx" and len(frame) > XLSX_MAX_ROWS:
        raise UsageError(f"{len(frame)} responses do not fit in one XLSX sheet "
                         f"({XLSX_MAX_ROWS} rows at most): export CSV or Parquet")
    try:
        return _write_files(frame, path, fmt, codebook, summary, raw, stats, codebook_page)
    except OSError as exc:  # the place: a folder that is a file, a full or read-only disk
        raise not_writable(Path(exc.filename) if exc.filename else path, exc) from exc


def _write_files(frame: pd.DataFrame, path: Path, fmt: str, codebook: pd.DataFrame | None,
                 summary: pd.DataFrame | None, raw: bool, stats: StatsTable | None,
                 codebook_page: str | None) -> list[Path]:
    written = [path]
    if fmt == "xlsx":
        atomic_write_bytes(path, xlsx_bytes({"dataset": frame, "codebook": codebook,
                                             "summary": summary}))
    else:
        if fmt in STATS_FORMATS:
            if stats is None:
                raise UsageError(f"export format {fmt}: the dataset's labels are needed")
            write_stats(stats, path)
        elif fmt == "parquet":
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
            atomic_write_bytes(path, buffer.getvalue())
        else:
            atomic_write_text(path, csv_text(frame, raw))
        codebook_path, summary_path = companion_paths(path)
        for table, target in ((codebook, codebook_path), (summary, summary_path)):
            if table is not None:
                atomic_write_text(target, csv_text(table, raw))
                written.append(target)
    if codebook_page is not None:
        atomic_write_text(codebook_page_path(path), codebook_page)
        written.append(codebook_page_path(path))
    return written


def csv_text(table: pd.DataFrame, raw: bool = False) -> str:
    """A table as CSV that no spreadsheet evaluates; `raw`: the values exactly, quoted only
    where CSV needs it."""
    if raw:
        return table.to_csv(index=False, lineterminator="\n")
    return neutral_frame(table).to_csv(index=False, lineterminator="\n", quoting=CSV_QUOTING)


def xlsx_bytes(sheets: dict[str, pd.DataFrame | None]) -> bytes:
    """A workbook with a sheet per table, header row frozen. Text goes in string cells with its
    value exact: what a spreadsheet would evaluate (or read as an error code) is a string cell
    styled `quotePrefix`, never a formula, so it stays text when someone edits it."""
    workbook = Workbook(write_only=True)
    for name, table in sheets.items():
        if table is None:
            continue
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        sheet.append([_header_cell(sheet, label) for label in table.columns])
        for row in table.itertuples(index=False, name=None):
            sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header_cell(sheet: WriteOnlyWorksheet, label: object) -> Cell:
    cell = _text_cell(sheet, str(label))
    cell.font = Font(bold=True)
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        # Excel has no time zones: UTC, as the codebook says
        moment = value.tz_convert(UTC).tz_localize(None) if value.tzinfo else value
        return moment.to_pydatetime()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        value = _xml_safe(value)
        if evaluable(value) or value in ERROR_CODES:
            return _text_cell(sheet, value)
    return value


def _xml_safe(text: str) -> str:
    """XLSX cannot hold most control characters (an escape sequence typed online, a stray byte
    read by OCR): they are written as visible escapes (`\x1b`), as on the terminal, rather than
    the whole export refused."""
    return str(ILLEGAL_CHARACTERS_RE.sub(lambda found: shown(found.group()), text))


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    text = _xml_safe(text)
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"  # openpyxl makes any text beginning with "=" a formula
    if evaluable(text) or text in ERROR_CODES:
        cell.quotePrefix = True
    return cell
