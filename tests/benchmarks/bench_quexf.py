"""Benchmark: how papertwin reads real people's returns of a form printed by queXF.

Imports the queXF banding file, reads the three filled scans and the blank one of the queXF
sample set (../shared/real_scans/quexf, outside this repository), and compares the dataset with
the answers decided by looking at them (tests/data/quexf/expected.json). Prints choices right,
sent to a person and silently wrong; text and digits right, flagged and silently wrong; the
character error rates; and the reading time per page. Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_quexf
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from pipeline.dataset.export import export_dataset
from pipeline.ingest.batch import join_chunks, plan_batch, read_chunk, store_reading
from pipeline.publish import import_banding
from pipeline.read.page import ReaderSettings
from pipeline.textdistance import edit_distance
from pipeline.workspace import Workspace

PROJECT = Path(__file__).resolve().parents[2]
EXPECTED = PROJECT / "tests" / "data" / "quexf" / "expected.json"
SCANS = PROJECT.parent / "shared" / "real_scans" / "quexf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scans", type=Path, default=SCANS, help="folder of the queXF sample")
    args = parser.parse_args()
    truth: dict[str, dict[str, str]] = json.loads(EXPECTED.read_text())["responses"]
    with tempfile.TemporaryDirectory(prefix="papertwin-quexf-") as tmp:
        root = Path(tmp)
        workspace = Workspace.resolve(root / "ws").ensure()
        layout = import_banding(args.scans / "test_original.xml", root / "form", workspace).layout
        plan = plan_batch([args.scans / f"{name}.pdf" for name in truth], workspace)
        started = time.perf_counter()
        pages = 0
        for archived in plan.to_read:
            chunks = [c for c in plan.chunks if c.archived == archived]
            reading = join_chunks([read_chunk(c, plan.layouts, ReaderSettings())
                                   for c in chunks], plan.layouts, ReaderSettings())
            pages += len(reading.pages)
            store_reading(reading, plan.batch_id, workspace)
        seconds = time.perf_counter() - started
        export_dataset(workspace, root / "dataset.csv")
        frame = pd.read_csv(root / "dataset.csv", dtype=str, keep_default_na=False)
    frame["file"] = frame["_source"].str.split(" p").str[0].str.removesuffix(".pdf")
    rows = frame.set_index("file")
    counts: dict[str, Counter[str]] = {"choice": Counter(), "letters": Counter(),
                                       "digits": Counter()}
    chars: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for name, expected in truth.items():
        row = rows.loc[name]
        review = set(row["_needs_review"].split())
        for question in layout.questionnaire.questions:
            kind = ("choice" if question.is_choice
                    else "digits" if question.type == "integer" else "letters")
            want, got = expected[question.name], row[question.name]
            if question.name in review:
                counts[kind]["sent to a person"] += 1
            else:
                counts[kind]["right" if got == want else "silently wrong"] += 1
            if kind != "choice":
                chars[kind] += len(want)
                errors[kind] += edit_distance(got, want)
    print(f"files {len(truth)}, pages {pages}, responses {len(frame)}; "
          f"reading {1000 * seconds / max(1, pages):.0f} ms per page, one worker")
    for kind, counted in counts.items():
        total = sum(counted.values())
        parts = ", ".join(f"{counted[k]} {k}" for k in ("right", "sent to a person",
                                                         "silently wrong"))
        print(f"{kind} answers: {total}: {parts}")
    for kind in ("letters", "digits"):
        print(f"{kind} CER {errors[kind] / max(1, chars[kind]):.1%} over {chars[kind]} "
              "characters (flagged answers included)")


if __name__ == "__main__":
    main()
