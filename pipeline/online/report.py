"""What `papertwin reconcile` says about an import: the convention used and everything reported.

Nothing in an online export is recoded or dropped silently, so everything the import noticed is
printed here for the person who runs it to act on. Every name and value from the online export
(its columns, its cells, its path) is shown escaped (pipeline/terminal.py), so none can forge a
line of the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from pipeline.online.read import OnlineImport
from pipeline.terminal import shown

MAX_ROW_LINES = 20  # per kind of per-row report; the rest are counted


def print_import_report(imported: OnlineImport, path: Path, out: TextIO) -> None:
    """Everything an import noticed, written to `out` (the terminal), `path` naming the online
    export as the person gave it."""
    how = "detected" if imported.detected else "as named by --convention"
    print(f"imported {len(imported.rows)} online responses from {shown(str(path))}", file=out)
    print(f"  convention: {imported.convention} ({imported.convention_title}), {how}"
          + (f"; mapping file {shown(imported.mapping)}" if imported.mapping else ""), file=out)
    meta = [f"response id column '{shown(imported.id_column)}'"]
    meta.append(f"submitted '{shown(imported.submitted_column)}'" if imported.submitted_column
                else "no submission time column")
    meta.append(f"respondent reference '{shown(imported.reference_column)}'"
                if imported.reference_column else "no respondent reference column")
    print(f"  {'; '.join(meta)}", file=out)
    print(f"  question columns matched: {len(imported.matched)}", file=out)
    if imported.missing:
        print(f"  questions with no column in the export (paper only): "
              f"{_listed(imported.missing)}", file=out)
    kept = {column for _, column in imported.online_only}
    if kept:
        print("  questions asked online only, answers kept: " + ", ".join(
            f"{shown(name)} ({shown(column)})" for name, column in imported.online_only),
            file=out)
    dropped = [c for c in imported.extra if c not in kept]
    if dropped:
        print(f"  columns that are no question (online only, not imported): "
              f"{_listed(dropped)}", file=out)
    for difference in imported.choice_differences:
        print(f"  choices differ between channels: {shown(difference.question)} has "
              f"{_listed(difference.values)} online, which the paper form lacks "
              f"({difference.rows} responses; kept as exported)", file=out)
    for bad in imported.invalid[:MAX_ROW_LINES]:
        print(f"  row {bad.row}: '{shown(bad.value)}' is not a choice of {shown(bad.question)} "
              "(kept as is)", file=out)
    _more(len(imported.invalid), "values not among the choices", out)
    for split in imported.disagreements[:MAX_ROW_LINES]:
        print(f"  row {split.row}: {shown(split.question)} says '{shown(split.combined)}' but its "
              f"0/1 columns say '{shown(split.split)}' (the single column is kept)", file=out)
    _more(len(imported.disagreements), "disagreements", out)
    for warning in imported.warnings:
        print(f"  note: {shown(warning)}", file=out)


def _listed(names: Iterable[str]) -> str:
    return ", ".join(shown(name) for name in names)


def _more(count: int, what: str, out: TextIO) -> None:
    if count > MAX_ROW_LINES:
        print(f"  ... and {count - MAX_ROW_LINES} more {what}", file=out)
