"""Benchmark: how right the reader is, on a seeded corpus of varied, badly scanned returns.

Simulates N copies of the 4-page town centre consultation with every kind of pen and mark
(ballpoint, gel, marker, pencil, in black and in blue; ticks, crosses, spilling ticks, dots, rings
around the box; cancelled boxes), scans them with mild damage (a share in colour), reads them and
compares with the ground truth. Prints the page identification rate, the silent error rate of
choice questions (given and wrong, or blank while marked, without a flag), the review rate over
all questions and over choice questions, why answers were flagged, the character error rates of
free text and of character cells, and the reading time per page.
Not a test: run it by hand (about 170 copies make 2,000 choice questions),
    .venv/bin/python -m tests.benchmarks.bench_accuracy --copies 170
`--keep DIR` writes the corpus to DIR, or reuses the one already there, so that the reader can be
measured again on the same pages without simulating them again.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.dataset.export import export_dataset
from pipeline.forms.build import LAYOUT_NAME
from pipeline.forms.manifest import read_layout
from pipeline.ingest.batch import join_chunks, plan_batch, read_chunk, store_reading
from pipeline.model import Questionnaire
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.records import PageResult
from pipeline.registry import register_layout
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import TRUTH_NAME, simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.textdistance import edit_distance
from pipeline.workspace import Workspace

TEMPLATE = Path(__file__).resolve().parents[2] / "form_templates" / "town_centre.yaml"
MISREADS_SHOWN = 12


@dataclass
class Figures:
    """What one run measured; tests/test_accuracy.py asserts on the same figures."""

    pages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    questions: int = 0
    flagged: int = 0
    choices: Counter[str] = field(default_factory=Counter)  # right, flagged, silent error
    choices_flagged: int = 0
    flags: Counter[str] = field(default_factory=Counter)  # by category
    flags_by_kind: Counter[str] = field(default_factory=Counter)  # "kind: category"
    silent: list[str] = field(default_factory=list)
    text_chars: int = 0
    text_errors: int = 0
    cell_chars: int = 0
    cell_errors: int = 0
    read_seconds: float = 0.0
    uncategorised: list[str] = field(default_factory=list)  # flagged answers without a category
    cell_misreads: list[str] = field(default_factory=list)  # cells read other than written

    @property
    def silent_errors(self) -> int:
        return self.choices["silent error"]

    @property
    def choice_count(self) -> int:
        return sum(self.choices.values())

    @property
    def review_rate(self) -> float:
        return self.flagged / max(1, self.questions)

    @property
    def text_cer(self) -> float:
        return self.text_errors / max(1, self.text_chars)

    @property
    def cell_cer(self) -> float:
        return self.cell_errors / max(1, self.cell_chars)


def make_corpus(root: Path, copies: int, seed: int, colour: float) -> tuple[Path, Path]:
    """The built form's folder and the simulated batch PDF, reused when root already holds them."""
    form_dir, scans = root / "form", root / "scans"
    if not (scans / TRUTH_NAME).exists():
        build_forms(TEMPLATE, copies, form_dir, Workspace.resolve(root / "build-ws"))
        simulate_returns(form_dir, scans, seed=seed, damage=Damage.mild(), varied=True,
                         colour=colour)
    return form_dir, scans


def measure(form_dir: Path, scans: Path, settings: ReaderSettings, work: Path) -> Figures:
    """Ingest the corpus into a fresh workspace, export the dataset and compare with truth."""
    return measure_pages(form_dir, scans, settings, work)[0]


def measure_pages(form_dir: Path, scans: Path, settings: ReaderSettings,
                  work: Path) -> tuple[Figures, tuple[PageResult, ...]]:
    """What measure() measures, and the pages as read, for their reasons (bench_degraded.py)."""
    workspace = Workspace.resolve(work / "ws")
    layout = read_layout(form_dir / LAYOUT_NAME)
    register_layout(workspace, layout)
    plan = plan_batch([scans / "returns.pdf"], workspace)
    started = time.perf_counter()
    readings = [read_chunk(chunk, plan.layouts, settings) for chunk in plan.chunks]
    joined = join_chunks(readings, plan.layouts, settings)
    seconds = time.perf_counter() - started
    stored = store_reading(joined, plan.batch_id, workspace)
    export_dataset(workspace, work / "dataset.csv")
    frame = pd.read_csv(work / "dataset.csv", dtype=str, keep_default_na=False)
    truth = json.loads((scans / TRUTH_NAME).read_text())["responses"]
    figures = compare(layout.questionnaire, stored.pages, frame, truth)
    figures.read_seconds = seconds
    return figures, stored.pages


def compare(questionnaire: Questionnaire, pages: tuple[PageResult, ...], frame: pd.DataFrame,
            truth: list[dict[str, Any]]) -> Figures:
    figures = Figures(pages=len(pages), outcomes=Counter(p.outcome for p in pages))
    flags: dict[tuple[str, str], str] = {}
    for page in pages:
        for answer in page.answers:
            if answer.needs_review:
                flags.setdefault((page.serial, answer.question), answer.flag)
                if not answer.flag:
                    figures.uncategorised.append(f"{page.serial} {answer.question}: "
                                                 f"{answer.reason}")
    rows = {row["respondent_ref"]: row for _, row in frame.iterrows()}
    for response in truth:
        row = rows.get(response["serial"])
        if row is None:
            continue
        review = set(row["_needs_review"].split())
        for question in questionnaire.questions:
            expected = truth_value(response["answers"][question.name])
            got = row[question.name]
            figures.questions += 1
            kind = ("choice" if question.is_choice else "cells" if question.uses_cells
                    else "specify" if question.other_of else "text")
            if question.name in review:
                figures.flagged += 1
                category = flags.get((response["serial"], question.name), "")
                figures.flags[category] += 1
                figures.flags_by_kind[f"{kind}: {category}"] += 1
            if question.is_choice:
                same = set(got.split()) == set(expected.split())
                outcome = "flagged" if question.name in review else ("right" if same else
                                                                    "silent error")
                figures.choices[outcome] += 1
                if outcome == "silent error":
                    marking = response.get("marking", {})
                    figures.silent.append(f"{response['serial']} {question.name}: read {got!r}, "
                                          f"written {expected!r} ({marking})")
            elif question.uses_cells:
                figures.cell_chars += len(expected)
                figures.cell_errors += edit_distance(got, expected)
                if got != expected:
                    flag = "flagged" if question.name in review else "not flagged"
                    figures.cell_misreads.append(f"{response['serial']} {question.name}: read "
                                                 f"{got!r}, written {expected!r} ({flag})")
            else:
                figures.text_chars += len(expected)
                figures.text_errors += edit_distance(" ".join(got.split()), expected)
    return figures


def report(figures: Figures) -> None:
    pages, choices = figures.pages, figures.choice_count
    silent = figures.silent_errors
    print(f"page identification:   {figures.outcomes['identified'] / max(1, pages):.1%} "
          f"({dict(figures.outcomes)})")
    print(f"choice questions:      {choices}: {dict(figures.choices)}")
    print(f"silent error rate:     {silent / max(1, choices):.3%} per choice question "
          f"({silent} of {choices})")
    for line in figures.silent:
        print(f"  silent error: {line}")
    print(f"review rate:           {figures.review_rate:.2%} of {figures.questions} questions "
          f"({figures.flagged}); {figures.choices['flagged'] / max(1, choices):.2%} of choice "
          "questions")
    print("reasons:               " + ", ".join(f"{k or '(none)'} {v}"
                                                for k, v in figures.flags.most_common()))
    for kind, count in sorted(figures.flags_by_kind.items()):
        print(f"  {kind}: {count}")
    for line in figures.uncategorised:
        print(f"  flagged without a category: {line}")
    print(f"free text CER:         {figures.text_cer:.2%} of {figures.text_chars} chars")
    print(f"character cells CER:   {figures.cell_cer:.2%} of {figures.cell_chars} chars")
    for line in figures.cell_misreads[:MISREADS_SHOWN]:
        print(f"  misread: {line}")
    print(f"reading time:          {1000 * figures.read_seconds / max(1, pages):.0f} ms per page "
          "(one worker, decoding included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=170)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--colour", type=float, default=0.25,
                        help="share of copies scanned in colour (pale blue pens among them)")
    parser.add_argument("--keep", type=Path, help="write the corpus here, or reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="papertwin-accuracy-") as tmp:
        root = args.keep or Path(tmp)
        form_dir, scans = make_corpus(root, args.copies, args.seed, args.colour)
        truth = json.loads((scans / TRUTH_NAME).read_text())
        figures = measure(form_dir, scans, ReaderSettings(), Path(tmp))
    in_colour = sum(r["marking"].get("scan") == "colour" for r in truth["responses"])
    print(f"copies {len(truth['responses'])} ({in_colour} scanned in colour), "
          f"pages {figures.pages}, seed {truth['seed']}")
    report(figures)


if __name__ == "__main__":
    main()
