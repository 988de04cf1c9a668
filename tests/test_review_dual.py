"""A person decides which of one respondent's paper and online responses stands."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.dataset.dualchannel import DualPair, apply_policy
from pipeline.dataset.export import ExportOptions, export_dataset
from pipeline.errors import UsageError, WorkspaceError
from pipeline.online import import_online_export
from pipeline.publish import build_forms
from pipeline.records import Answer
from pipeline.registry import registered_layouts
from pipeline.review import dual
from pipeline.review.dual import (
    dual_decision_log,
    dual_decisions,
    dual_matches,
    pending_matches,
    record_dual_decision,
)
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import TEMPLATE
from .test_reconcile import paper_page, store_file

ONLINE = """\
response_id,submitted_at,respondent_ref,visit_frequency,services,opening_hours,relocation,comments
w-1,2026-11-01T09:00:00Z,000002,weekly,books,sundays,support,Online first
w-2,2026-11-03T12:30:00Z,,never,,,neutral,
"""


@pytest.fixture
def both_channels(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Copies 000001 and 000002 on paper; 000002's respondent also answered online as w-1."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(TEMPLATE, 2, tmp_path / "form", workspace)
    (key,) = registered_layouts(workspace)
    store_file(workspace, "batch-09.pdf", [
        paper_page(key, "000001", 1, 1, (
            Answer("visit_frequency", "never", 1.0),
            Answer("services", "", 1.0),
            Answer("opening_hours", "mornings", 0.96),
        )),
        paper_page(key, "000002", 1, 2, (
            Answer("visit_frequency", "monthly", 0.97),
            Answer("services", "books events", 1.0),
            Answer("opening_hours", "evenings", 0.95),
        )),
        paper_page(key, "000002", 2, 3, (
            Answer("relocation", "oppose", 1.0),
            Answer("comments", "On paper", 0.9),
        )),
    ])
    online = tmp_path / "online.csv"
    online.write_text(ONLINE)
    import_online_export(online, workspace)
    return workspace


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _store(workspace: Workspace) -> Store:
    return Store.open(workspace.store_url)


def test_a_persons_decision_overrides_the_policy_in_the_next_export(
    both_channels: Workspace, tmp_path: Path
) -> None:
    (key,) = registered_layouts(both_channels)
    paper_id = f"paper-{key}-000002"

    (match,) = dual_matches(both_channels)
    assert (match.paper_response_id, match.online_response_id, match.respondent_ref) == (
        paper_id, "w-1", "000002")
    assert match.online_submitted_at == "2026-11-01T09:00:00Z"
    assert match.paper_submitted_at.startswith("20")  # when the copy's last page was read
    assert match.answers == (
        ("visit_frequency", "monthly", "weekly"),
        ("services", "books events", "books"),
        ("opening_hours", "evenings", "sundays"),
        ("relocation", "oppose", "support"),
        ("comments", "On paper", "Online first"),
    )
    assert match.decision is None
    assert pending_matches(both_channels) == [match]

    store = _store(both_channels)
    try:
        online = record_dual_decision(store, paper_id, "w-1", "online", "ana",
                                      why="the online answers are the later thoughts")
    finally:
        store.close()
    assert (online.kept, online.reviewer, online.why) == (
        "online", "ana", "the online answers are the later thoughts")
    (match,) = dual_matches(both_channels)
    assert match.decision == online
    assert pending_matches(both_channels) == []

    # The policy asks for paper; the person's decision for this pair wins.
    summary = export_dataset(both_channels, tmp_path / "d.csv",
                             options=ExportOptions(dual_policy="keep-paper"))
    frame = _read(tmp_path / "d.csv")
    assert list(frame["response_id"]) == [f"paper-{key}-000001", "w-1", "w-2"]
    assert list(frame["_dual_channel"]) == ["", f"{paper_id} (dropped: decided by a person)", ""]
    assert frame.loc[1, "comments"] == "Online first"
    assert summary.dual_pairs == (DualPair(paper_id, "w-1", "w-1", decided=True),)
    assert summary.by_channel == {"paper": 1, "online": 2}

    # A second thought: they are different people. Both stay, neither is marked.
    store = _store(both_channels)
    try:
        different = record_dual_decision(store, paper_id, "w-1", "different", "bo")
        log = dual_decision_log(store)
        latest = dual_decisions(store)
    finally:
        store.close()
    assert log == [online, different]
    assert online.id < different.id
    assert latest == {(paper_id, "w-1"): different}
    summary = export_dataset(both_channels, tmp_path / "d2.csv")
    frame = _read(tmp_path / "d2.csv")
    assert list(frame["response_id"]) == [f"paper-{key}-000001", paper_id, "w-1", "w-2"]
    assert "_dual_channel" not in frame.columns  # nobody left on both channels
    assert summary.dual_pairs == ()
    assert frame.loc[1, "comments"] == "On paper"


def test_a_match_file_pair_is_offered_too(both_channels: Workspace, tmp_path: Path) -> None:
    (key,) = registered_layouts(both_channels)
    matches = tmp_path / "matches.csv"
    matches.write_text("online_response_id,paper_respondent_ref\nw-2,000001\n")
    found = dual_matches(both_channels, matches=matches)
    assert [(m.paper_response_id, m.online_response_id, m.respondent_ref) for m in found] == [
        (f"paper-{key}-000001", "w-2", "000001"), (f"paper-{key}-000002", "w-1", "000002")]
    assert found[0].answers[:3] == (("visit_frequency", "never", "never"),
                                    ("services", "", ""), ("opening_hours", "mornings", ""))
    # The questionnaire named as the export names it, the pairs given as the file holds them.
    questionnaire_id = registered_layouts(both_channels)[key].questionnaire.id
    assert dual_matches(both_channels, questionnaire_id, [("w-2", "000001")]) == found


def test_the_pairs_from_a_few_rows_are_those_of_the_whole_dataset(
        both_channels: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the rows that can pair are built; built from the whole dataset, the same pairs."""
    few = dual_matches(both_channels, matches=[("w-2", "000001")])
    monkeypatch.setattr(dual, "MAX_CANDIDATES", 0)
    assert dual_matches(both_channels, matches=[("w-2", "000001")]) == few
    assert len(few) == 2


def test_a_decision_must_say_what_stays_and_who_decided(both_channels: Workspace) -> None:
    (key,) = registered_layouts(both_channels)
    paper_id = f"paper-{key}-000002"
    store = _store(both_channels)
    try:
        with pytest.raises(UsageError, match="'neither': it is one of both, paper, online, "
                                             "different"):
            record_dual_decision(store, paper_id, "w-1", "neither", "ana")
        with pytest.raises(WorkspaceError, match="needs the reviewer's name"):
            record_dual_decision(store, paper_id, "w-1", "paper", "  ")
        assert dual_decision_log(store) == []
        assert dual_decisions(store) == {}
    finally:
        store.close()


FRAME = pd.DataFrame({
    "response_id": ["paper-f-000002", "w-1"],
    "channel": ["paper", "online"],
    "submitted_at": ["2026-11-05T10:00:00+00:00", "2026-11-01T09:00:00Z"],
    "respondent_ref": ["000002", "000002"],
})


@pytest.mark.parametrize(("kept", "ids", "marks", "pairs"), [
    ("both", ["paper-f-000002", "w-1"], ["w-1", "paper-f-000002"],
     (DualPair("paper-f-000002", "w-1", "both", decided=True),)),
    ("paper", ["paper-f-000002"], ["w-1 (dropped: decided by a person)"],
     (DualPair("paper-f-000002", "w-1", "paper-f-000002", decided=True),)),
    ("online", ["w-1"], ["paper-f-000002 (dropped: decided by a person)"],
     (DualPair("paper-f-000002", "w-1", "w-1", decided=True),)),
    ("different", ["paper-f-000002", "w-1"], None, ()),
])
def test_apply_policy_follows_each_kind_of_decision(
    kept: str, ids: list[str], marks: list[str] | None, pairs: tuple[DualPair, ...]
) -> None:
    dual = apply_policy(FRAME, "keep-latest", decisions={("paper-f-000002", "w-1"): kept})
    assert list(dual.frame["response_id"]) == ids
    if marks is None:
        assert "_dual_channel" not in dual.frame.columns
    else:
        assert list(dual.frame["_dual_channel"]) == marks
    assert dual.pairs == pairs
    # A decision about a pair the dataset does not hold changes nothing.
    undecided = apply_policy(FRAME, "keep-latest", decisions={("paper-f-000001", "w-1"): kept})
    assert undecided.pairs == (DualPair("paper-f-000002", "w-1", "paper-f-000002"),)


def test_apply_policy_refuses_an_unknown_decision() -> None:
    with pytest.raises(UsageError, match="dual-channel decision 'maybe'"):
        apply_policy(FRAME, decisions={("paper-f-000002", "w-1"): "maybe"})

