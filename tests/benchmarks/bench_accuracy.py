"""Benchmark: how right the reader is, on a seeded corpus of varied, badly scanned returns.

Simulates N copies of the 4-page town centre consultation with every kind of pen and mark
(ballpoint, gel, marker, pencil; ticks, crosses, spilling ticks, dots, rings around the box;
cancelled boxes), scans them with mild damage, reads them and compares with the ground truth.
Prints the page identification rate, the silent error rate of choice questions (given and wrong,
or blank while marked, without a flag), the review rate, and the character error rates.
Not a test: run it by hand,
    .venv/bin/python -m tests.benchmarks.bench_accuracy --copies 75
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

from pipeline.batch import join_chunks, plan_batch, read_chunk, store_reading
from pipeline.forms.build import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.reconcile.steps import export_dataset
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.textdistance import edit_distance

TEMPLATE = Path(__file__).resolve().parents[2] / "form_templates" / "town_centre.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=75)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papertwin-accuracy-") as tmp:
        root = Path(tmp)
        from pipeline.workspace import Workspace

        workspace = Workspace.resolve(root / "ws")
        built = build_forms(TEMPLATE, args.copies, root / "form", workspace)
        batch = simulate_returns(root / "form", root / "scans", seed=args.seed,
                                 damage=Damage.mild(), varied=True)
        plan = plan_batch([batch.pdf_path], workspace)
        readings = [read_chunk(chunk, plan.layouts, ReaderSettings()) for chunk in plan.chunks]
        stored = store_reading(join_chunks(readings), plan.batch_id, workspace)
        export_dataset(workspace, root / "dataset.csv")
        frame = pd.read_csv(root / "dataset.csv", dtype=str, keep_default_na=False)
        truth = json.loads(batch.truth_path.read_text())["responses"]
    questionnaire = built.layout.questionnaire
    outcomes = Counter(page.outcome for page in stored.pages)
    rows = {row["respondent_ref"]: row for _, row in frame.iterrows()}
    choice = Counter[str]()
    silent_by_question = Counter[str]()
    flagged = questions = 0
    text_chars = text_errors = cell_chars = cell_errors = 0
    for response in truth:
        row = rows.get(response["serial"])
        if row is None:
            continue
        review = set(row["_needs_review"].split())
        for question in questionnaire.questions:
            expected = truth_value(response["answers"][question.name])
            got = row[question.name]
            questions += 1
            flagged += question.name in review
            if question.is_choice:
                same = set(got.split()) == set(expected.split())
                outcome = "flagged" if question.name in review else ("right" if same else
                                                                    "silent error")
                choice[outcome] += 1
                if outcome == "silent error":
                    marking = response.get("marking", {})
                    silent_by_question[f"{marking.get('tool')} {marking.get('mark')}"] += 1
            elif question.uses_cells:
                cell_chars += len(expected)
                cell_errors += edit_distance(got, expected)
            else:
                text_chars += len(expected)
                text_errors += edit_distance(" ".join(got.split()), expected)
    pages = sum(outcomes.values())
    total_choices = sum(choice.values())
    print(f"copies {args.copies}, pages {pages}, seed {args.seed}")
    print(f"page identification:   {outcomes['identified'] / pages:.1%} ({dict(outcomes)})")
    print(f"choice questions:      {total_choices}: {dict(choice)}")
    print(f"silent error rate:     {choice['silent error'] / total_choices:.3%} "
          f"(1 in {total_choices / max(1, choice['silent error']):.0f})")
    if silent_by_question:
        print(f"  silent errors by pen and mark: {dict(silent_by_question)}")
    print(f"review rate:           {flagged / questions:.1%} of {questions} questions")
    print(f"free text CER:         {text_errors / max(1, text_chars):.1%} of {text_chars} chars")
    print(f"character cells CER:   {cell_errors / max(1, cell_chars):.1%} of {cell_chars} chars")


if __name__ == "__main__":
    main()
