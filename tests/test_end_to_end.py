"""build -> simulate -> ingest (Prefect flow) -> export, checked against the simulator's truth."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from flows.ingest import ingest_batch
from pipeline.dataset.export import export_dataset
from pipeline.forms.build import BuiltForm
from pipeline.registry import register_layout
from pipeline.simulate.returns import SimulatedBatch
from pipeline.simulate.truth import truth_value
from pipeline.store.store import Store
from pipeline.textdistance import edit_distance
from pipeline.workspace import Workspace


def test_paper_answers_equal_the_ground_truth(
    prefect_harness: None, built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
    tmp_path: Path,
) -> None:
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    register_layout(workspace, form.layout)
    truth = json.loads(simulated.truth_path.read_text())

    summary = ingest_batch([simulated.pdf_path], workspace)
    assert summary.outcomes == {"identified": 12}
    assert summary.set_aside == ()

    # Every tick box, not just every answer: marked exactly where the simulator put a mark.
    store = Store.open(workspace.store_url)
    with store.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.serial, b.question, b.value, b.state FROM boxes b "
            "JOIN pages p ON p.id = b.page_id ORDER BY p.serial, b.question, b.value"
        )).all()
    store.close()
    answers = {r["serial"]: r["answers"] for r in truth["responses"]}
    assert len(rows) == 6 * (4 + 6 + 4 + 5)
    for serial, question, value, state in rows:
        expected = answers[serial][question]
        chosen = value == expected or (isinstance(expected, list) and value in expected)
        assert state == ("marked" if chosen else "empty"), (serial, question, value)

    out = tmp_path / "dataset.csv"
    exported = export_dataset(workspace, out)
    assert exported.rows == 6 and exported.by_channel == {"paper": 6}
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
        "response_id", "channel", "submitted_at", "respondent_ref", "visit_frequency", "services",
        "opening_hours", "relocation", "comments", "_needs_review", "_confidence", "_source",
        "_pages_missing", "_off_route",
    ]
    assert frame["respondent_ref"].tolist() == [f"{n:06d}" for n in range(1, 7)]
    chars = errors = 0
    for response, (_, row) in zip(truth["responses"], frame.iterrows(), strict=True):
        for question in ("visit_frequency", "opening_hours", "relocation"):
            assert row[question] == truth_value(response["answers"][question]), question
        assert set(row["services"].split()) == set(response["answers"]["services"])
        expected_text = truth_value(response["answers"]["comments"])
        chars += len(expected_text)
        errors += edit_distance(row["comments"], expected_text)
        assert row["_needs_review"] == ""
        assert row["_source"] == (
            f"returns.pdf p{2 * frame.index.get_loc(_) + 1}; "
            f"returns.pdf p{2 * frame.index.get_loc(_) + 2}"
        )
    assert chars > 200, "the simulator should have written some comments"
    assert errors / chars < 0.10

    again = ingest_batch([simulated.pdf_path], workspace)
    assert (again.files_read, again.files_already_read, again.pages) == (0, 1, ())
    export_dataset(workspace, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_text() == out.read_text()


def test_edit_distance() -> None:
    assert edit_distance("library", "library") == 0
    assert edit_distance("libary", "library") == 1
    assert edit_distance("", "abc") == 3
    assert edit_distance("kitten", "sitting") == 3
