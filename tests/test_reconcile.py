"""Paper and online answers in one table, in the contract's columns and codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import InputFileError
from pipeline.forms.build import build_forms
from pipeline.forms.registry import registered_layouts
from pipeline.read.results import Answer, PageRef, PageResult
from pipeline.reconcile.dataset import build_dataset, pick_questionnaire
from pipeline.reconcile.steps import export_dataset, import_online_export
from pipeline.scan.intake import ArchivedFile
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import TEMPLATE

ONLINE = """\
response_id,submitted_at,visit_frequency,services,opening_hours,relocation,comments,device
r-2,2026-12-02T10:00:00Z,weekly,books study,evenings,support,Open later please,phone
r-1,2026-12-01T09:00:00Z,daily,,sundays,,,laptop
"""


def paper_page(key: str, serial: str, page: int, index: int,
               answers: tuple[Answer, ...]) -> PageResult:
    return PageResult(PageRef("a" * 64, "batch-07.pdf", index), "identified",
                      form_key=key, serial=serial, page=page, answers=answers)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(TEMPLATE, 2, tmp_path / "form", workspace)
    return workspace


def test_paper_and_online_rows_in_one_table(workspace: Workspace, tmp_path: Path) -> None:
    (key,) = registered_layouts(workspace)
    archived = ArchivedFile("a" * 64, "batch-07.pdf", tmp_path / "batch-07.pdf",
                            tmp_path / "archive.pdf", "pdf", 1000)
    results = [
        paper_page(key, "000002", 1, 1, (
            Answer("visit_frequency", "monthly", 0.97),
            Answer("services", "books events", 1.0),
            Answer("opening_hours", "", 0.9, True, "ambiguous: 2 marked (evenings sundays)"),
        )),
        paper_page(key, "000002", 2, 2, (
            Answer("relocation", "oppose", 1.0),
            Answer("comments", "Keep it where it is", 0.88),
        )),
        paper_page(key, "000001", 2, 3, (
            Answer("relocation", "", 1.0),
            Answer("comments", "", 1.0),
        )),
    ]
    store = Store.open(workspace.store_url)
    store.record_file(store.begin_batch(["batch-07.pdf"]), archived, results,
                      workspace.crops_dir)
    store.close()
    online = tmp_path / "online.csv"
    online.write_text(ONLINE)

    imported = import_online_export(online, workspace)
    assert imported.id_column == "response_id"
    assert imported.extra == ("device",)
    assert [(b.row, b.question, b.value) for b in imported.invalid] == [
        (2, "visit_frequency", "daily")
    ]

    layouts = registered_layouts(workspace)
    store = Store.open(workspace.store_url)
    frame = build_dataset(store, layouts, pick_questionnaire(layouts, None))
    store.close()
    assert frame["submitted_at"].iloc[:2].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    frame = frame.drop(columns="submitted_at")
    expected = pd.DataFrame([
        [f"paper-{key}-000001", "paper", "000001", "", "", "", "", "", "", "1.00",
         "batch-07.pdf p3"],
        [f"paper-{key}-000002", "paper", "000002", "monthly", "books events", "", "oppose",
         "Keep it where it is", "opening_hours", "0.88", "batch-07.pdf p1; batch-07.pdf p2"],
        ["r-1", "online", "", "daily", "", "sundays", "", "", "", "", "online.csv row 2"],
        ["r-2", "online", "", "weekly", "books study", "evenings", "support", "Open later please",
         "", "", "online.csv row 1"],
    ], columns=["response_id", "channel", "respondent_ref", "visit_frequency", "services",
                "opening_hours", "relocation", "comments", "_needs_review", "_confidence",
                "_source"])
    pd.testing.assert_frame_equal(frame, expected)

    # Importing the same export again replaces, it does not add.
    import_online_export(online, workspace)
    summary = export_dataset(workspace, tmp_path / "dataset.csv")
    assert (summary.rows, summary.by_channel, summary.needs_review) == (
        4, {"paper": 2, "online": 2}, 1)


def test_online_export_without_ids_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    online = tmp_path / "online.csv"
    online.write_text("visit_frequency,services\nweekly,books\n")
    with pytest.raises(InputFileError, match="has no response id column"):
        import_online_export(online, workspace)


def test_online_export_of_another_survey_is_refused(workspace: Workspace,
                                                    tmp_path: Path) -> None:
    online = tmp_path / "online.csv"
    online.write_text("response_id,age,postcode\n1,34,MB1 1AA\n")
    with pytest.raises(InputFileError, match="none of the questionnaire's question columns"):
        import_online_export(online, workspace)
