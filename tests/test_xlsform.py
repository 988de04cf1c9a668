"""XLSForm templates: the town centre consultation as an XLSForm prints as its YAML does."""

from __future__ import annotations

import csv
from io import BytesIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pyxform.xls2json_backends import md_to_dict
from pyxform.xls2xform import convert

from pipeline.errors import TemplateError
from pipeline.forms.sources import load_questionnaire
from pipeline.forms.template_xlsform import load_xlsform
from pipeline.forms.template_yaml import load_template
from pipeline.model import Grid, Note, Questionnaire, Section

ROOT = Path(__file__).resolve().parent.parent
XLSFORM = ROOT / "form_templates" / "town_centre_xlsform.md"
YAML = ROOT / "form_templates" / "town_centre.yaml"
SHEETS = ("survey", "choices", "settings")


def _sheets(md: Path) -> dict[str, list[list[str]]]:
    """The md workbook as sheets of rows, the header first: what a spreadsheet would hold."""
    book: dict[str, Any] = md_to_dict(BytesIO(md.read_bytes()))
    sheets = {}
    for name in SHEETS:
        header = list(book[f"{name}_header"][0])
        sheets[name] = [header] + [[row.get(h, "") for h in header] for row in book[name]]
    return sheets


def _write_xlsx(md: Path, target: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in _sheets(md).items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append([value or None for value in row])
    workbook.save(target)
    return target


def _write_csv(md: Path, target: Path) -> Path:
    """pyxform's CSV layout: a sheet name alone in column one, then its rows from column two."""
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for name, rows in _sheets(md).items():
            writer.writerow([name])
            writer.writerows(["", *row] for row in rows)
    return target


def _write_md(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def xlsform() -> Questionnaire:
    questionnaire, warnings = load_xlsform(XLSFORM)
    assert warnings == []
    return questionnaire


def test_pyxform_converts_the_xlsform_to_an_online_form() -> None:
    result = convert(xlsform=str(XLSFORM), validate=False)
    assert result.warnings == []
    assert '<data id="town_centre" version="2">' in result.xform
    assert '<translation lang="Cymraeg (cy)">' in result.xform
    # the postal settings and the Welsh title, in papertwin:: columns, do not stop it
    bus = convert(xlsform=str(ROOT / "form_templates" / "bus_network_xlsform.md"), validate=False)
    assert '<data id="bus_network" version="2026-11">' in bus.xform


def test_a_translated_form_title_prints_but_warns_that_pyxform_cannot_convert_it(
        tmp_path: Path) -> None:
    text = XLSFORM.read_text(encoding="utf-8").replace(
        "papertwin::title::Cymraeg (cy)", "form_title::Cymraeg (cy)")
    form = tmp_path / "town_centre.md"
    form.write_text(text, encoding="utf-8")
    questionnaire, warnings = load_xlsform(form)
    assert questionnaire.title.text("cy") == "Cynllun canol tref Millbrook: dweud eich dweud"
    assert any("papertwin::title::Language" in w for w in warnings)


def test_xlsform_has_the_questions_of_the_yaml(xlsform: Questionnaire) -> None:
    yaml = load_template(YAML)
    assert [q.name for q in xlsform.questions] == [q.name for q in yaml.questions]
    assert len(xlsform.questions) == 18
    for ours, theirs in zip(xlsform.questions, yaml.questions, strict=True):
        assert ours.type == theirs.type, ours.name
        assert ours.choice_names() == theirs.choice_names(), ours.name
        assert ours.label.text("en") == theirs.label.text("en"), ours.name
        assert ours.hint.text("en") == theirs.hint.text("en"), ours.name
        assert [c.label.text("en") for c in ours.choices] == [
            c.label.text("en") for c in theirs.choices], ours.name
        layout = ("lines", "cells", "charset", "horizontal", "grid", "other_of")
        assert {k: getattr(ours, k) for k in layout} == {k: getattr(theirs, k) for k in layout}
        if ours.name != "travel_mode_other":  # the YAML links it with other_of instead
            assert ours.relevant == theirs.relevant, ours.name
    assert xlsform.question("travel_mode_other").relevant == "selected(${travel_mode}, 'other')"
    assert [type(i).__name__ for i in xlsform.items].count("Section") == 4
    assert [i.label.text("en") for i in xlsform.items if isinstance(i, Section)] == [
        "Your visits to the town centre", "The proposals", "About you", "Anything else"]
    assert (xlsform.id, xlsform.version) == (yaml.id, yaml.version)
    assert xlsform.title.text("en") == yaml.title.text("en")


def test_xlsform_routes_like_the_yaml() -> None:
    ours = load_questionnaire(XLSFORM)
    theirs = load_questionnaire(YAML)
    assert ours.warnings == theirs.warnings == ()
    for q, t in zip(ours.questionnaire.questions, theirs.questionnaire.questions, strict=True):
        assert [(c.name, c.route_to) for c in q.choices] == [
            (c.name, c.route_to) for c in t.choices], q.name
    routes = {(q.name, c.name): c.route_to for q in ours.questionnaire.questions
              for c in q.choices if c.route_to}
    assert routes == {("visit_frequency", "never"): "proposals",
                      ("heard_before", "no"): "priorities"}


def test_english_and_welsh(xlsform: Questionnaire) -> None:
    assert xlsform.languages == ("en", "cy")
    assert xlsform.question("visit_frequency").label.text("cy") == (
        "Pa mor aml ydych chi'n ymweld â chanol tref Millbrook?")
    assert xlsform.question("age").hint.text("cy") == (
        "Ysgrifennwch eich oed mewn blynyddoedd, un digid ym mhob blwch.")
    assert xlsform.question("travel_mode").choices[0].label.to_json() == {
        "en": "On foot", "cy": "Ar droed"}
    assert xlsform.question("disability").choices[1].label.text("cy") == "Nac oes"
    section = next(i for i in xlsform.items if isinstance(i, Section))
    assert section.label.to_json() == {"en": "Your visits to the town centre",
                                       "cy": "Eich ymweliadau â chanol y dref"}
    note = next(i for i in xlsform.items if isinstance(i, Note))
    assert note.label.text("cy").startswith("Mae pum rhan i'r cynllun.")
    for question in xlsform.questions:
        assert question.label.languages() == ("en", "cy"), question.name
        for choice in question.choices:
            assert choice.label.languages() == ("en", "cy"), (question.name, choice.name)


def test_grid_and_please_specify(xlsform: Questionnaire) -> None:
    grid = next(i for i in xlsform.items if isinstance(i, Grid))
    assert grid.name == "proposals"
    assert grid.label.text("en") == "How strongly do you support or oppose each part of the plan?"
    assert grid.hint.to_json() == {"en": "Please tick one box in each row.",
                                   "cy": "Ticiwch un blwch ym mhob rhes."}
    assert [r.name for r in grid.rows] == ["pedestrian_high_street", "market_square",
                                           "station_road_car_park", "cycle_lanes", "library_move"]
    assert [c.name for c in grid.choices] == ["strongly_support", "support", "neutral", "oppose",
                                              "strongly_oppose", "dont_know"]
    assert all(r.grid == "proposals" and r.choices == grid.choices for r in grid.rows)
    assert not grid.multiple
    assert "proposals_header" not in [q.name for q in xlsform.questions]
    assert xlsform.question("travel_mode_other").other_of == "travel_mode"


@pytest.mark.parametrize("write", [_write_xlsx, _write_csv], ids=["xlsx", "csv"])
def test_xlsx_and_csv_load_to_the_same_questionnaire(
    write: Any, tmp_path: Path, xlsform: Questionnaire
) -> None:
    suffix = ".xlsx" if write is _write_xlsx else ".csv"
    path = write(XLSFORM, tmp_path / f"town_centre{suffix}")
    questionnaire, warnings = load_xlsform(path)
    assert warnings == []
    assert questionnaire == xlsform
    assert load_questionnaire(path).questionnaire == load_questionnaire(XLSFORM).questionnaire


def test_unprintable_rows_are_left_out_with_warnings(tmp_path: Path) -> None:
    path = _write_md(tmp_path, "field_visit.md", """
| survey |
| | type | name | label | calculation |
| | text | first | First question | |
| | geopoint | location | Where are you? | |
| | image | photo | A photo of the site | |
| | start | started | | |
| | calculate | score | | 1 + 1 |
| | select_one yes_no | last | Last question | |
| choices |
| | list_name | name | label |
| | yes_no | yes | Yes |
| | yes_no | no | No |
""")
    questionnaire, warnings = load_xlsform(path)
    assert [q.name for q in questionnaire.questions] == ["first", "last"]
    assert questionnaire.id == "field_visit"
    assert questionnaire.version == "1"
    assert questionnaire.languages == ("en",)
    assert questionnaire.question("last").choices[1].label.to_json() == {"en": "No"}
    assert warnings == [
        "survey row 3 (location): type 'geopoint' cannot be printed; left out",
        "survey row 4 (photo): type 'image' cannot be printed; left out",
    ]
    assert list(load_questionnaire(path).warnings) == warnings


def test_or_other_languages_without_codes_and_appearances(tmp_path: Path) -> None:
    path = _write_md(tmp_path, "travel.md", """
| survey |
| | type | name | label::English | label::Welsh | appearance | relevant |
| | select_one transport or_other | transport | How did you come? | Sut daethoch chi? | columns | |
| | text | notes | Anything else? | Unrhyw beth arall? | multiline | ${transport} = 'bus' |
| choices |
| | list_name | name | label::English | label::Welsh |
| | transport | bus | Bus | Bws |
| | transport | car | Car | Car |
| settings |
| | form_id | version | default_language |
| | travel | 3 | English |
""")
    questionnaire, warnings = load_xlsform(path)
    assert warnings == []
    assert (questionnaire.id, questionnaire.version, questionnaire.languages) == (
        "travel", "3", ("en", "cy"))
    transport = questionnaire.question("transport")
    assert transport.choice_names() == ("bus", "car", "other")
    assert transport.choices[2].label.to_json() == {"en": "Other", "cy": "Arall"}
    assert transport.horizontal
    other = questionnaire.question("transport_other")
    assert (other.other_of, other.type, other.label.text("en")) == (
        "transport", "text", "Other: please specify")
    assert [q.name for q in questionnaire.questions] == ["transport", "transport_other", "notes"]
    notes = questionnaire.question("notes")
    assert (notes.lines, notes.relevant) == (6, "${transport} = 'bus'")
    routed = load_questionnaire(path).questionnaire.question("transport")
    assert [(c.name, c.route_to) for c in routed.choices] == [
        ("bus", ""), ("car", "__end__"), ("other", "__end__")]


def test_missing_choice_list_names_the_row(tmp_path: Path) -> None:
    path = _write_md(tmp_path, "colours.md", """
| survey |
| | type | name | label |
| | text | first | First question |
| | select_one colours | colour | Favourite colour? |
| choices |
| | list_name | name | label |
| | yes_no | yes | Yes |
| | yes_no | no | No |
""")
    with pytest.raises(TemplateError, match=r"colours\.md: survey row 3 \(colour\): no choice "
                                            r"list named 'colours'"):
        load_xlsform(path)


@pytest.mark.parametrize(("rows", "message"), [
    ("| | begin group | part | Part one |\n| | text | a | A |\n",
     r"survey row 2 \(part\): 'begin group' has no 'end group'"),
    ("| | text | a | A |\n| | end group | | |\n",
     r"survey row 3 \(no name\): 'end group' without a 'begin group'"),
    ("| | text | a | A |\n| | integer | a | Again |\n",
     r"survey row 3 \(a\): the name 'a' is already used in survey row 2"),
    ("| | text | | No name |\n", r"survey row 2 \(no name\): a 'text' row needs a name"),
])
def test_bad_survey_rows_are_refused_naming_the_row(
    rows: str, message: str, tmp_path: Path
) -> None:
    path = _write_md(tmp_path, "bad.md", "| survey |\n| | type | name | label |\n" + rows)
    with pytest.raises(TemplateError, match=message):
        load_xlsform(path)


def test_bad_papertwin_hint_is_refused_naming_the_row(tmp_path: Path) -> None:
    path = _write_md(tmp_path, "hints.md", """
| survey |
| | type | name | label | papertwin::cells | papertwin::charset |
| | text | ref | Reference | 8 | capitals |
| | integer | count | How many? | lots | |
""")
    with pytest.raises(TemplateError, match=r"survey row 3 \(count\): papertwin::cells must be "
                                            r"a whole number 0-40, not 'lots'"):
        load_xlsform(path)


def test_a_file_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(TemplateError, match=r"broken\.xlsx is not a readable XLSForm"):
        load_xlsform(path)
    with pytest.raises(TemplateError, match="does not exist"):
        load_xlsform(tmp_path / "missing.md")
