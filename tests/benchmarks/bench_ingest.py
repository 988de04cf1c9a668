"""Benchmark: ingest a sheet-feeder batch of tick-box pages through the Prefect flow.

Generates N filled copies of a two-page tick-box questionnaire with the simulator, writes them as
one 300 dpi bitonal (CCITT G4) PDF, as a sheet feeder does, ingests it with the ingest_batch flow
and prints pages per second and the share of time in each stage. Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_ingest --copies 125
With --dask-workers N the pages are read on a local Dask cluster of N single-threaded worker
processes, through the same DaskTaskRunner that `papertwin ingest --dask-address` uses.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pikepdf

TEMPLATE = """
id: bench_ticks
version: "1"
title: "Tick-box benchmark"
items:
"""
QUESTION = """
  - name: q{n}
    type: select_one
    label: "Question {n}: how strongly do you agree?"
    choices:
      - {{name: a, label: "Strongly agree"}}
      - {{name: b, label: "Agree"}}
      - {{name: c, label: "Disagree"}}
      - {{name: d, label: "Strongly disagree"}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=125)
    parser.add_argument("--keep", type=Path, default=None,
                        help="folder to keep the generated batch in, and reuse it from")
    parser.add_argument("--dask-workers", type=int, default=0, metavar="N",
                        help="read on a local Dask cluster of N worker processes (default: "
                             "the flow's local threads)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papertwin-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        kept = args.keep
        os.environ.setdefault("PREFECT_HOME", str(root / "prefect"))
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from flows.ingest import run_ingest
        from pipeline.publish import build_forms
        from pipeline.registry import register_layout
        from pipeline.scan.pdf_images import iter_pdf_pages
        from pipeline.simulate import scanner
        from pipeline.simulate.damage import Damage
        from pipeline.simulate.returns import simulate_returns
        from pipeline.workspace import Workspace

        template = root / "bench.yaml"
        template.write_text(TEMPLATE + "".join(QUESTION.format(n=n) for n in range(1, 13)))
        workspace = Workspace.resolve(root / "ws")
        built = build_forms(template, args.copies, root / "form", workspace)
        warm_workspace = Workspace.resolve(root / "warm")
        register_layout(warm_workspace, built.layout)
        feeder = (kept or root) / f"feeder-batch-{args.copies}.pdf"
        if not feeder.exists():
            started = time.perf_counter()
            batch = simulate_returns(root / "form", root / "sim", seed=5, dpi=300,
                                     damage=Damage(max_rotation_deg=1.5, noise_sigma=3))
            pages = [image for _, image in iter_pdf_pages(batch.pdf_path, "sim", 300)]
            scanner.write_g4_pdf(pages, feeder, 300)
            print(f"generated {len(pages)} pages in {time.perf_counter() - started:.0f} s: "
                  f"{feeder.stat().st_size / 1e6:.1f} MB")

        warm = time.perf_counter()
        address = stack.enter_context(dask_cluster(args.dask_workers))  # workers inherit env
        # Starts Prefect's server (and the workers' imports): set aside.
        run_ingest([template], warm_workspace, dask_address=address)
        print(f"Prefect start-up (excluded below): {time.perf_counter() - warm:.1f} s")
        single = root / "one-page.pdf"
        with pikepdf.open(feeder) as pdf, pikepdf.new() as one:
            one.pages.append(pdf.pages[0])
            one.save(single)
        warm = time.perf_counter()
        run_ingest([single], warm_workspace, dask_address=address)
        print(f"a first flow run of one page: {time.perf_counter() - warm:.2f} s")
        started = time.perf_counter()
        summary = run_ingest([feeder], workspace, dask_address=address)
        elapsed = time.perf_counter() - started
    count = len(summary.pages)
    print(f"pages ingested:   {count} ({summary.outcomes})")
    print(f"wall time:        {elapsed:.1f} s")
    print(f"pages per second: {count / elapsed:.1f}")
    total = sum(seconds for _, seconds in summary.seconds)
    print(f"stage time summed over workers: {total:.1f} s")
    for stage, seconds in sorted(summary.seconds, key=lambda item: -item[1]):
        print(f"  {stage:9s} {seconds:6.1f} s  {seconds / total:5.1%}  "
              f"{seconds / count * 1000:5.1f} ms/page")


@contextmanager
def dask_cluster(workers: int) -> Iterator[str | None]:
    """The address of a local cluster of that many worker processes, or None for none."""
    if workers <= 0:
        yield None
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster:
        yield cluster.scheduler_address


if __name__ == "__main__":
    main()
