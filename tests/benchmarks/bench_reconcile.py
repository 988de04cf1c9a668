"""Benchmark: reconcile a large online export with many paper returns and export Parquet.

Builds a 40-question form (30 single choices, 5 multiple choices, 5 free texts), stores N paper
responses as the reader would (every page's answers, through the store's own writer), writes an
online export of M rows in the questionnaire's columns, then times, in a fresh process, what an
analyst runs: `reconcile` (import the online export) and `export --format parquet`, and prints
the wall time and the peak memory of that process. Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_reconcile --paper 20000 --online 100000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

QUESTIONS = 40
SINGLE, MULTIPLE = 30, 5  # the rest are free text
CHOICES = ("a", "b", "c", "d", "e")
FILE_PAGES = 2000  # pages stored per scan file (one transaction each)


def template() -> str:
    lines = ['id: bench_reconcile', 'version: "1"', 'title: "Reconciliation benchmark"',
             "items:"]
    for n in range(1, QUESTIONS + 1):
        kind = "select_one" if n <= SINGLE else "select_multiple" if n <= SINGLE + MULTIPLE \
            else "text"
        lines += [f"  - name: q{n}", f"    type: {kind}", f'    label: "Question {n}"']
        if kind == "text":
            lines.append("    lines: 2")
        else:
            lines.append("    choices:")
            lines += [f'      - {{name: {c}, label: "Choice {c}"}}' for c in CHOICES]
    return "\n".join(lines) + "\n"


def answer(question: int, rng: np.random.Generator) -> str:
    if question <= SINGLE:
        return "" if rng.random() < 0.05 else str(CHOICES[int(rng.integers(5))])
    if question <= SINGLE + MULTIPLE:
        return " ".join(c for c in CHOICES if rng.random() < 0.3)
    return "" if rng.random() < 0.5 else "Keep the library open on Sundays please"


def prepare(root: Path, paper: int, online: int, seed: int, flagged: float = 0.0) -> None:
    """The store, as the reader would leave it; `flagged` is the share of answers it sends to
    a person (the review benchmark's queue)."""
    from pipeline.publish import build_forms
    from pipeline.records import Answer, ArchivedFile, PageRef, PageResult
    from pipeline.store.store import Store
    from pipeline.workspace import Workspace

    rng = np.random.default_rng(seed)
    (root / "bench.yaml").write_text(template())
    workspace = Workspace.resolve(root / "ws")
    layout = build_forms(root / "bench.yaml", 1, root / "form", workspace).layout
    on_page = [list(dict.fromkeys(f.question for f in page.fields)) for page in layout.pages]
    store = Store.open(workspace.store_url)
    try:
        batch = store.begin_batch(["benchmark"])
        results: list[PageResult] = []
        file_number = 0

        def flush() -> None:
            nonlocal results, file_number
            file_number += 1
            name = f"returns-{file_number:03d}.pdf"
            sha = f"{file_number:064x}"
            archived = ArchivedFile(sha, name, root / name, root / name, "pdf", 1)
            store.record_file(batch, archived, results, workspace.crops_dir)
            results = []

        for copy in range(1, paper + 1):
            serial = f"{copy:06d}"
            for page, questions in enumerate(on_page, start=1):
                answers = tuple(Answer(q, answer(int(q[1:]), rng), 0.97,
                                       needs_review=bool(rng.random() < flagged),
                                       reason="ambiguous: benchmark")
                                for q in questions)
                results.append(PageResult(PageRef(f"{file_number + 1:064x}", "x",
                                                  len(results) + 1), "identified",
                                          form_key=layout.form_key, serial=serial, page=page,
                                          answers=answers))
            if len(results) >= FILE_PAGES:
                flush()
        if results:
            flush()
    finally:
        store.close()
    columns = {f"q{n}": [answer(n, rng) for _ in range(online)] for n in range(1, QUESTIONS + 1)}
    frame = pd.DataFrame({
        "response_id": [f"web-{i:07d}" for i in range(online)],
        "submitted_at": [f"2026-12-{1 + i % 28:02d}T10:{i % 60:02d}:00Z" for i in range(online)],
        "respondent_ref": "",
        **columns,
    })
    frame.to_csv(root / "online.csv", index=False)
    print(f"prepared: {paper} paper responses ({paper * len(on_page)} pages), {online} online "
          f"rows, {QUESTIONS} questions")


def measure(root: Path) -> None:
    from pipeline.dataset.export import export_dataset
    from pipeline.online import import_online_export
    from pipeline.workspace import Workspace

    workspace = Workspace.resolve(root / "ws")
    started = time.perf_counter()
    imported = import_online_export(root / "online.csv", workspace)
    between = time.perf_counter()
    summary = export_dataset(workspace, root / "dataset.parquet", "parquet")
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = (root / "dataset.parquet").stat().st_size / 1e6
    print(f"imported {len(imported.rows)} online rows in {between - started:.1f} s; exported "
          f"{summary.rows} responses ({summary.by_channel}) to Parquet ({size_mb:.1f} MB) in "
          f"{done - between:.1f} s")
    print(f"reconcile + export: {done - started:.1f} s; peak memory {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paper", type=int, default=20000)
    parser.add_argument("--online", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--keep", type=Path, default=None,
                        help="prepare into this folder, or reuse what an earlier run left there")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory(prefix="papertwin-reconcile-") as tmp:
        root = args.keep or Path(tmp)
        if not (root / "online.csv").is_file():
            root.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            prepare(root, args.paper, args.online, args.seed)
            print(f"  (preparing took {time.perf_counter() - started:.0f} s, not counted)")
        # A fresh process, so its peak memory is the reconciliation's own.
        subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_reconcile",
                        "--measure", str(root)], check=True)


if __name__ == "__main__":
    main()
