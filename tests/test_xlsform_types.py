"""Every XLSForm pyxform reads, and the question types a person can answer on paper.

The real forms are people's own (ODK, Kobo, SurveyCTO, Ona): those pyxform reads load, those it
refuses are refused naming the sheet and row. The new types are printed, filled in by the
simulator, read back and compared with what the simulator wrote.
"""

from __future__ import annotations

import csv
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.errors import TemplateError
from pipeline.forms.blocks import TextOp
from pipeline.forms.layout import LayoutOptions, plan_form
from pipeline.forms.sources import load_questionnaire
from pipeline.forms.template_xlsform import load_xlsform
from pipeline.model import Question
from pipeline.publish import build_forms
from pipeline.read.cells import validate
from pipeline.simulate.answers import cell_text
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.workspace import Workspace

from .conftest import PROJECT
from .reading_back import read_back

FORMS = PROJECT.parent / "shared" / "xlsforms" / "forms"
REFUSED = {"liberia_coverage_r2.xlsx": "choices row 126: '4' is already a choice of list",
           "unhcr_demo.xlsx": "choices row 7: 'never' is already a choice of list"}


def _manifest() -> list[dict[str, str]]:
    with (FORMS.parent / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _real_forms() -> list[str]:
    return sorted(row["file"] for row in _manifest()) if FORMS.is_dir() else []


def _write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


TYPES_SURVEY: list[list[Any]] = [
    ["type", "name", "label::English (en)", "parameters", "choice_filter"],
    ["time", "arrived", "What time did you arrive?", None, None],
    ["datetime", "left", "When did you leave?", None, None],
    ["rank fruit or_other", "favourites", "Rank the fruit, favourite first", None, None],
    ["range", "score", "How satisfied are you?", "start=1 end=5 step=1", None],
    ["acknowledge", "consent", "I agree to take part", None, None],
    ["select_one_from_file towns.csv", "town", "Which town?", None, None],
    ["select_one fruit", "snack", "Which fruit for a snack?", None, "kind = 'tree'"],
    ["select_one place or_other", "where", "Where do you shop?", None, None],
    ["note", None, "Thank you.", None, None],
]
TYPES_CHOICES: list[list[Any]] = [
    ["list_name", "name", "label::English (en)"],
    ["fruit", "apple", "Apple"], ["fruit", "pear", "Pear"], ["fruit", "plum", "Plum"],
    ["place", "market", "Market"], ["place", "foot paths", "Stalls on the foot paths"],
    ["place", "Cœur", "Cœur de ville"],
]


@pytest.fixture
def types_form(tmp_path: Path) -> Path:
    (tmp_path / "towns.csv").write_text("name,label\nnorth,North Town\nsouth,South Town\n",
                                        encoding="utf-8")
    return _write_xlsx(tmp_path / "types.xlsx", {
        "survey": TYPES_SURVEY, "choices": TYPES_CHOICES,
        "settings": [["form_title", "form_id", "version"], ["Paper types", "Paper types!", 2]],
    })


def test_new_types_load_with_their_choices_and_warnings(types_form: Path) -> None:
    questionnaire, warnings = load_xlsform(types_form)
    types = {q.name: q.type for q in questionnaire.questions}
    assert types == {"arrived": "time", "left": "datetime", "favourites": "rank",
                     "favourites_other": "text",
                     "score": "range", "consent": "acknowledge", "town": "select_one",
                     "snack": "select_one", "where": "select_one", "where_other": "text"}
    assert questionnaire.question("score").choice_names() == ("1", "2", "3", "4", "5")
    assert questionnaire.question("consent").choice_names() == ("OK",)
    assert questionnaire.question("town").choice_names() == ("north", "south")
    assert questionnaire.question("town").choices[1].label.text("en") == "South Town"
    assert questionnaire.question("where").choice_names() == ("market", "foot paths", "Cœur",
                                                              "other")
    assert questionnaire.question("where_other").other_of == "where"
    assert questionnaire.question("favourites_other").other_of == "favourites"
    assert questionnaire.question("favourites").choice_names() == ("apple", "pear", "plum",
                                                                   "other")
    assert (questionnaire.question("arrived").cells,
            questionnaire.question("left").cells) == (4, 12)
    assert questionnaire.id == "Paper_types"
    assert questionnaire.title.text("en") == "Paper types"
    assert warnings == [
        "settings: form_id 'Paper types!' is not an identifier: the form key uses "
        "'Paper_types' (set form_id to letters, digits, _ . - to choose it)",
        "survey row 8 (snack): choice_filter 'kind = 'tree'' is not applied on paper: all the "
        "choices are printed",
    ]


def test_choice_file_absent_leaves_the_question_out_with_a_warning(types_form: Path) -> None:
    (types_form.parent / "towns.csv").unlink()
    questionnaire, warnings = load_xlsform(types_form)
    assert "town" not in {q.name for q in questionnaire.questions}
    assert ("survey row 7 (town): choices file 'towns.csv' is not beside the form; left out "
            "(put towns.csv in the form's folder to print it)") in warnings


def test_choice_file_columns_named_by_parameters(tmp_path: Path) -> None:
    (tmp_path / "shops.csv").write_text("code,title\nS1,Corner shop\nS2,Bakery\n",
                                        encoding="utf-8")
    path = _write_xlsx(tmp_path / "shops.xlsx", {"survey": [
        ["type", "name", "label", "parameters"],
        ["select_multiple_from_file shops.csv", "shops", "Which shops?", "value=code label=title"],
    ]})
    question = load_xlsform(path)[0].question("shops")
    assert question.type == "select_multiple"
    assert [(c.name, c.label.text()) for c in question.choices] == [("S1", "Corner shop"),
                                                                     ("S2", "Bakery")]


def test_spaced_choice_names_on_a_multiple_choice_warn_once_per_list(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "paths.xlsx", {
        "survey": [["type", "name", "label"],
                   ["select_multiple ways", "ways", "How do you walk?"],
                   ["select_multiple ways", "ways_again", "And in winter?"],
                   ["select_one ways", "best", "Which is best?"]],
        "choices": [["list_name", "name", "label"], ["ways", "foot paths", "Foot paths"],
                    ["ways", "road", "Road"]],
    })
    questionnaire, warnings = load_xlsform(path)
    assert questionnaire.question("best").choice_names() == ("foot paths", "road")
    assert warnings == [
        "survey row 2 (ways): choice names with a space ('foot paths') cannot be told apart in "
        "a select_multiple answer, whose names are separated by spaces: rename them in list "
        "'ways' (for example with _)"]


@pytest.mark.parametrize(("parameters", "names"), [
    ("start=0 end=1 step=0.25", ("0", "0.25", "0.5", "0.75", "1")),
    ("start=10 end=0 step=-5", ("10", "5", "0")),
    ("", tuple(str(n) for n in range(1, 11))),
])
def test_range_values_as_the_export_writes_them(tmp_path: Path, parameters: str,
                                                names: tuple[str, ...]) -> None:
    path = _write_xlsx(tmp_path / "range.xlsx", {"survey": [
        ["type", "name", "label", "parameters"], ["range", "r", "Score", parameters or None]]})
    assert load_xlsform(path)[0].question("r").choice_names() == names


def test_range_without_values_is_refused_naming_the_row(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "range.xlsx", {"survey": [
        ["type", "name", "label", "parameters"], ["range", "r", "Score", "start=5 end=1 step=1"]]})
    with pytest.raises(TemplateError, match=r"survey row 2 \(r\): a range needs parameters"):
        load_xlsform(path)


def test_single_colon_columns_and_a_nameless_note(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "old.xlsx", {
        "survey": [["type", "name", "label:English", "label:Welsh", "hint:English"],
                   ["note", None, "Please read this.", "Darllenwch hwn.", None],
                   ["integer", "age", "Your age?", "Eich oed?", "In years"]],
    })
    questionnaire, warnings = load_xlsform(path)
    assert warnings == []
    assert questionnaire.languages == ("en", "cy")
    note = questionnaire.items[0]
    assert (note.name, note.label.text("cy")) == ("note_row_2", "Darllenwch hwn.")
    age = questionnaire.question("age")
    assert (age.label.text("cy"), age.hint.text("en")) == ("Eich oed?", "In years")


@pytest.mark.parametrize(("survey", "message"), [
    ([["text", "my name", "Name"]], r"survey row 2 \(my name\): name 'my name' must be"),
    ([["text", "a", "A"], ["calculate", "c", None]], r"survey row 3: Missing calculation"),
])
def test_what_pyxform_refuses_is_refused_naming_the_row(tmp_path: Path, survey: list[list[Any]],
                                                        message: str) -> None:
    path = _write_xlsx(tmp_path / "bad.xlsx", {"survey": [["type", "name", "label"], *survey]})
    with pytest.raises(TemplateError, match=message):
        load_xlsform(path)


@pytest.mark.parametrize(("qtype", "text", "expected"), [
    ("time", "0930", ("09:30", "")),
    ("time", "2471", ("2471", "failed validation: not a time (hours, minutes)")),
    ("datetime", "050120271830", ("2027-01-05T18:30", "")),
    ("datetime", "310220271830", ("310220271830", "failed validation: not a date and time "
                                  "(day, month, year, hours, minutes)")),
    ("rank", "2 13", ("c a d", "")),
    ("rank", "2213", ("2 2 1 3", "failed validation: ranks 2 2 1 3: not 1, 2, 3... each once")),
    ("rank", "3 1 ", ("3 1", "failed validation: ranks 3 1: not 1, 2, 3... each once")),
])
def test_cells_of_the_new_types_validate(qtype: str, text: str,
                                         expected: tuple[str, str]) -> None:
    from pipeline.model import Choice, Label
    choices = tuple(Choice(n, Label.of(n)) for n in "abcd") if qtype == "rank" else ()
    question = Question("q", qtype, Label.of("Q"), choices=choices)  # type: ignore[arg-type]
    assert validate(question, text) == expected
    if not expected[1]:
        assert validate(question, cell_text(question, expected[0])) == expected


@pytest.mark.skipif(not FORMS.is_dir(), reason="the real XLSForms are not here")
@pytest.mark.parametrize("name", _real_forms())
def test_every_real_form_loads_or_is_refused_as_pyxform_refuses_it(name: str) -> None:
    row = next(r for r in _manifest() if r["file"] == name)
    path = FORMS / name
    if row["pyxform_ok"] == "no":
        with pytest.raises(TemplateError) as refused:
            load_xlsform(path)
        assert REFUSED[name] in str(refused.value)
        return
    questionnaire, _ = load_xlsform(path)
    assert questionnaire.questions


@pytest.mark.skipif(not FORMS.is_dir(), reason="the real XLSForms are not here")
def test_real_xls_forms_load_with_their_questions() -> None:
    mch, _ = load_xlsform(FORMS / "kc_mch_v1.xls")
    assert mch.question("beneficiary").type == "select_one"
    eats, warnings = load_xlsform(FORMS / "kc_good_eats_multilang.xls")
    assert eats.languages == ("en", "fr")
    assert "choices row 4: no list_name; left out" in warnings
    widgets, _ = load_xlsform(FORMS / "pyx_widgets.xls")
    assert {"my_select", "my_select1"} <= {q.name for q in widgets.questions}
    every, _ = load_xlsform(FORMS / "correlaid_all_types.xlsx")
    assert {q.name: q.type for q in every.questions if q.name in (
        "q_time", "q_datetime", "q_rank", "q_rank_other_other")} == {
        "q_time": "time", "q_datetime": "datetime", "q_rank": "rank",
        "q_rank_other_other": "text"}
    assert every.question("q_rank_other").choice_names()[-1] == "other"


@pytest.mark.slow
@pytest.mark.parametrize("large_print", [False, True], ids=["standard", "large-print"])
def test_new_types_read_back_as_simulated(types_form: Path, tmp_path: Path,
                                          large_print: bool) -> None:
    built = build_forms(types_form, 3, tmp_path / "form", Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(large_print=large_print))
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=5)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    layout = built.layout
    read = read_back(batch, layout)
    right = 0
    for copy, response in zip(layout.copies, truth, strict=True):
        for name in ("arrived", "left", "favourites", "score", "consent", "town", "where"):
            expected = truth_value(response["answers"][name])
            value, flagged = read[(copy.serial, name)]
            if layout.questionnaire.question(name).is_choice:  # tick boxes: read, not guessed
                assert (value, flagged) == (expected, False), name
            else:  # cells: right, or sent to a person, never wrong unflagged
                assert value == expected or flagged, (name, value, expected)
            right += value == expected and not flagged
    assert right >= 19  # of 21: a cell now and then goes to a person


def test_external_choices_and_allowed_duplicates(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "external.xlsx", {
        "survey": [["type", "name", "label", "choice_filter"],
                   ["select_one size", "size", "Which size?", None],
                   ["select_one_external district", "district", "Which district?",
                    "size = ${size}"],
                   ["select_one ${size}", "again", "Which size again?", None]],
        "choices": [["list_name", "name", "label"], ["size", "s", "Small"],
                    ["size", "s", "Small again"], ["size", "l", "Large"]],
        "external_choices": [["list_name", "name", "label"], ["district", "d1", "Riverside"],
                             ["district", "d2", "Hillside"]],
        "settings": [["form_id", "allow_choice_duplicates"], ["external", "yes"]],
    })
    questionnaire, warnings = load_xlsform(path)
    assert questionnaire.question("district").choice_names() == ("d1", "d2")
    assert questionnaire.question("size").choice_names() == ("s", "l")
    assert warnings == [
        "choices row 3: 's' is already a choice of list 'size'; printed once",
        "survey row 3 (district): choice_filter 'size = ${size}' is not applied on paper: all "
        "the choices are printed",
        "survey row 4 (again): type 'select_one ${size}' cannot be printed; left out"]


def test_new_types_survive_the_layout_json(types_form: Path) -> None:
    from pipeline.model import Questionnaire
    questionnaire, _ = load_xlsform(types_form)
    again = Questionnaire.from_dict(json.loads(json.dumps(questionnaire.to_dict())))
    assert again == questionnaire
    assert [q.type for q in again.questions][:6] == ["time", "datetime", "rank", "text",
                                                     "range", "acknowledge"]


def test_pyxform_messages_are_put_on_their_sheet_and_row() -> None:
    from pipeline.forms.xlsform_check import _message
    text = ("[row : 7] On the 'choices' sheet, the 'name' value is invalid. Choice names must be "
            "unique for each choice list. Learn more: https://xlsform.org/#choice-names.\n"
            "[row : 3] Question with no type.\n{'name': 'b', 'label': 'B'}\n"
            "[row : 8] On the 'choices' sheet, the 'name' value is invalid.\n"
            "[row : 9] On the 'choices' sheet, the 'name' value is invalid.")
    assert _message(text) == (
        "choices row 7: the 'name' value is invalid. Choice names must be unique for each "
        "choice list; survey row 3: Question with no type; choices row 8: the 'name' value "
        "is invalid (and 1 more like it)")


def test_a_rank_of_more_than_nine_choices_has_two_cells_each() -> None:
    from pipeline.model import Choice, Label
    choices = tuple(Choice(f"c{n}", Label.of(f"C{n}")) for n in range(12))
    question = Question("q", "rank", Label.of("Q"), choices=choices)
    order = "c3 c0 c11 c5 c1 c2 c4 c6 c7 c8 c9 c10"
    written = cell_text(question, order)
    assert question.rank_digits == 2
    assert written[:8] == " 2 5 6 1"  # c0 second, c1 fifth, c2 sixth, c3 first
    assert validate(question, written) == (order, "")


@pytest.mark.parametrize(("form_id", "made"), [
    ("Enquête ménages 2024", "Enquete_menages_2024"), ("2024 survey", "form_2024_survey"),
    ("???", "form")])
def test_a_form_id_that_is_not_an_identifier_is_made_one(tmp_path: Path, form_id: str,
                                                          made: str) -> None:
    path = _write_xlsx(tmp_path / "f.xlsx", {
        "survey": [["type", "name", "label"], ["text", "a", "A"]],
        "settings": [["form_id", "form_title"], [form_id, "Ménages"]]})
    questionnaire, warnings = load_xlsform(path)
    assert (questionnaire.id, questionnaire.title.text()) == (made, "Ménages")
    assert f"the form key uses '{made}'" in warnings[0]


def test_a_rank_or_range_longer_than_a_page_goes_on_over_the_next(tmp_path: Path) -> None:
    """A rank of 60 long choices and a range of 200 values split between choices (or rows of
    boxes) under the question's number and "(continued)", like any other list."""
    choices = "\n".join(f"| | aspects | a{n} | Aspect number {n} of the service, described at some "
                        "length so that it takes two lines in large print |" for n in range(60))
    path = tmp_path / "long.md"
    path.write_text(f"""
| survey |
| | type | name | label | parameters |
| | rank aspects | order | Put these in order of importance | |
| | range | score | How many, from 1 to 200? | start=1 end=200 step=1 |
| choices |
| | list_name | name | label |
{choices}
""", encoding="utf-8")
    questionnaire = load_questionnaire(path).questionnaire
    plan = plan_form(questionnaire, LayoutOptions(large_print=True))
    fields = [(page.page, f) for page in plan.layout.pages for f in page.fields]
    order = [f.value for _, f in fields if f.question == "order"]
    assert order == [f"a{n}" for n in range(60) for _ in range(2)]  # two cells each, in order
    assert [f.value for _, f in fields if f.question == "score"] == [str(n) for n in range(1, 201)]
    layouts = plan.layout.pages
    continued = [page for before, page in pairwise(layouts)
                 if page.fields and page.fields[0].question in {f.question for f in before.fields}]
    assert {page.fields[0].question for page in continued} == {"order", "score"}
    for page in continued:  # each part after the first says what it continues
        texts = [op.text for op in plan.pages[page.page - 1].ops if isinstance(op, TextOp)]
        assert any(t.endswith("(continued)") for t in texts), page.page
