"""Benchmark: export a national consultation's dataset to each format, SPSS and Stata above all.

Prepares the store as bench_reconcile does (N paper responses of a 40-question form, stored as
the reader would, and an online export of M rows, imported), then times, each in a fresh process,
`export --format F` for every format asked, and prints the wall time, the peak memory of that
process and the file's size. Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_export --paper 20000 --online 100000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_reconcile import prepare


def measure(root: Path, fmt: str) -> None:
    from pipeline.dataset.export import export_dataset
    from pipeline.workspace import Workspace

    workspace = Workspace.resolve(root / "ws")
    out = root / f"dataset.{fmt}"
    started = time.perf_counter()
    summary = export_dataset(workspace, out, fmt)
    took = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{fmt:8} {summary.rows} responses ({summary.by_channel}) in {took:.1f} s; peak "
          f"memory {peak_mb:.0f} MB; {out.stat().st_size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paper", type=int, default=20000)
    parser.add_argument("--online", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--formats", nargs="+", default=["sav", "dta", "parquet", "csv"])
    parser.add_argument("--keep", type=Path, default=None,
                        help="prepare into this folder, or reuse what an earlier run left there")
    parser.add_argument("--measure", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        measure(Path(args.measure[0]), args.measure[1])
        return
    with tempfile.TemporaryDirectory(prefix="papertwin-export-") as tmp:
        root = args.keep or Path(tmp)
        if not (root / "imported").is_file():
            root.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            prepare(root, args.paper, args.online, args.seed)
            from pipeline.online import import_online_export
            from pipeline.workspace import Workspace

            import_online_export(root / "online.csv", Workspace.resolve(root / "ws"))
            (root / "imported").touch()
            print(f"  (preparing took {time.perf_counter() - started:.0f} s, not counted)")
        for fmt in args.formats:  # a fresh process each, so its peak memory is its own
            subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_export",
                            "--measure", str(root), fmt], check=True)


if __name__ == "__main__":
    main()
