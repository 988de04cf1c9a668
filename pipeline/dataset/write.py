"""Writing the unified dataset, its codebook and its per-question summary.

CSV, Parquet, SPSS and Stata files get the codebook and summary as CSV files beside the dataset
(`NAME.codebook.csv`, `NAME.summary.csv`); an XLSX workbook holds all three as sheets. Every
format also gets the codebook as a page to read (`NAME.codebook.md`). Repeat groups' tables
(pipeline/dataset/repeats.py), when given, go beside the dataset in its format
(`NAME.REPEAT.csv`, `.parquet`, `.sav`, `.dta`) or as sheets after the dataset's. Every file is
written whole or not at all (temporary file, fsync, rename). No cell of a CSV or XLSX file is
a formula a spreadsheet would evaluate (pipeline/formulas.py), unless `raw` asks for CSV values
exactly as stored; Parquet is typed data that no spreadsheet evaluates, and is written as it is.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
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
SHEET_CHARS = 31  # an XLSX sheet name's limit
COMPANIONS = ("dataset", "codebook", "summary")  # names a repeat's sheet or file cannot take


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
                  codebook_page: str | None = None,
                  repeats: Mapping[str, pd.DataFrame] | None = None,
                  repeat_stats: Mapping[str, StatsTable] | None = None) -> list[Path]:
    """The dataset in `fmt`, plus codebook and summary if given (beside it, or as sheets of the
    workbook), and a table per repeat group (by its name) if given; returns the paths written,
    the dataset's first. `frame` and `repeats` are text for CSV and typed (types.typed_dataset)
    for Parquet and XLSX; SPSS and Stata write `stats` and `repeat_stats`
    (statfiles.stats_table). `raw` writes CSV values exactly, text marks left off."""
    if fmt not in FORMATS:
        raise UsageError(f"export format {fmt!r}: papertwin writes {', '.join(FORMATS)}")
    if fmt == "xlsx":
        for name, sheet in {"dataset": frame, **(repeats or {})}.items():
            if len(sheet) > XLSX_MAX_ROWS:
                what = "responses" if name == "dataset" else f"rows of repeat group {name}"
                raise UsageError(f"{len(sheet)} {what} do not fit in one XLSX sheet "
                                 f"({XLSX_MAX_ROWS} rows at most): export CSV or Parquet")
    if fmt in STATS_FORMATS and stats is None:
        raise UsageError(f"export format {fmt}: the dataset's labels are needed")
    try:
        return _write_files(frame, path, fmt, codebook, summary, raw, stats, codebook_page,
                            repeats or {}, repeat_stats or {})
    except OSError as exc:  # the place: a folder that is a file, a full or read-only disk
        raise not_writable(Path(exc.filename) if exc.filename else path, exc) from exc


def _write_files(frame: pd.DataFrame, path: Path, fmt: str, codebook: pd.DataFrame | None,
                 summary: pd.DataFrame | None, raw: bool, stats: StatsTable | None,
                 codebook_page: str | None, repeats: Mapping[str, pd.DataFrame],
                 repeat_stats: Mapping[str, StatsTable]) -> list[Path]:
    written = [path]
    if fmt == "xlsx":
        atomic_write_bytes(path, xlsx_bytes({"dataset": frame, **repeat_sheets(repeats),
                                             "codebook": codebook, "summary": summary}))
    else:
        _write_table(frame, path, fmt, raw, stats)
        for name, repeat in repeats.items():
            target = repeat_path(path, name)
            _write_table(repeat, target, fmt, raw, repeat_stats.get(name))
            written.append(target)
        codebook_path, summary_path = companion_paths(path)
        for table, target in ((codebook, codebook_path), (summary, summary_path)):
            if table is not None:
                atomic_write_text(target, csv_text(table, raw))
                written.append(target)
    if codebook_page is not None:
        atomic_write_text(codebook_page_path(path), codebook_page)
        written.append(codebook_page_path(path))
    return written


def _write_table(table: pd.DataFrame, path: Path, fmt: str, raw: bool,
                 stats: StatsTable | None) -> None:
    if fmt in STATS_FORMATS and stats is not None:
        write_stats(stats, path)
    elif fmt == "parquet":
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
        atomic_write_bytes(path, buffer.getvalue())
    else:
        atomic_write_text(path, csv_text(table, raw))


def repeat_path(path: Path, name: str) -> Path:
    """Where a repeat group's table goes beside a CSV, Parquet, SPSS or Stata dataset:
    `NAME.REPEAT.csv` (a repeat named like a companion file, `codebook`, gets `~2`)."""
    stem = path.name.removesuffix(path.suffix) if path.suffix else path.name
    own = f"{name}~2" if name in COMPANIONS else name
    return path.with_name(f"{stem}.{own}{path.suffix}")


def repeat_sheets(repeats: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The repeat tables by sheet name: the repeat's name, cut to 31 characters, with what a
    sheet name cannot hold replaced, made unique (among them and the workbook's own sheets)."""
    sheets: dict[str, pd.DataFrame] = {}
    for name, table in repeats.items():
        base = re.sub(r"[\[\]:*?/\\]", "_", name)[:SHEET_CHARS]
        title, n = base, 1
        while title.lower() in {s.lower() for s in (*sheets, *COMPANIONS)}:
            n += 1
            title = f"{base[:SHEET_CHARS - len(str(n)) - 1]}~{n}"
        sheets[title] = table
    return sheets


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
