"""Paper answers to questions the respondent's own route skips: named in `_off_route`, emptied
in the dataset with `--route blank`, and decided by the online form's own `relevant` logic."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import present
from pipeline.cli.parser import build_parser, export_options
from pipeline.dataset.build import dataset_columns, split_multiple
from pipeline.dataset.export import ExportOptions, ExportSummary, export_dataset
from pipeline.dataset.offroute import asked_table, mark_off_route
from pipeline.errors import PapertwinError, UsageError
from pipeline.forms.route import asked_questions
from pipeline.forms.sources import load_questionnaire
from pipeline.model import Questionnaire
from pipeline.publish import build_forms
from pipeline.records import Answer
from pipeline.registry import registered_layouts
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import PROJECT
from .test_reconcile import paper_page, store_file
from .test_xlsform_corpus import FORMS

# Those who do not use the library skip its block; services_more follows services (a chain:
# skipped with it); heard_where asks those who had heard; a person's job asks adults only.
FORM = """\
| survey |
| | type | name | label | relevant | repeat_count |
| | select_one yn | uses | Do you use the library? | | |
| | select_multiple svc | services | Which services do you use? | ${uses} = 'yes' | |
| | text | why | Why do you use it? | ${uses} = 'yes' | |
| | text | services_more | Tell us more about those services | ${services} != '' | |
| | select_one yn | heard | Had you heard of the plan? | | |
| | text | heard_where | Where did you hear of it? | ${heard} = 'yes' | |
| | begin repeat | member | Person | | 2 |
| | integer | age | Age in years | | |
| | text | job | Your job | ${age} >= 16 | |
| | end repeat | member | | | |
| | text | comments | Anything else? | | |

| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| | svc | books | Books |
| | svc | events | Events |
"""
QUESTIONS = ["uses", "services", "why", "services_more", "heard", "heard_where",
             "member[1]/age", "member[1]/job", "member[2]/age", "member[2]/job", "comments"]


@pytest.fixture
def form(tmp_path: Path) -> Path:
    path = tmp_path / "library_route.md"
    path.write_text(FORM)
    return path


@pytest.fixture
def questionnaire(form: Path) -> Questionnaire:
    return load_questionnaire(form).questionnaire


def dataset_frame(questionnaire: Questionnaire,
                  rows: list[tuple[str, str, dict[str, str]]]) -> pd.DataFrame:
    """Rows as the dataset holds them: (response id, channel, answers, `_needs_review` under
    that key), every other cell empty."""
    columns = dataset_columns(questionnaire)
    records = []
    for response_id, channel, answers in rows:
        record = dict.fromkeys(columns, "")
        record.update(response_id=response_id, channel=channel, _source=f"{response_id} p1",
                      **answers)
        records.append(record)
    return pd.DataFrame(records, columns=columns, dtype=str)


ADULT_AND_CHILD = {"member[1]/age": "10", "member[1]/job": "student", "member[2]/age": "40",
                   "member[2]/job": "nurse"}
ROWS = [
    # answered the whole library block after saying no, and a child's job
    ("p-1", "paper", {"uses": "no", "services": "books", "services_more": "most days",
                      "heard": "yes", "heard_where": "radio", "comments": "thanks",
                      **ADULT_AND_CHILD}),
    # followed the route
    ("p-2", "paper", {"uses": "yes", "services": "books events", "why": "to read",
                      "heard": "no"}),
    # the routing answer waits for a person: what it skips is not known, never flagged
    ("p-3", "paper", {"uses": "", "services": "events", "_needs_review": "uses"}),
    # online rows are asked by the form itself: untouched whatever they hold
    ("w-1", "online", {"uses": "no", "services": "books", "heard": "no",
                       "heard_where": "radio"}),
    # a paper return keyed by phone is a paper channel too
    ("k-1", "phone", {"uses": "no", "why": "habit", "heard": "no"}),
]
OFF = ["services services_more member[1]/job", "", "", "", "why"]


def test_asked_is_the_online_forms_decision_for_each_row(
        questionnaire: Questionnaire) -> None:
    table = asked_table(dataset_frame(questionnaire, ROWS), questionnaire)
    assert list(table.columns) == QUESTIONS
    assert table.iloc[0].to_dict() == {
        "uses": True, "services": False, "why": False, "services_more": False, "heard": True,
        "heard_where": True, "member[1]/age": True, "member[1]/job": False,
        "member[2]/age": True, "member[2]/job": True, "comments": True}
    # p-3's routing answer is not known: the block and what follows it cannot be decided
    assert table.iloc[2].to_dict() == {
        "uses": True, "services": None, "why": None, "services_more": None, "heard": True,
        "heard_where": False, "member[1]/age": True, "member[1]/job": False,
        "member[2]/age": True, "member[2]/job": False, "comments": True}


def test_flag_names_the_off_route_answers_and_changes_nothing_else(
        questionnaire: Questionnaire) -> None:
    frame = dataset_frame(questionnaire, ROWS)
    flagged = mark_off_route(frame, questionnaire, "flag")
    expected = frame.copy()
    expected.insert(list(frame.columns).index("_pages_missing") + 1, "_off_route", OFF)
    pd.testing.assert_frame_equal(flagged, expected)
    assert list(flagged.columns[-2:]) == ["_pages_missing", "_off_route"]
    pd.testing.assert_frame_equal(frame, dataset_frame(questionnaire, ROWS))  # not mutated
    # keep: the dataset as it was, without the column
    pd.testing.assert_frame_equal(mark_off_route(frame, questionnaire, "keep"), frame)


def test_blank_empties_exactly_the_off_route_cells(questionnaire: Questionnaire) -> None:
    frame = dataset_frame(questionnaire, ROWS)
    blanked = mark_off_route(frame, questionnaire, "blank")
    expected = frame.copy()
    expected.insert(list(frame.columns).index("_pages_missing") + 1, "_off_route", OFF)
    for row, column in ((0, "services"), (0, "services_more"), (0, "member[1]/job"),
                        (4, "why")):
        expected.loc[row, column] = ""
    pd.testing.assert_frame_equal(blanked, expected)


def test_blank_empties_a_split_multiple_choice_too(questionnaire: Questionnaire) -> None:
    frame = dataset_frame(questionnaire, ROWS)
    split_then_blank = mark_off_route(split_multiple(frame, questionnaire), questionnaire,
                                      "blank")
    blank_then_split = split_multiple(mark_off_route(frame, questionnaire, "blank"),
                                      questionnaire)
    pd.testing.assert_frame_equal(split_then_blank, blank_then_split)
    assert list(blank_then_split["services/books"]) == ["", "1", "0", "1", ""]
    assert list(blank_then_split["services/events"]) == ["", "1", "1", "0", ""]


def test_an_unknown_route_mode_is_a_usage_error(questionnaire: Questionnaire) -> None:
    frame = dataset_frame(questionnaire, ROWS)
    with pytest.raises(UsageError, match="--route 'drop': choose one of keep, flag, blank"):
        mark_off_route(frame, questionnaire, "drop")  # type: ignore[arg-type]
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["export", "--out", "d.csv", "--route", "drop"])
    assert exit_info.value.code == 2
    args = build_parser().parse_args(["export", "--out", "d.csv", "--route", "blank"])
    assert export_options(args).route == "blank"
    assert export_options(build_parser().parse_args(["export", "--out", "d.csv"])).route \
        == "flag"


def test_the_export_report_says_how_many_answered_off_route(
        capsys: pytest.CaptureFixture[str]) -> None:
    summary = ExportSummary(Path("d.csv"), 3, {"paper": 3}, 0, 5, (Path("d.csv"),),
                            off_route=2, route="blank")
    present.exported(summary, with_contacts=False)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  2 paper responses answered questions their own answers skip (--route blank): "
        "named in _off_route, emptied in the dataset, kept in the store")
    present.exported(ExportSummary(Path("d.csv"), 3, {"paper": 3}, 0, 5, (Path("d.csv"),)),
                     with_contacts=False)
    assert "_off_route" not in capsys.readouterr().out


def random_rows(questionnaire: Questionnaire, rng: random.Random,
                count: int) -> list[dict[str, str]]:
    """Answers of every kind, some blank, some waiting for a person; a blank row first."""
    rows = [dict.fromkeys(dataset_columns(questionnaire), "") | {"channel": "paper"}]
    for _ in range(count):
        row = dict.fromkeys(dataset_columns(questionnaire), "") | {"channel": "paper"}
        for question in questionnaire.questions:
            if rng.random() < 0.3:
                continue
            if question.type == "select_multiple":
                row[question.name] = " ".join(c.name for c in question.choices
                                              if rng.random() < 0.3)
            elif question.choices:
                row[question.name] = rng.choice(question.choices).name
            elif question.type in ("integer", "decimal"):
                row[question.name] = str(rng.randint(0, 90))
            else:
                row[question.name] = "text"
        row["_needs_review"] = " ".join(q.name for q in questionnaire.questions
                                        if rng.random() < 0.05)
        rows.append(row)
    return rows


ROUTED = [*FORMS, *sorted((PROJECT / "form_templates").glob("*.yaml")),
          *sorted((PROJECT / "form_templates").glob("*.md"))]


@pytest.mark.parametrize("path", ROUTED, ids=lambda p: p.name)
def test_grouped_rows_are_decided_as_each_row_alone(path: Path) -> None:
    """asked_table decides a whole column at a time, each condition once per combination of
    the answers it reads: the same decisions as the whole form evaluated row by row, answers
    waiting for a person unknown, on every form papertwin loads (the shipped templates, and
    the real XLSForms when they are beside the checkout); a blank paper row has nothing off
    its route."""
    try:
        questionnaire = load_questionnaire(path).questionnaire
    except PapertwinError:
        pytest.skip("a form papertwin refuses (test_xlsform_corpus says why)")
    rows = random_rows(questionnaire, random.Random(path.name), 40)
    table = asked_table(pd.DataFrame(rows, dtype=str), questionnaire)
    for at, row in enumerate(rows):
        alone = asked_questions(questionnaire, row, unknown=row["_needs_review"].split(),
                                answered_anyway=True)
        assert table.iloc[at].to_dict() == {name: alone[name] for name in table.columns}, at
    assert mark_off_route(pd.DataFrame(rows[:1], dtype=str), questionnaire,
                          "blank")["_off_route"].tolist() == [""]


# -- through the store and the export ------------------------------------------------------------

@pytest.fixture
def route_workspace(form: Path, tmp_path: Path, store_url: str,
                    monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Copy 000001 of the form returned with the library block answered after "no", a child's
    job, and where they heard of the plan (they had)."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(form, 2, tmp_path / "form", workspace)
    ((key, layout),) = registered_layouts(workspace).items()
    answers = {"uses": "no", "services": "books", "why": "", "services_more": "most days",
               "heard": "yes", "heard_where": "radio", "member[1]/age": "10",
               "member[1]/job": "student", "member[2]/age": "", "member[2]/job": "",
               "comments": "thanks"}
    pages = [paper_page(key, "000001", page.page, page.page,
                        tuple(Answer(q, answers[q], 0.99)
                              for q in dict.fromkeys(f.question for f in page.fields)))
             for page in layout.pages]
    store_file(workspace, "batch-01.pdf", pages)
    return workspace


def _export(workspace: Workspace, out: Path, route: str = "flag") -> tuple[ExportSummary,
                                                                             pd.DataFrame]:
    # the repeat's copies as columns, to see their cells beside the rest (the default writes
    # a table per repeat group: tests/test_repeat_tables.py)
    summary = export_dataset(workspace, out, options=ExportOptions(route=route, repeats="wide"))
    return summary, pd.read_csv(out, dtype=str, keep_default_na=False)


def test_the_export_flags_or_blanks_and_follows_a_reviewers_correction(
        route_workspace: Workspace, tmp_path: Path) -> None:
    ((key, _),) = registered_layouts(route_workspace).items()
    summary, flagged = _export(route_workspace, tmp_path / "flag.csv")
    assert summary.off_route == 1
    assert list(flagged.columns) == ["response_id", "channel", "submitted_at", "respondent_ref",
                                     *QUESTIONS, "_needs_review", "_confidence", "_source",
                                     "_pages_missing", "_off_route"]
    row = flagged.iloc[0]
    assert row["_off_route"] == "services services_more member[1]/job"
    assert (row["services"], row["services_more"], row["member[1]/job"]) == (
        "books", "most days", "student")

    summary, blanked = _export(route_workspace, tmp_path / "blank.csv", "blank")
    assert (summary.off_route, summary.route) == (1, "blank")
    expected = flagged.drop(columns="submitted_at").copy()
    for column in ("services", "services_more", "member[1]/job"):
        expected.loc[0, column] = ""
    pd.testing.assert_frame_equal(blanked.drop(columns="submitted_at"), expected)
    # the per-question summary counts the answers as read
    counts = pd.read_csv(tmp_path / "blank.summary.csv", dtype=str, keep_default_na=False)
    books = counts[(counts["question"] == "services") & (counts["value"] == "books")]
    assert books["count"].tolist() == ["1"]

    summary, kept = _export(route_workspace, tmp_path / "keep.csv", "keep")
    assert summary.off_route == 0
    pd.testing.assert_frame_equal(kept.drop(columns="submitted_at"),
                                  flagged.drop(columns=["submitted_at", "_off_route"]))

    # A reviewer reads the routing answer as "yes": the library block is on the route now.
    store = Store.open(route_workspace.store_url)
    try:
        store.record_decision(key, "000001", "uses", "yes", "reviewer-1", "the tick is in Yes")
    finally:
        store.close()
    _, corrected = _export(route_workspace, tmp_path / "corrected.csv", "blank")
    row = corrected.iloc[0]
    assert row["_off_route"] == "member[1]/job"
    assert (row["uses"], row["services"], row["services_more"], row["member[1]/job"]) == (
        "yes", "books", "most days", "")

    # And a correction can put another answer off the route: the flag moves there.
    store = Store.open(route_workspace.store_url)
    try:
        store.record_decision(key, "000001", "member[1]/age", "19", "reviewer-1")
        store.record_decision(key, "000001", "heard", "no", "reviewer-1")
    finally:
        store.close()
    _, moved = _export(route_workspace, tmp_path / "moved.csv", "blank")
    row = moved.iloc[0]
    assert row["_off_route"] == "heard_where"
    assert (row["heard"], row["heard_where"], row["member[1]/job"]) == ("no", "", "student")
