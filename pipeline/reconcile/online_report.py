"""What `papertwin reconcile` says about an import: the convention used and everything reported.

Nothing in an export is recoded or dropped silently, so everything the import noticed is printed
here for the person who runs it to act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from pipeline.reconcile.online import OnlineImport

MAX_ROW_LINES = 20  # per kind of per-row report; the rest are counted


def print_import_report(imported: OnlineImport, path: Path, out: TextIO) -> None:
    how = "detected" if imported.detected else "as named by --convention"
    print(f"imported {len(imported.rows)} online responses from {path}", file=out)
    print(f"  convention: {imported.convention} ({imported.convention_title}), {how}"
          + (f"; mapping file {imported.mapping}" if imported.mapping else ""), file=out)
    meta = [f"response id column '{imported.id_column}'"]
    meta.append(f"submitted '{imported.submitted_column}'" if imported.submitted_column
                else "no submission time column")
    meta.append(f"respondent reference '{imported.reference_column}'"
                if imported.reference_column else "no respondent reference column")
    print(f"  {'; '.join(meta)}", file=out)
    print(f"  question columns matched: {len(imported.matched)}", file=out)
    if imported.missing:
        print(f"  questions with no column in the export (paper only): "
              f"{', '.join(imported.missing)}", file=out)
    kept = {column for _, column in imported.online_only}
    if kept:
        print("  questions asked online only, answers kept: " + ", ".join(
            f"{name} ({column})" for name, column in imported.online_only), file=out)
    dropped = [c for c in imported.extra if c not in kept]
    if dropped:
        print(f"  columns that are no question (online only, not imported): "
              f"{', '.join(dropped)}", file=out)
    for difference in imported.choice_differences:
        print(f"  choices differ between channels: {difference.question} has "
              f"{', '.join(difference.values)} online, which the paper form lacks "
              f"({difference.rows} responses; kept as exported)", file=out)
    for bad in imported.invalid[:MAX_ROW_LINES]:
        print(f"  row {bad.row}: '{bad.value}' is not a choice of {bad.question} (kept as is)",
              file=out)
    _more(len(imported.invalid), "values not among the choices", out)
    for split in imported.disagreements[:MAX_ROW_LINES]:
        print(f"  row {split.row}: {split.question} says '{split.combined}' but its 0/1 columns "
              f"say '{split.split}' (the single column is kept)", file=out)
    _more(len(imported.disagreements), "disagreements", out)
    for warning in imported.warnings:
        print(f"  note: {warning}", file=out)


def _more(count: int, what: str, out: TextIO) -> None:
    if count > MAX_ROW_LINES:
        print(f"  ... and {count - MAX_ROW_LINES} more {what}", file=out)
