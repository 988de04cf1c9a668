"""The accuracy benchmark's thresholds, asserted on a small seeded corpus of varied marks.

The corpus is the benchmark's (tests/benchmarks/bench_accuracy.py): the 4-page town centre
consultation filled in with every kind of pen and mark, a quarter of it scanned in colour, read
through the batch steps and compared with the simulator's ground truth.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.read.page import ReaderSettings
from pipeline.records import FLAG_CATEGORIES
from pipeline.registry import registered_layouts
from pipeline.simulate.returns import TRUTH_NAME
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .benchmarks.bench_accuracy import make_corpus, measure

# 24 copies: at 12, one respondent's two or three unsure marks moved the rate by a point; once
# the simulator followed routes and wrote answers that fit their questions, this seed's 12 copies
# came to 3.2 % (7 of 216 questions) in clear print and 2.3 % in the old sizes, while 60 copies at
# the benchmark's seed gave 1.4 % and 1.9 %.
COPIES = 24
SEED = 3
# The benchmark's target. The corpus is seeded, so the figure is the same on every run (1.9 %
# when written); flags cluster by respondent, so another seed may land between 1 and 2 %.
REVIEW_BOUND = 0.02


def test_the_benchmark_thresholds_hold_on_a_small_corpus(tmp_path: Path) -> None:
    form_dir, scans = make_corpus(tmp_path / "corpus", COPIES, SEED, colour=0.25)
    truth = json.loads((scans / TRUTH_NAME).read_text())["responses"]
    marking = {(r["marking"]["tool"], r["marking"]["mark"], r["marking"]["scan"]) for r in truth}
    assert {m[2] for m in marking} == {"colour", "grey"}  # varied, as the benchmark's corpus
    assert len({m[0] for m in marking}) >= 4 and len({m[1] for m in marking}) >= 3

    figures = measure(form_dir, scans, ReaderSettings(), tmp_path / "read")

    assert figures.outcomes == {"identified": 4 * COPIES}
    assert figures.choice_count == 12 * COPIES
    assert figures.silent_errors == 0, figures.silent
    assert figures.review_rate <= REVIEW_BOUND, figures.flags_by_kind
    assert figures.cell_chars > 0 and figures.cell_cer <= 0.02
    assert figures.text_chars > 0 and figures.text_cer <= 0.05
    assert not figures.uncategorised  # every flagged answer says why, in a category
    assert set(figures.flags) <= set(FLAG_CATEGORIES)


def test_an_audit_share_sends_that_share_of_confident_answers_to_a_person(
        tmp_path: Path) -> None:
    form_dir, scans = make_corpus(tmp_path / "corpus", 4, SEED, colour=0.0)
    plain = measure(form_dir, scans, ReaderSettings(), tmp_path / "plain")
    audited = measure(form_dir, scans, ReaderSettings(audit_share=0.25), tmp_path / "audit")
    again = measure(form_dir, scans, ReaderSettings(audit_share=0.25), tmp_path / "again")
    assert audited.flags == again.flags  # the same answers are picked on every run
    assert audited.silent_errors == 0
    picked = audited.flags["audit"]
    confident = plain.questions - plain.flagged
    assert 0.1 * confident < picked < 0.4 * confident
    assert audited.flagged == plain.flagged + picked
    # The store keeps each flag's category at the start of its reason.
    workspace = Workspace.resolve(tmp_path / "audit" / "ws")
    store = Store.open(workspace.store_url)
    try:
        stored = store.paper_answers(registered_layouts(workspace))
    finally:
        store.close()
    flags = [a.flag for a in stored if a.needs_review]
    assert flags.count("audit") >= picked and set(flags) <= set(FLAG_CATEGORIES)
    assert all(a.flag == "" for a in stored if not a.needs_review)
