"""The reader on a small seeded corpus of varied marks: wrong only where it says it is unsure."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.batch import join_chunks, plan_batch, read_chunk, store_reading
from pipeline.forms.build import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.workspace import Workspace

from .conftest import PROJECT

ODD_TOOLS = {"thick marker", "soft pencil"}
ODD_MARKS = {"spill", "dot", "circle"}


def test_no_silent_errors_on_varied_marks(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws")
    built = build_forms(PROJECT / "form_templates" / "town_centre.yaml", 10, tmp_path / "form",
                        workspace)
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=3,
                             damage=Damage.mild(), varied=True)
    plan = plan_batch([batch.pdf_path], workspace)
    reading = store_reading(join_chunks([read_chunk(c, plan.layouts, ReaderSettings())
                                         for c in plan.chunks]), plan.batch_id, workspace)
    truth = {r["serial"]: r for r in json.loads(batch.truth_path.read_text())["responses"]}
    marks = {r["marking"]["mark"] for r in truth.values()} | {
        r["marking"]["tool"] for r in truth.values()}
    assert {"cross", "tick", "circle", "thick marker", "soft pencil"} <= marks  # varied
    questionnaire = built.layout.questionnaire
    choices = flagged = 0
    for page in reading.pages:
        assert page.outcome == "identified"
        for answer in page.answers:
            question = questionnaire.question(answer.question)
            if not question.is_choice:
                continue
            choices += 1
            expected = truth_value(truth[page.serial]["answers"][answer.question])
            marking = truth[page.serial]["marking"]
            if answer.needs_review:
                flagged += 1
                assert answer.reason  # every flag says why
                # Plain pen ticks and crosses are read without help; only odd marks are flagged.
                assert marking["tool"] in ODD_TOOLS or marking["mark"] in ODD_MARKS, (
                    page.serial, answer.question, answer.reason, marking)
            else:
                assert set(answer.value.split()) == set(expected.split()), (
                    page.serial, answer.question, truth[page.serial]["marking"])
    assert choices == 10 * 12
    assert 0 < flagged / choices <= 0.15
