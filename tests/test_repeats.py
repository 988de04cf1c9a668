"""Repeats (`begin repeat`): printed as numbered copies or as a table, read back per copy."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import openpyxl
import pandas as pd
import pytest
from starlette.routing import Match

from pipeline.errors import TemplateError
from pipeline.forms.layout import LayoutOptions, plan_form
from pipeline.forms.numbering import question_numbers
from pipeline.forms.repeat_blocks import RepeatPart, printed_items
from pipeline.forms.sources import XLSFORM_SUFFIXES, load_questionnaire
from pipeline.model import (
    MODEL_VERSION,
    Label,
    Question,
    Questionnaire,
    Repeat,
)
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.records import PageRef, layout_from_dict, layout_to_dict
from pipeline.simulate.answers import choose_answers
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.store.store import file_safe, write_crops
from pipeline.textdistance import edit_distance
from pipeline.workspace import Workspace

from .conftest import PROJECT
from .reading_back import read_back

REAL_FORMS = PROJECT.parent / "shared" / "xlsforms" / "forms"
HEADER = ("type", "name", "label", "hint", "relevant", "repeat_count", "papertwin::rows",
          "papertwin::table", "constraint")
CHOICES = [("list_name", "name", "label"), ("sex", "f", "Female"), ("sex", "m", "Male"),
           ("yn", "yes", "Yes"), ("yn", "no", "No"), ("crop", "maize", "Maize"),
           ("crop", "beans", "Beans"), ("crop", "rice", "Rice")]
# A household roster (a table: three short questions), visits (copies), and plots within a visit.
HOUSEHOLD = [
    ("integer", "hh_size", "How many people live in your household?"),
    ("begin repeat", "member", "Person", "Everyone who usually lives here.", "", "${hh_size}",
     "5"),
    ("text", "first_name", "First name"),
    ("select_one sex", "sex", "Sex"),
    ("integer", "age", "Age in years"),
    ("end repeat", ""),
    ("begin repeat", "visit", "Visit", "", "", "2"),
    ("select_one yn", "seen", "Did a doctor see you?"),
    ("integer", "wait", "How many minutes did you wait?", "", "${seen} = 'yes'"),
    ("select_one yn", "paid", "Did you pay?"),
    ("begin repeat", "plot", "Plot", "", "", "2"),
    ("decimal", "area", "Area in hectares"),
    ("select_multiple crop", "crops", "Crops grown"),
    ("end repeat", ""),
    ("end repeat", ""),
    ("select_one yn", "again", "Would you take part again?"),
]


def write_form(path: Path, survey: Sequence[Sequence[str]],
               choices: Sequence[Sequence[str]] = CHOICES, form_id: str = "household") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(list(HEADER))
    for row in survey:
        sheet.append([*row, *[""] * (len(HEADER) - len(row))])
    listed = book.create_sheet("choices")
    for row in choices:
        listed.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version"])
    settings.append(["Household survey", form_id, "1"])
    book.save(path)
    return path


def load(tmp_path: Path, survey: Sequence[Sequence[str]]) -> tuple[Questionnaire, list[str]]:
    loaded = load_questionnaire(write_form(tmp_path / "form.xlsx", survey))
    return loaded.questionnaire, list(loaded.warnings)


def repeat_of(questionnaire: Questionnaire, name: str) -> Repeat:
    found = [item for item in questionnaire.items if isinstance(item, Repeat)
             and item.name == name]
    assert found, name
    return found[0]


# The model: instance names, conditions moved to the copy, JSON

def test_each_copy_is_a_set_of_questions_named_after_it(tmp_path: Path) -> None:
    questionnaire, warnings = load(tmp_path, HOUSEHOLD)
    names = [q.name for q in questionnaire.questions]
    assert names[:4] == ["hh_size", "member[1]/first_name", "member[1]/sex", "member[1]/age"]
    assert names.count("member[5]/age") == 1 and "member[6]/age" not in names
    assert names[16:] == [
        "visit[1]/seen", "visit[1]/wait", "visit[1]/paid",
        "visit[1]/plot[1]/area", "visit[1]/plot[1]/crops",
        "visit[1]/plot[2]/area", "visit[1]/plot[2]/crops",
        "visit[2]/seen", "visit[2]/wait", "visit[2]/paid",
        "visit[2]/plot[1]/area", "visit[2]/plot[1]/crops",
        "visit[2]/plot[2]/area", "visit[2]/plot[2]/crops",
        "again",
    ]
    # a condition on a question of the same repeat means the same copy's answer
    assert questionnaire.question("visit[2]/wait").relevant == "${visit[2]/seen} = 'yes'"
    # papertwin::rows gives the count where repeat_count is worked out online: no warning then
    assert repeat_of(questionnaire, "member").count == 5
    assert not [w for w in warnings if "repeat_count" in w]


def test_a_nested_repeat_refers_to_its_parents_copy() -> None:
    plot = Repeat("plot", Label.of("Plot"), (
        Question("area", "decimal", Label.of("Area"), relevant="${owned} = 'yes'"),
        Question("used", "select_one", Label.of("Used?"), relevant="${area} != ''"),
    ), count=2)
    plot = replace(plot, relevant="${owned} = 'yes'")
    visit = Repeat("visit", Label.of("Visit"), (
        Question("owned", "select_one", Label.of("Owned?")), plot), count=2)
    questionnaire = Questionnaire("q", "1", Label.of("Q"), (visit,))
    used = questionnaire.question("visit[2]/plot[1]/used")
    area = questionnaire.question("visit[2]/plot[1]/area")
    assert used.relevant == "${visit[2]/plot[1]/area} != ''"
    assert area.relevant == "${visit[2]/owned} = 'yes'"
    nested = visit.copy_items(2)[1]
    assert isinstance(nested, Repeat)
    assert (nested.name, nested.relevant) == ("visit[2]/plot", "${visit[2]/owned} = 'yes'")


def test_please_specify_and_grids_belong_to_their_copy(tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, [
        ("begin repeat", "member", "Person", "", "", "2"),
        ("select_one yn or_other", "works", "Do you work?"),
        ("end repeat", "")])
    specify = questionnaire.question("member[2]/works_other")
    assert (specify.other_of, specify.relevant) == (
        "member[2]/works", "selected(${member[2]/works}, 'other')")
    plan = plan_form(questionnaire)
    fields = {(f.question, f.kind) for page in plan.layout.pages for f in page.fields}
    assert {("member[1]/works_other", "text"), ("member[2]/works_other", "text")} <= fields
    book = openpyxl.load_workbook(write_form(tmp_path / "grid.xlsx", [
        ("begin repeat", "member", "Person", "", "", "2"),
        ("begin group", "likes", "How much does this person like ..."),
        ("select_one yn", "header", "Header"),
        ("select_one yn", "tea", "Tea"), ("select_one yn", "coffee", "Coffee"),
        ("end group", ""), ("end repeat", "")]))
    sheet = book["survey"]
    sheet["I1"] = "appearance"
    for row, appearance in ((3, "field-list"), (4, "label"), (5, "list-nolabel"),
                            (6, "list-nolabel")):
        sheet[f"I{row}"] = appearance
    book.save(tmp_path / "grid.xlsx")
    grid = load_questionnaire(tmp_path / "grid.xlsx").questionnaire
    coffee = grid.question("member[2]/coffee")
    assert (coffee.grid, [q.name for q in grid.questions]) == (
        "member[2]/likes", ["member[1]/tea", "member[1]/coffee", "member[2]/tea",
                            "member[2]/coffee"])


def test_repeats_survive_the_json_of_a_layout(tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, HOUSEHOLD)
    data = questionnaire.to_dict()
    assert data["model"] == MODEL_VERSION == 3
    # without a repeat, model 2 as before: the form keys of existing forms stay the same
    assert Questionnaire("q", "1", Label.of("Q"), (Question("a", "integer", Label.of("A")),)
                         ).to_dict()["model"] == 2
    assert Questionnaire.from_dict(json.loads(json.dumps(data))) == questionnaire
    plan = plan_form(questionnaire)
    again = layout_from_dict(json.loads(json.dumps(layout_to_dict(plan.layout))))
    assert again.questionnaire.questions == questionnaire.questions
    # a layout written before repeats (model 2) still loads
    old = layout_to_dict(plan.layout)
    old["questionnaire"] = {**data, "model": 2,
                            "items": [i for i in data["items"] if i["kind"] != "repeat"]}
    assert [q.name for q in layout_from_dict(old).questionnaire.questions] == ["hh_size",
                                                                               "again"]


# Reading the XLSForm: counts, tables, names, errors

@pytest.mark.parametrize(("count", "rows", "expected", "warned"), [
    ("3", "", 3, ""),
    ("3.0", "7", 3, ""),  # a constant repeat_count wins; spreadsheets store 3 as 3.0
    ("", "7", 7, ""),
    ("", "", 4, ""),  # the default
    ("${hh_size}", "", 4, "repeat_count '${hh_size}' is worked out as the form is filled in"),
    ("${hh_size}", "6", 6, ""),
    ("100", "", 4, "repeat_count 100 is more copies than papertwin prints (40); 4 printed"),
])
def test_copies_printed(tmp_path: Path, count: str, rows: str, expected: int,
                        warned: str) -> None:
    questionnaire, warnings = load(tmp_path, [
        ("integer", "hh_size", "How many?"),
        ("begin repeat", "member", "Person", "", "", count, rows),
        ("integer", "age", "Age"), ("end repeat", "")])
    assert repeat_of(questionnaire, "member").count == expected
    found = [w for w in warnings if "repeat_count" in w]
    if warned:
        assert len(found) == 1 and found[0].startswith("survey row 3 (member): ")
        assert warned in found[0] and "papertwin::rows" in found[0]
    else:
        assert found == []


def test_a_repeat_of_nothing_printable_is_left_out_with_a_warning(tmp_path: Path) -> None:
    questionnaire, warnings = load(tmp_path, [
        ("integer", "size", "How many?"),
        ("begin repeat", "photos", "Photos"), ("image", "photo", "A photo"),
        ("end repeat", ""),
        ("begin repeat", "none", "None", "", "", "0"), ("integer", "n", "N"),
        ("end repeat", "")])
    assert [q.name for q in questionnaire.questions] == ["size"]
    assert "survey row 3 (photos): 'begin repeat': it has no question papertwin can print; " \
           "left out" in warnings
    assert "survey row 6 (none): 'begin repeat': repeat_count is 0; left out" in warnings


@pytest.mark.parametrize(("survey", "message"), [
    ([("begin repeat", "r", "R"), ("integer", "a", "A"), ("end group", "")],
     r"survey row 4 \(no name\): 'end group' without a 'begin group'"),
    ([("begin group", "g", "G"), ("integer", "a", "A"), ("end repeat", "")],
     r"survey row 4 \(no name\): 'end repeat' without a 'begin repeat'"),
    ([("begin repeat", "r", "R"), ("integer", "a", "A")],
     r"survey row 2 \(r\): 'begin repeat' has no 'end repeat'"),
    ([("begin repeat", "r", "R", "", "", "", "x"), ("integer", "a", "A"), ("end repeat", "")],
     r"survey row 2 \(r\): papertwin::rows must be a whole number 1-40, not 'x'"),
    ([("begin repeat", "r", "R", "", "", "", "", "maybe"), ("integer", "a", "A"),
      ("end repeat", "")],
     r"survey row 2 \(r\): papertwin::table must be yes or no, not 'maybe'"),
    ([("integer", "r", "R"), ("begin repeat", "r", "R"), ("integer", "a", "A"),
      ("end repeat", "")],
     r"survey row 3 \(r\): the name 'r' is already used in survey row 2"),
])
def test_repeat_mistakes_name_the_row(tmp_path: Path, survey: list[tuple[str, ...]],
                                      message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load(tmp_path, survey)


def test_nested_repeats_too_large_to_print_are_refused_before_their_copies_are_made(
        tmp_path: Path) -> None:
    rows = ("", "", "", "40")
    survey = [("begin repeat", f"level{n}", f"Level {n}", *rows) for n in range(5)]
    survey += [("integer", "n", "N")] + [("end repeat", "")] * 5
    with pytest.raises(TemplateError, match=r"has 105,025,641 questions, notes and headings, a "
                       r"repeat's once per copy; papertwin prints at most 5,000 \(items limit\): "
                       r"print fewer copies of its repeats \(papertwin::rows\)"):
        load(tmp_path, survey)  # 40 ** 5 copies of a question: refused at once, never made


def test_a_name_inside_a_repeat_may_be_used_outside_it(tmp_path: Path) -> None:
    """The copies' answers are stored as member[k]/age, so they cannot take age's column."""
    questionnaire, _ = load(tmp_path, [
        ("integer", "age", "Your age"), ("begin repeat", "member", "Person", "", "", "2"),
        ("integer", "age", "Age"), ("end repeat", "")])
    assert [q.name for q in questionnaire.questions] == ["age", "member[1]/age", "member[2]/age"]


def test_names_too_long_for_the_store_are_refused(tmp_path: Path) -> None:
    long = "q" * 120
    with pytest.raises(TemplateError, match=r"the name 'member\[1\]/q+' is 130 characters long"):
        load(tmp_path, [("begin repeat", "member", "Person"), ("integer", long, "Age"),
                        ("end repeat", "")])


def test_a_short_list_of_simple_questions_prints_as_a_table(tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, HOUSEHOLD)
    member = repeat_of(questionnaire, "member")
    assert member.table  # name, sex, age
    first_name = member.items[0]
    assert isinstance(first_name, Question) and first_name.lines == 1  # one line per row
    assert not repeat_of(questionnaire, "visit").table  # holds a repeat
    forced, _ = load(tmp_path, [
        ("begin repeat", "member", "Person", "", "", "2", "", "no"),
        ("integer", "age", "Age"), ("end repeat", ""),
        ("begin repeat", "many", "Many", "", "", "2"),
        *[("integer", f"n{i}", f"N {i}") for i in range(5)], ("end repeat", "")])
    assert not repeat_of(forced, "member").table  # papertwin::table no
    assert not repeat_of(forced, "many").table  # five questions: too many columns


# Numbering, routing and layout

def test_a_repeat_takes_one_number_and_its_questions_letters(tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, HOUSEHOLD)
    numbers = question_numbers(questionnaire)
    assert (numbers["hh_size"], numbers["member"], numbers["visit"], numbers["again"]) == (
        1, 2, 3, 4)
    assert numbers["member[3]/age"] == "2c"
    assert (numbers["visit[1]/seen"], numbers["visit[2]/paid"], numbers["visit[2]/plot"]) == (
        "3a", "3c", "3d")
    assert numbers["visit[2]/plot[1]/crops"] == "3d.2"


def test_routing_within_a_copy_goes_to_the_same_copy(tmp_path: Path) -> None:
    questionnaire, warnings = load(tmp_path, [
        *HOUSEHOLD[:6],
        ("select_one yn", "ask", "Shall we ask about visits?"),
        ("integer", "visits", "How many visits?", "", "${ask} = 'yes'"),
        *HOUSEHOLD[6:],
        ("begin repeat", "last", "Last", "", "", "2"),
        ("select_one yn", "any", "Any?"),
        ("integer", "count", "How many?", "", "${any} = 'yes'"),
        ("end repeat", ""),
        ("select_one yn", "kids", "Do you have children?"),
        ("begin repeat", "child", "Child", "", "${kids} = 'yes'", "2"),
        ("select_one yn", "school", "At school?"),
        ("integer", "grade", "Which year?", "", "${school} = 'yes'"),
        ("integer", "height", "Height in cm"),
        ("end repeat", ""),
        ("select_one yn", "done", "All done?")])
    # before a repeat: "No" skips to the repeat's number, not past it
    ask = questionnaire.question("ask")
    assert [c.route_to for c in ask.choices] == ["", "visit"]
    # inside a copy: to the same copy's next question
    seen = questionnaire.question("visit[2]/seen")
    assert [c.route_to for c in seen.choices] == ["", "visit[2]/paid"]
    # the last question of a copy: nowhere to send "No" but the next copy, so no go-to; the
    # question says whom it is for instead, naming this copy's question
    assert all(not c.route_to for c in questionnaire.question("last[1]/any").choices)
    assert questionnaire.question("last[2]/count").ask_if == "${last[2]/any} = 'yes'"
    assert not any("count" in w for w in warnings)
    # a repeat asked under a condition is skipped whole, and its own routing still prints
    assert [c.route_to for c in questionnaire.question("kids").choices] == ["", "done"]
    assert [c.route_to for c in questionnaire.question("child[2]/school").choices] == [
        "", "child[2]/height"]
    assert not any("grade" in w or "school" in w for w in warnings)
    plan = plan_form(questionnaire)
    texts = [op.text for page in plan.pages for op in page.ops if hasattr(op, "text")]
    assert any(t.endswith("Go to question 5") for t in texts)  # the repeat visit
    assert any(t.endswith("Go to question 5c") for t in texts)  # visit[k]/paid
    assert not any("Go to the end" in t for t in texts)


def test_every_copy_prints_every_box(tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, HOUSEHOLD)
    plan = plan_form(questionnaire)
    fields = [f for page in plan.layout.pages for f in page.fields]
    printed = {f.question for f in fields}
    assert printed == {q.name for q in questionnaire.questions}
    for k in range(1, 6):  # the table: a row of boxes per copy
        assert sum(f.question == f"member[{k}]/sex" for f in fields) == 2
        assert sum(f.question == f"member[{k}]/age" for f in fields) == 6
        assert sum(f.question == f"member[{k}]/first_name" and f.kind == "text"
                   for f in fields) == 1
    texts = [op.text for page in plan.pages for op in page.ops if hasattr(op, "text")]
    assert [t for t in texts if t.startswith("Visit ") and "(continued)" not in t] == [
        "Visit 1", "Visit 1: Plot 1", "Visit 1: Plot 2", "Visit 2", "Visit 2: Plot 1",
        "Visit 2: Plot 2"]
    assert "3d.2." in texts and "Female" in texts


def test_a_page_that_goes_on_with_a_copy_says_whose_copy_it_is(tmp_path: Path) -> None:
    """5a, 5b are the same in every copy: a page that begins within a copy names the copy."""
    from pipeline.forms.layout import HEADER_BOTTOM

    questionnaire, _ = load(tmp_path, HOUSEHOLD)
    plan = plan_form(questionnaire)
    continued = [(page.page, op.text, op.y) for page in plan.pages for op in page.ops
                 if getattr(op, "text", "").endswith("(continued)")]
    assert continued  # the visits do not fit one page each
    for page, text, y in continued:
        assert page > 1 and HEADER_BOTTOM < y < HEADER_BOTTOM + 6 * 72 / 25.4, (page, text)
        assert text.startswith("Visit ") and text.count("(continued)") == 1
    assert len({page for page, _, _ in continued}) == len(continued)  # one per page at most


def test_a_table_too_wide_for_large_print_prints_as_copies(tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, [
        ("begin repeat", "member", "Person", "", "", "3"),
        ("date", "born", "Date of birth"), ("date", "arrived", "Date arrived"),
        ("integer", "age", "Age", "", "", "", "", "", ". <= 120"), ("end repeat", "")])
    assert repeat_of(questionnaire, "member").table
    for large, table in ((False, True), (True, False)):
        plan = plan_form(questionnaire, LayoutOptions(large_print=large))
        texts = [op.text for page in plan.pages for op in page.ops if hasattr(op, "text")]
        assert ("Person 1" not in texts) == table
        fields = {f.question for page in plan.layout.pages for f in page.fields}
        assert fields == {q.name for q in questionnaire.questions}


def test_a_long_table_continues_with_its_column_labels(tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, [
        ("begin repeat", "member", "Person", "", "", "", "25"),
        ("text", "first_name", "First name"), ("integer", "age", "Age"), ("end repeat", "")])
    from pipeline.forms.blocks import Context
    from pipeline.forms.style import STANDARD
    ctx = Context(STANDARD, ("en",), question_numbers(questionnaire))
    parts = [p for p in printed_items(questionnaire.items, ctx, 480) if isinstance(p, RepeatPart)]
    assert [p.what for p in parts] == ["repeat 1 (member), rows 1-10",
                                       "repeat 1 (member), rows 11-20",
                                       "repeat 1 (member), rows 21-25"]
    plan = plan_form(questionnaire)
    texts = [op.text for page in plan.pages for op in page.ops if hasattr(op, "text")]
    assert texts.count("First name") == 3


# Names that hold [ ] / where names become files and addresses

def test_names_of_copies_make_safe_distinct_file_names() -> None:
    names = ["member[2]/age", "member%5B2%5D%2Fage", "member_2__age", "age", "Siân"]
    safe = [file_safe(name) for name in names]
    assert safe == ["member%5B2%5D%2Fage", "member%255B2%255D%252Fage", "member_2__age", "age",
                    "Siân"]
    assert all("/" not in s for s in safe)


def test_crops_of_a_copys_answers_are_files_in_the_copys_folder(tmp_path: Path) -> None:
    from pipeline.records import Answer, PageResult

    answer = Answer(question="visit[1]/plot[2]/area", value="", confidence=0.0,
                    needs_review=True, reason="x", crop_png=b"png")
    result = PageResult(ref=PageRef("ab" * 32, "s.pdf", 3), outcome="identified",
                        form_key="f", serial="000001", page=2, answers=(answer,))
    paths = write_crops([result], tmp_path)
    path = Path(paths[(3, "visit[1]/plot[2]/area")])
    assert path.parent == tmp_path / "f" / "000001"
    assert path.name == "p2-visit%5B1%5D%2Fplot%5B2%5D%2Farea-abababab.png"
    assert path.read_bytes() == b"png"


def test_review_addresses_take_a_copys_answer_name(workspace: Workspace) -> None:
    from pipeline.review.app import create_app
    from pipeline.review.web import Settings

    app = create_app(Settings(workspace))
    wanted = {"/fields/k/000001/visit[1]/plot[2]/area": ("field_view", "field_decision"),
              "/fields/k/000001/visit[1]/plot[2]/area/crop.png": ("field_crop",),
              "/fields/k/000001/age": ("field_view", "field_decision")}
    for path, endpoints in wanted.items():
        for method, endpoint in zip(("GET", "POST"), endpoints, strict=False):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            first = next(route for route in app.routes
                         if getattr(route, "matches", None)
                         and route.matches(scope)[0] == Match.FULL)
            _, child = first.matches(scope)
            assert getattr(first, "name", "") == endpoint, (path, method)
            expected = path.removeprefix("/fields/k/000001/").removesuffix("/crop.png")
            assert child["path_params"]["question"] == expected


# Simulated respondents

def test_simulated_respondents_fill_the_first_copies_and_leave_the_rest_blank(
        tmp_path: Path) -> None:
    questionnaire, _ = load(tmp_path, HOUSEHOLD)
    rng = np.random.default_rng(4)
    filled: set[int] = set()
    for _ in range(12):
        answers = choose_answers(questionnaire, rng)
        used = [k for k in range(1, 6)
                if any(answers[n] for n in answers if n.startswith(f"member[{k}]/"))]
        assert used == list(range(1, len(used) + 1))  # no gap before a filled copy
        filled.add(len(used))
        for k in range(len(used) + 1, 6):
            assert answers[f"member[{k}]/age"] is None
            assert answers[f"member[{k}]/sex"] is None
        for k in (1, 2):  # nested plots of a visit left blank are blank lists for crops
            if not any(answers[n] for n in answers if n.startswith(f"visit[{k}]/")):
                assert answers[f"visit[{k}]/plot[1]/crops"] == []
    assert len(filled) >= 3  # households of several sizes


# Reading back what was printed

@pytest.mark.slow
def test_simulated_returns_of_repeats_read_back_copy_by_copy(tmp_path: Path) -> None:
    form = write_form(tmp_path / "household.xlsx", HOUSEHOLD)
    built = build_forms(form, 2, tmp_path / "form", Workspace.resolve(tmp_path / "ws"))
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=5)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    read = read_back(batch, built.layout)
    questionnaire = built.layout.questionnaire
    chars = errors = 0
    answered = dict.fromkeys(("member[", "visit[", "]/plot["), 0)  # table, copies, nested
    for copy, response in zip(built.layout.copies, truth, strict=True):
        for question in questionnaire.questions:
            expected = truth_value(response["answers"][question.name])
            value, flagged = read[(copy.serial, question.name)]
            for part in answered:
                answered[part] += bool(expected) and part in question.name
            if question.is_choice:
                assert (value, flagged) == (expected, False), question.name
            elif question.uses_cells:
                assert value == expected or flagged, (question.name, value, expected)
            else:
                chars += len(expected)
                errors += edit_distance(value, expected)
    assert min(answered.values()) >= 4, answered  # some of each kind of repeat was filled in
    assert chars > 20 and errors / chars < 0.10


@pytest.mark.slow
def test_copies_answers_reach_the_store_and_the_dataset(
    prefect_harness: None, tmp_path: Path,
) -> None:
    from flows.ingest import ingest_batch
    from pipeline.dataset.export import ExportOptions, export_dataset

    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    form = write_form(tmp_path / "household.xlsx", HOUSEHOLD)
    built = build_forms(form, 2, tmp_path / "form", workspace)
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=8)
    summary = ingest_batch([batch.pdf_path], workspace)
    assert summary.outcomes == {"identified": 2 * len(built.layout.pages)}
    out = tmp_path / "dataset.csv"
    export_dataset(workspace, out, options=ExportOptions(repeats="wide"))  # a column per copy
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    names = [q.name for q in built.layout.questionnaire.questions]
    columns = list(frame.columns)
    assert columns[4:4 + len(names)] == names  # one column per copy's question
    truth = json.loads(batch.truth_path.read_text())["responses"]
    for response, (_, row) in zip(truth, frame.iterrows(), strict=True):
        review = set(row["_needs_review"].split())
        for question in built.layout.questionnaire.questions:
            if question.is_choice and question.name not in review:
                got: Any = row[question.name]
                expected = truth_value(response["answers"][question.name])
                if question.type == "select_multiple":
                    assert set(got.split()) == set(expected.split()), question.name
                else:
                    assert got == expected, question.name


@pytest.mark.slow
def test_a_reviewer_decides_a_copys_answer_at_its_address(tmp_path: Path) -> None:
    """member[2]/first_name in the review app: its page, its crop (a file of its own), and a
    decision posted to it and stored under its name."""
    from fastapi.testclient import TestClient

    from pipeline.ingest.batch import read_chunk
    from pipeline.review.accounts import add_user
    from pipeline.review.app import create_app
    from pipeline.review.queue import flagged_fields
    from pipeline.review.web import Settings
    from pipeline.store.store import Store
    from tests.ingesting import ingest_without_flow
    from tests.review_site import PASSWORD, log_in

    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    built = build_forms(write_form(tmp_path / "household.xlsx", HOUSEHOLD), 1,
                        tmp_path / "form", workspace)
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=8)
    settings = ReaderSettings(audit_share=1.0)  # every answer to a person: all have addresses
    ingest_without_flow([batch.pdf_path], workspace,
                        lambda chunk, layouts: read_chunk(chunk, layouts, settings))
    layout = built.layout
    store = Store.open(workspace.store_url)
    try:
        add_user(store, "sam", PASSWORD, "supervisor")
        flagged = {i.question: i for i in flagged_fields(store, {layout.form_key: layout})}
    finally:
        store.close()
    text = flagged["member[1]/first_name"]
    choice = flagged["visit[2]/plot[1]/crops"]
    assert text.crop_path and Path(text.crop_path).is_file()
    assert Path(text.crop_path).name.startswith("p1-member%5B1%5D%2Ffirst_name-")
    with TestClient(create_app(Settings(workspace)), base_url="https://127.0.0.1") as client:
        assert log_in(client, "sam", PASSWORD).status_code == 303
        for item, label in ((text, "First name"), (choice, "Crops grown")):
            address = (f"/fields/{quote(layout.form_key, safe='')}/{item.serial}/"
                       f"{quote(item.question, safe='')}")
            shown = client.get(address)
            assert shown.status_code == 200 and label in shown.text, item.question
            crop = client.get(f"{address}/crop.png")
            assert crop.status_code == 200 and crop.content.startswith(b"\x89PNG")
            csrf = re.search(r'name="csrf" value="([^"]+)"', shown.text)
            assert csrf is not None
            form = ({"value": "Amina"} if item is text else {"choice-beans": "on"})
            decided = client.post(address, data={"csrf": csrf.group(1), "action": "decide",
                                                 **form}, follow_redirects=False)
            assert decided.status_code == 303, decided.text
    store = Store.open(workspace.store_url)
    try:
        assert [d.new_value for d in store.review_log(layout.form_key, text.serial,
                                                      "member[1]/first_name")] == ["Amina"]
        assert [d.new_value for d in store.review_log(layout.form_key, choice.serial,
                                                      "visit[2]/plot[1]/crops")] == ["beans"]
    finally:
        store.close()


# Real forms written by other people

@pytest.mark.skipif(not REAL_FORMS.is_dir(), reason="the real XLSForms are not beside the project")
@pytest.mark.parametrize(("name", "repeats"), [
    ("reach_msna_2024_v11.xlsx", {"roster": 4, "edu_ind": 4, "health_ind": 4, "nut_ind": 4}),
    ("pyx_ucl_biomass.xlsx", {"trees": 4, "stumps": 4, "subplot1": 4, "subplot2": 4}),
    ("kc_nested_repeats.xls", {"kids_details": 4}),
    ("pyx_tutorial.xls", {"member": 4}),
])
def test_real_forms_print_their_repeats(name: str, repeats: dict[str, int]) -> None:
    if Path(name).suffix not in XLSFORM_SUFFIXES:
        pytest.skip(f"papertwin does not read {Path(name).suffix} workbooks")
    loaded = load_questionnaire(REAL_FORMS / name)
    questionnaire = loaded.questionnaire
    found = {item.name: item.count for item in questionnaire.items if isinstance(item, Repeat)}
    assert found == repeats
    for repeat_name in repeats:
        assert any(q.name.startswith(f"{repeat_name}[4]/") for q in questionnaire.questions)
    plan = plan_form(questionnaire, LayoutOptions(languages=("en",)))
    printed = {f.question for page in plan.layout.pages for f in page.fields}
    assert printed == {q.name for q in questionnaire.questions}
