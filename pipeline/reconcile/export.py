"""Writing the unified dataset, its codebook and its per-question summary.

CSV and Parquet get the codebook and summary as CSV files beside the dataset
(`NAME.codebook.csv`, `NAME.summary.csv`); an XLSX workbook holds all three as sheets. Every file
is written whole or not at all (temporary file, fsync, rename).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import pandas as pd

from pipeline.errors import UsageError
from pipeline.fsutil import atomic_write_bytes, atomic_write_text

ExportFormat = Literal["csv", "parquet", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # one header row besides


def companion_paths(path: Path) -> tuple[Path, Path]:
    """Where the codebook and the summary of a CSV or Parquet dataset go."""
    stem = path.name.removesuffix(path.suffix) if path.suffix else path.name
    return path.with_name(f"{stem}.codebook.csv"), path.with_name(f"{stem}.summary.csv")


def write_dataset(frame: pd.DataFrame, path: Path, fmt: str = "csv",
                  codebook: pd.DataFrame | None = None,
                  summary: pd.DataFrame | None = None) -> list[Path]:
    """The dataset (every column text, as exported online), plus codebook and summary if given;
    returns the paths written."""
    if fmt not in FORMATS:
        raise UsageError(f"export format {fmt!r}: papertwin writes {', '.join(FORMATS)}")
    written = [path]
    if fmt == "xlsx":
        if len(frame) > XLSX_MAX_ROWS:
            raise UsageError(f"{len(frame)} responses do not fit in one XLSX sheet "
                             f"({XLSX_MAX_ROWS} rows at most): export CSV or Parquet")
        atomic_write_bytes(path, _xlsx_bytes({"dataset": frame, "codebook": codebook,
                                              "summary": summary}))
        return written
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
        atomic_write_bytes(path, buffer.getvalue())
    else:
        atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    codebook_path, summary_path = companion_paths(path)
    for table, target in ((codebook, codebook_path), (summary, summary_path)):
        if table is not None:
            atomic_write_text(target, table.to_csv(index=False, lineterminator="\n"))
            written.append(target)
    return written


def _xlsx_bytes(sheets: dict[str, pd.DataFrame | None]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in sheets.items():
            if table is not None:
                table.to_excel(writer, sheet_name=name, index=False)
                writer.sheets[name].freeze_panes = "A2"
    return buffer.getvalue()
