"""Paper and online answers in one table, in the contract's columns and codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.dataset.build import build_dataset, combine_channels
from pipeline.dataset.export import ExportOptions, export_dataset
from pipeline.errors import InputFileError
from pipeline.model import Choice, Label, Question, Questionnaire
from pipeline.online import import_online_export
from pipeline.publish import build_forms
from pipeline.records import Answer, ArchivedFile, OnlineRow, PageRef, PageResult, PaperAnswer
from pipeline.registry import pick_questionnaire, registered_layouts
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


def store_file(workspace: Workspace, name: str, results: list[PageResult]) -> None:
    """Record pages as the ingest flow would, from a scan file of that name."""
    folder = workspace.root
    archived = ArchivedFile(name.encode().hex().ljust(64, "0")[:64], name, folder / name,
                            folder / "archive.pdf", "pdf", 1000)
    store = Store.open(workspace.store_url)
    try:
        store.record_file(store.begin_batch([name]), archived, results, workspace.crops_dir)
    finally:
        store.close()


@pytest.fixture
def workspace(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Two copies of the shipped form, the store on each backend (SQLite, PostgreSQL)."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(TEMPLATE, 2, tmp_path / "form", workspace)
    return workspace


def test_paper_and_online_rows_in_one_table(workspace: Workspace, tmp_path: Path) -> None:
    (key,) = registered_layouts(workspace)
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
    store_file(workspace, "batch-07.pdf", results)
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
        # Page 1 of copy 000001 never arrived: its questions wait, never read as blank.
        [f"paper-{key}-000001", "paper", "000001", "", "", "", "", "",
         "visit_frequency services opening_hours", "1.00", "batch-07.pdf p3", "1"],
        [f"paper-{key}-000002", "paper", "000002", "monthly", "books events", "", "oppose",
         "Keep it where it is", "opening_hours", "0.88", "batch-07.pdf p1; batch-07.pdf p2",
         ""],
        ["r-1", "online", "", "daily", "", "sundays", "", "", "", "", "online.csv row 2", ""],
        ["r-2", "online", "", "weekly", "books study", "evenings", "support", "Open later please",
         "", "", "online.csv row 1", ""],
    ], columns=["response_id", "channel", "respondent_ref", "visit_frequency", "services",
                "opening_hours", "relocation", "comments", "_needs_review", "_confidence",
                "_source", "_pages_missing"])
    pd.testing.assert_frame_equal(frame, expected)

    # Importing the same export again replaces, it does not add.
    import_online_export(online, workspace)
    summary = export_dataset(workspace, tmp_path / "dataset.csv")
    assert (summary.rows, summary.by_channel, summary.needs_review) == (
        4, {"paper": 2, "online": 2}, 2)


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


DUAL_ONLINE = """\
response_id,submitted_at,respondent_ref,visit_frequency,services,opening_hours,relocation,comments
w-1,2026-11-01T09:00:00Z,000002,weekly,books,sundays,support,Online first
w-2,2099-01-01T09:00:00Z,,never,,,neutral,
"""


@pytest.fixture
def two_channels(workspace: Workspace, tmp_path: Path) -> Workspace:
    """Copy 000002 answered on paper; its respondent also answered online as w-1."""
    (key,) = registered_layouts(workspace)
    results = [
        paper_page(key, "000002", 1, 1, (
            Answer("visit_frequency", "monthly", 0.97),
            Answer("services", "books events", 1.0),
            Answer("opening_hours", "evenings", 0.95),
        )),
        paper_page(key, "000002", 2, 2, (
            Answer("relocation", "oppose", 1.0),
            Answer("comments", "On paper", 0.9),
        )),
    ]
    store_file(workspace, "batch-08.pdf", results)
    online = tmp_path / "online.csv"
    online.write_text(DUAL_ONLINE)
    import_online_export(online, workspace)
    return workspace


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_one_person_on_both_channels_is_kept_twice_and_flagged_by_default(
    two_channels: Workspace, tmp_path: Path
) -> None:
    summary = export_dataset(two_channels, tmp_path / "d.csv")
    frame = _read(tmp_path / "d.csv")
    (key,) = registered_layouts(two_channels)
    paper_id = f"paper-{key}-000002"
    assert list(frame["response_id"]) == [paper_id, "w-1", "w-2"]
    assert list(frame["_dual_channel"]) == ["w-1", paper_id, ""]
    assert frame.columns[-1] == "_dual_channel"  # the contract's columns keep their places
    assert [(p.paper_id, p.online_id, p.kept) for p in summary.dual_pairs] == [
        (paper_id, "w-1", "both")]


@pytest.mark.parametrize(("policy", "kept"), [
    ("keep-online", "w-1"), ("keep-paper", "paper"), ("keep-latest", "paper"),
])
def test_a_dual_channel_policy_keeps_one_and_says_which_it_dropped(
    two_channels: Workspace, tmp_path: Path, policy: str, kept: str
) -> None:
    (key,) = registered_layouts(two_channels)
    paper_id = f"paper-{key}-000002"
    kept_id = paper_id if kept == "paper" else kept
    dropped = "w-1" if kept == "paper" else paper_id
    summary = export_dataset(two_channels, tmp_path / "d.csv",
                             options=ExportOptions(dual_policy=policy))
    frame = _read(tmp_path / "d.csv")
    assert sorted(frame["response_id"]) == sorted([kept_id, "w-2"])
    row = frame[frame["response_id"] == kept_id].iloc[0]
    assert row["_dual_channel"] == f"{dropped} (dropped: {policy})"
    # The paper answers were read after the online one was sent: the paper copy is the latest.
    assert summary.dual_pairs[0].kept == kept_id


def test_a_match_file_pairs_responses_without_a_shared_reference(
    two_channels: Workspace, tmp_path: Path
) -> None:
    (key,) = registered_layouts(two_channels)
    paper_id = f"paper-{key}-000002"
    matches = tmp_path / "matches.csv"
    matches.write_text("online_response_id,paper_respondent_ref\nw-2,000002\n")
    # Copy 000002 is w-1's by its respondent_ref already: a second partner is refused.
    with pytest.raises(InputFileError, match=f"paper response.s. {paper_id} matched to more"):
        export_dataset(two_channels, tmp_path / "d.csv",
                       options=ExportOptions(match_file=matches))
    matches.write_text("online_response_id,paper_respondent_ref\nw-9,000002\n")
    with pytest.raises(InputFileError, match="online response 'w-9' is not in the dataset"):
        export_dataset(two_channels, tmp_path / "d.csv",
                       options=ExportOptions(match_file=matches))
    # Without a reference online, only the match file pairs them.
    online = tmp_path / "online.csv"
    online.write_text(DUAL_ONLINE.replace(",000002,", ",,"))
    import_online_export(online, two_channels)
    matches.write_text("online_response_id,paper_respondent_ref\nw-2,000002\n")
    summary = export_dataset(two_channels, tmp_path / "d.csv",
                             options=ExportOptions(match_file=matches))
    assert [(p.paper_id, p.online_id) for p in summary.dual_pairs] == [(paper_id, "w-2")]
    frame = _read(tmp_path / "d.csv")
    assert list(frame["_dual_channel"]) == ["w-2", "", paper_id]


def test_parquet_and_xlsx_hold_the_same_dataset_with_codebook_and_summary(
    two_channels: Workspace, tmp_path: Path
) -> None:
    csv = export_dataset(two_channels, tmp_path / "d.csv")
    assert [p.name for p in csv.written] == ["d.csv", "d.codebook.csv", "d.summary.csv",
                                             "d.codebook.md"]
    expected = _read(tmp_path / "d.csv")
    times = pd.to_datetime(expected["submitted_at"], utc=True, format="ISO8601")
    confidence = pd.to_numeric(expected["_confidence"]).astype("Float64")
    texts = [c for c in expected.columns if c not in ("submitted_at", "_confidence")]
    export_dataset(two_channels, tmp_path / "d.parquet", "parquet")
    parquet = pd.read_parquet(tmp_path / "d.parquet")
    pd.testing.assert_frame_equal(parquet[texts].fillna(""), expected[texts],
                                  check_dtype=False)
    assert parquet["submitted_at"].tolist() == times.tolist()  # typed: docs/dataset.md
    assert parquet["_confidence"].astype("Float64").tolist() == confidence.tolist()
    export_dataset(two_channels, tmp_path / "d.xlsx", "xlsx")
    sheets = pd.read_excel(tmp_path / "d.xlsx", sheet_name=None, dtype=str,
                           keep_default_na=False)
    assert list(sheets) == ["dataset", "codebook", "summary"]
    pd.testing.assert_frame_equal(sheets["dataset"][texts], expected[texts])
    workbook = pd.read_excel(tmp_path / "d.xlsx", sheet_name="dataset")
    assert workbook["submitted_at"].tolist() == times.dt.tz_localize(None).tolist()

    codebook = _read(tmp_path / "d.codebook.csv")
    assert codebook["column"].tolist() == expected.columns.tolist()
    codebook = codebook[codebook["question"] != ""].set_index("question")
    assert list(codebook.index) == ["visit_frequency", "services", "opening_hours",
                                    "relocation", "comments"]
    assert codebook.loc["services", "type"] == "select_multiple"
    assert codebook.loc["visit_frequency", "choices"].startswith(
        "weekly = At least once a week; monthly = At least once a month")
    assert codebook.loc["comments", "channels"] == "paper, online"
    pd.testing.assert_frame_equal(sheets["codebook"], _read(tmp_path / "d.codebook.csv"))

    summary = _read(tmp_path / "d.summary.csv")
    counts = {(r.question, r.channel, r.value): int(r.count) for r in summary.itertuples()}
    assert counts[("visit_frequency", "paper", "monthly")] == 1
    assert counts[("visit_frequency", "online", "weekly")] == 1
    assert counts[("visit_frequency", "online", "never")] == 1
    assert counts[("services", "paper", "books")] == 1
    assert counts[("services", "paper", "events")] == 1
    assert counts[("services", "online", "(blank)")] == 1
    assert counts[("comments", "online", "(answered)")] == 1


def test_multiple_choices_split_into_0_1_columns_when_asked(two_channels: Workspace,
                                                             tmp_path: Path) -> None:
    export_dataset(two_channels, tmp_path / "d.csv",
                   options=ExportOptions(split_multiple=True))
    frame = _read(tmp_path / "d.csv")
    at = list(frame.columns).index("services")
    assert list(frame.columns[at:at + 7]) == ["services", "services/books",
                                              "services/computers", "services/children",
                                              "services/study", "services/events",
                                              "services/delivery"]
    assert list(frame["services/books"]) == ["1", "1", ""]
    assert list(frame["services/events"]) == ["1", "0", ""]


def test_a_question_asked_online_only_keeps_its_column_empty_for_paper() -> None:
    questionnaire = Questionnaire(
        "q", "1", Label.of("Q"), (Question("a", "select_one", Label.of("A"), choices=(
            Choice("x", Label.of("X")), Choice("y", Label.of("Y")))),))
    paper = [PaperAnswer("k", "000001", 1, "a", "x", 0.9, False, "", "scan.pdf p1",
                         "2026-12-01T00:00:00+00:00")]
    online = [OnlineRow("w-1", "2026-12-02T00:00:00Z", "", {"a": "y", "web_only": "yes"},
                        "online.csv row 1")]
    dataset = combine_channels(paper, online, questionnaire)
    frame = dataset.frame
    assert dataset.online_only == ("web_only",)
    assert list(frame.columns) == ["response_id", "channel", "submitted_at", "respondent_ref",
                                   "a", "web_only", "_needs_review", "_confidence", "_source",
                                   "_pages_missing"]
    assert list(frame["web_only"]) == ["", "yes"]
    assert list(frame["a"]) == ["x", "y"]


def test_a_review_decision_is_in_the_next_export(two_channels: Workspace, tmp_path: Path) -> None:
    (key,) = registered_layouts(two_channels)
    store = Store.open(two_channels.store_url)
    try:
        store.record_decision(key, "000002", "opening_hours", "sundays", "reviewer-1",
                              "the tick is in Sundays; the evenings box has a stray line")
        store.record_decision(key, "000002", "comments", "On paper, twice", "reviewer-1")
    finally:
        store.close()
    export_dataset(two_channels, tmp_path / "d.csv")
    row = _read(tmp_path / "d.csv").iloc[0]
    assert (row["opening_hours"], row["comments"]) == ("sundays", "On paper, twice")
    assert row["visit_frequency"] == "monthly"  # undecided answers stay as read


def test_the_dataset_is_pseudonymous_unless_contacts_are_asked_for(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    recipients = tmp_path / "recipients.csv"
    recipients.write_text("name,address\nAnn Jones,\"1 High Street\nMillbrook MB1 1AA\"\n"
                          "Bob Smith,\"2 Mill Lane\nMillbrook MB2 2BB\"\n")
    built = build_forms(TEMPLATE, None, tmp_path / "form", workspace,
                        recipients_file=recipients)
    key = built.layout.form_key
    store_file(workspace, "batch-09.pdf", [
        paper_page(key, "000002", 1, 1, (Answer("visit_frequency", "weekly", 1.0),))])

    export_dataset(workspace, tmp_path / "plain.csv")
    plain = (tmp_path / "plain.csv").read_text()
    assert "Bob Smith" not in plain and "Mill Lane" not in plain
    assert not any(c.startswith("contact_") for c in _read(tmp_path / "plain.csv").columns)

    export_dataset(workspace, tmp_path / "named.csv",
                   options=ExportOptions(with_contacts=True))
    named = _read(tmp_path / "named.csv")
    assert list(named.columns[-2:]) == ["contact_name", "contact_address"]
    assert named.iloc[0]["respondent_ref"] == "000002"
    assert named.iloc[0]["contact_name"] == "Bob Smith"
    assert named.iloc[0]["contact_address"] == "2 Mill Lane\nMillbrook MB2 2BB"
