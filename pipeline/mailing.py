"""A mailing whose recipients asked for different variants: one print run per variant.

Each run is printed, its serials issued and its layout registered by the same per-form path as
any form (given as `build_one`), into DIR/<variant>/; beside them, runs.csv tells the print room
what each run is, and contacts.csv lists every recipient with the variant printed for them, in
the order of the runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.forms.build import CONTACTS_NAME, BuiltForm
from pipeline.forms.variants import VariantRun
from pipeline.formulas import neutral_csv
from pipeline.fsutil import atomic_write_text

RUNS_NAME = "runs.csv"
RUNS_COLUMNS = ("variant", "languages", "format", "form_key", "copies", "first_serial",
                "last_serial", "file")


@dataclass(frozen=True)
class PrintedRun:
    run: VariantRun
    built: BuiltForm


@dataclass(frozen=True)
class BuiltMailing:
    out_dir: Path
    runs: tuple[PrintedRun, ...]  # in print order
    runs_path: Path
    contacts_path: Path
    warnings: tuple[str, ...] = ()


def print_mailing(runs: tuple[VariantRun, ...], out_dir: Path,
                  build_one: Callable[[VariantRun, Path], BuiltForm]) -> BuiltMailing:
    """Every run printed into out_dir/<variant>/ by `build_one`, then runs.csv and the whole
    mailing's contacts.csv in out_dir."""
    printed = tuple(PrintedRun(run, build_one(run, out_dir / run.variant.name)) for run in runs)
    runs_path = out_dir / RUNS_NAME
    atomic_write_text(runs_path, neutral_csv([RUNS_COLUMNS,
                                              *(_run_row(p, out_dir) for p in printed)]))
    contacts_path = out_dir / CONTACTS_NAME
    atomic_write_text(contacts_path, _contacts(printed))
    warnings = dict.fromkeys(w for p in printed for w in p.built.warnings)
    return BuiltMailing(out_dir, printed, runs_path, contacts_path, tuple(warnings))


def _run_row(printed: PrintedRun, out_dir: Path) -> list[str]:
    variant, layout = printed.run.variant, printed.built.layout
    files = " ".join(path.relative_to(out_dir).as_posix() for path in printed.built.pdf_paths)
    return [variant.name, ",".join(variant.languages), variant.format, layout.form_key,
            str(len(layout.copies)), layout.copies[0].serial, layout.copies[-1].serial, files]


def _contacts(printed: tuple[PrintedRun, ...]) -> str:
    """serial, variant, then every column of the recipient list, run after run."""
    columns = list(dict.fromkeys(c for p in printed for r in p.run.recipients for c in r.row))
    rows: list[list[str]] = [["serial", "variant", *columns]]
    for p in printed:
        for copy, recipient in zip(p.built.layout.copies, p.run.recipients, strict=True):
            rows.append([copy.serial, p.run.variant.name,
                         *(recipient.row.get(c, "") for c in columns)])
    return neutral_csv(rows)

