"""Benchmark: print an addressed mailing of the 4-page town centre consultation.

Prints pages per second and the peak memory of the process. Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_forms --copies 10000
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from pathlib import Path

from pipeline.publish import build_forms
from pipeline.workspace import Workspace

TEMPLATE = Path(__file__).resolve().parents[2] / "form_templates" / "town_centre.yaml"


def write_recipients(path: Path, count: int) -> None:
    streets = ("Mill Lane", "Station Road", "High Street", "Church Walk", "Riverside")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "address1", "town", "postcode"])
        for n in range(count):
            writer.writerow([f"Resident {n + 1}", f"{n % 200 + 1} {streets[n % 5]}", "Millbrook",
                             f"MB{n % 9 + 1} {n % 9}AB"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papertwin-bench-") as tmp:
        root = Path(tmp)
        recipients = root / "recipients.csv"
        write_recipients(recipients, args.copies)
        start = time.perf_counter()
        built = build_forms(TEMPLATE, None, root / "out", Workspace.resolve(root / "ws"),
                            recipients_file=recipients)
        elapsed = time.perf_counter() - start
        questionnaire_pages = len(built.layout.pages) * args.copies
        total_pages = questionnaire_pages + args.copies  # one cover letter per copy
        size = sum(path.stat().st_size for path in built.pdf_paths)
        parts = len(built.pdf_paths)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"copies:            {args.copies}")
    print(f"pages:             {total_pages} ({questionnaire_pages} questionnaire pages "
          f"and {args.copies} cover letters)")
    print(f"time:              {elapsed:.1f} s")
    print(f"pages per second:  {total_pages / elapsed:.0f}")
    print(f"PDF size:          {size / 1e6:.1f} MB in {parts} file(s) "
          f"({size / total_pages / 1e3:.1f} kB a page)")
    print(f"peak memory (RSS): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
