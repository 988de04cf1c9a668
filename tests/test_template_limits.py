"""Template limits: a zip bomb, a runaway file or an over-long text is refused with a clear error
(exit code 3) before it can exhaust the machine, and nothing a template says makes the layout fail
inside reportlab or print beyond the page."""

from __future__ import annotations

import io
import time
from dataclasses import fields
from pathlib import Path

import openpyxl
import pytest
import yaml
from pyxform.xls2json_backends import xls_to_dict

from pipeline.cli import main
from pipeline.errors import ExitCode, TemplateError
from pipeline.forms.limits import DEFAULT_LIMITS, TemplateLimits, check_sheets, read_limited
from pipeline.forms.sources import load_questionnaire

PROJECT = Path(__file__).resolve().parent.parent
REAL_XLSFORMS = PROJECT.parent / "shared" / "xlsforms"
needs_real_xlsforms = pytest.mark.skipif(
    not (REAL_XLSFORMS / "forms").is_dir(),
    reason="the real XLSForms are not beside this checkout (../shared/xlsforms)")

MIB = 1024 * 1024


# Running papertwin as a user does


def _build(template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`papertwin forms build` in this process: exit code and what it printed on stderr."""
    code = main(["forms", "build", str(template), "--copies", "1", "--out",
                 str(tmp_path / "form"), "--workspace", str(tmp_path / "workspace")])
    return code, capsys.readouterr().err


# Every format: the file size, then the shape of the raw file


def _yaml_form(tmp_path: Path, data: object, name: str = "form.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _question(name: str, label: str, choices: int | str = 2,
              **extra: object) -> dict[str, object]:
    """A single-choice question with `choices` choices, or on the named choice list."""
    listed = choices if isinstance(choices, str) else [
        {"name": f"c{i}", "label": f"Choice {i}"} for i in range(choices)]
    return {"name": name, "type": "select_one", "label": label, "choices": listed, **extra}


def _form(*items: dict[str, object]) -> dict[str, object]:
    return {"id": "limits", "title": "Limits", "items": list(items)}


def _md_form(tmp_path: Path, label: str, hint: str = "") -> Path:
    path = tmp_path / "form.md"
    path.write_text("| survey |\n| | type | name | label | hint |\n"
                    f"| | select_one yn | agree | {label} | {hint} |\n"
                    "| choices |\n| | list_name | name | label |\n| | yn | yes | Yes |\n"
                    "| | yn | no | No |\n", encoding="utf-8")
    return path


def _csv_form(tmp_path: Path, label: str, choices: int = 2) -> Path:
    rows = ["survey,type,name,label", f",select_one yn,agree,{label}",
            "choices,list_name,name,label"]
    rows += [f",yn,c{i},Choice {i}" for i in range(choices)]
    path = tmp_path / "form.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _xlsx_form(tmp_path: Path, label: str) -> Path:
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    survey.append(["select_one yn", "agree", label])
    choices = workbook.create_sheet("choices")
    for row in (["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]):
        choices.append(row)
    path = tmp_path / "form.xlsx"
    workbook.save(path)
    return path


def _quexml_form(tmp_path: Path, label: str) -> Path:
    path = tmp_path / "form.xml"
    categories = "".join(f"<category><label>{text}</label><value>{value}</value></category>"
                         for value, text in (("1", "Yes"), ("2", "No")))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<questionnaire id="7"><title>T'
                    f"</title><section><question><text>{label}</text><response varName="
                    f'"agree"><fixed>{categories}</fixed></response></question></section>'
                    "</questionnaire>", encoding="utf-8")
    return path


FORMATS = {
    "yaml": lambda tmp_path, label: _yaml_form(tmp_path, _form(_question("agree", label))),
    "md": _md_form,
    "csv": _csv_form,
    "xlsx": _xlsx_form,
    "xml": _quexml_form,
}


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_is_held_to_the_file_size_limit(tmp_path: Path, kind: str) -> None:
    path = FORMATS[kind](tmp_path, "Do you agree?")
    assert load_questionnaire(path).questionnaire.questions[0].name == "agree"
    size = path.stat().st_size
    with pytest.raises(TemplateError) as raised:
        load_questionnaire(path, TemplateLimits(file_bytes=size - 1))
    assert str(raised.value) == (
        f"template {path} is {size:,} bytes; papertwin reads a template of at most {size - 1:,} "
        "bytes (file size limit): is it the right file? A questionnaire is far smaller (save a "
        "workbook without pictures or sheets the form does not use)")


def test_a_runaway_file_is_refused_unread_at_the_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id: huge\ntitle: Huge\nitems: []\n")
        for _ in range(11):
            handle.write("#" + " " * (MIB - 2) + "\n")
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"huge\.yaml is 11\.0 MiB; papertwin reads a template "
                       r"of at most 10\.0 MiB \(file size limit\)"):
        load_questionnaire(path)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_is_held_to_the_label_limit(tmp_path: Path, kind: str) -> None:
    path = FORMATS[kind](tmp_path, "Do you agree with the plan?")
    with pytest.raises(TemplateError) as raised:
        load_questionnaire(path, TemplateLimits(label_chars=20))
    assert str(raised.value).startswith(f"template {path}: question 1 (")
    assert str(raised.value).endswith(
        "its label has 27 characters; papertwin prints at most 20 characters per label (label "
        "length limit): shorten it, or split it: a long explanation can go in notes of its own")


def test_a_hint_is_held_to_the_hint_limit(tmp_path: Path) -> None:
    path = _md_form(tmp_path, "Do you agree?", hint="Tick the box that fits best.")
    with pytest.raises(TemplateError, match=r"question 1 \(agree\): its hint has 28 characters; "
                       r"papertwin prints at most 10 characters per hint \(hint length limit\): "
                       "shorten it, or put the explanation in a note before the question"):
        load_questionnaire(path, TemplateLimits(hint_chars=10))


def test_a_sheet_of_too_many_rows_is_refused_before_it_is_interpreted(tmp_path: Path) -> None:
    path = _csv_form(tmp_path, "Where do you live?", choices=DEFAULT_LIMITS.sheet_rows + 1)
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"form\.csv: the choices sheet has 50,001 rows; "
                       r"papertwin reads at most 50,000 rows per sheet \(sheet rows limit\)"):
        load_questionnaire(path)
    assert time.monotonic() - started < 10.0


def test_a_workbook_of_too_many_cells_is_refused(tmp_path: Path) -> None:
    path = _csv_form(tmp_path, "Where do you live?", choices=40)
    with pytest.raises(TemplateError, match=r"the workbook has 123 filled cells; papertwin reads "
                       r"at most 100 \(cells limit\)"):
        load_questionnaire(path, TemplateLimits(cells=100))


def test_yaml_aliases_that_multiply_a_file_are_refused(tmp_path: Path) -> None:
    """A YAML "billion laughs": nine lines standing for a billion values."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "laughs.yaml"
    path.write_text("id: laughs\ntitle: Laughs\nchoice_lists:\n"
                    + "".join(f"  {line}\n" for line in lines)
                    + "items:\n  - {name: q, type: select_one, label: Q, choices: *a8}\n")
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"laughs\.yaml: its aliases \(\*name\) stand for "
                       r"[\d,]{13} values; papertwin reads at most 500,000 values in a template "
                       r"\(cells limit\)"):
        load_questionnaire(path)
    assert time.monotonic() - started < 2.0


def test_a_yaml_alias_inside_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("id: loop\ntitle: Loop\nitems: &items\n  - {note: A note}\n  - *items\n")
    with pytest.raises(TemplateError, match="refers to a part of the template that contains it"):
        load_questionnaire(path)


def test_a_quexml_file_of_too_many_elements_is_refused(tmp_path: Path) -> None:
    path = _quexml_form(tmp_path, "Do you agree?")
    with pytest.raises(TemplateError, match=r"form\.xml has 13 XML elements; papertwin reads at "
                       r"most 10 \(cells limit\)"):
        load_questionnaire(path, TemplateLimits(cells=10))


# The loaded questionnaire, whatever its format


def test_too_many_items_are_refused(tmp_path: Path) -> None:
    path = _yaml_form(tmp_path, _form(*[_question(f"q{i}", f"Question {i}") for i in range(6)]))
    with pytest.raises(TemplateError, match=r"form\.yaml has 6 questions, notes and headings; "
                       r"papertwin prints at most 5 \(items limit\): split it"):
        load_questionnaire(path, TemplateLimits(items=5))


def test_a_list_of_too_many_choices_is_refused_naming_the_question(tmp_path: Path) -> None:
    path = _yaml_form(tmp_path, _form(_question("age", "How old are you?"),
                                      _question("district", "Where do you live?", choices=5_001)))
    with pytest.raises(TemplateError, match=r"form\.yaml: question 2 \(district\) has 5,001 "
                       r"choices; papertwin prints at most 5,000 per question \(choices per list "
                       r"limit\): split the list over several questions"):
        load_questionnaire(path)


def test_too_many_tick_boxes_in_all_are_refused(tmp_path: Path) -> None:
    data = _form(*[_question(f"q{i}", f"Question {i}", choices="big") for i in range(5)])
    data["choice_lists"] = {"big": [{"name": f"c{i}", "label": f"C{i}"} for i in range(5_000)]}
    path = _yaml_form(tmp_path, data)
    with pytest.raises(TemplateError, match=r"has 25,000 tick boxes .*; papertwin prints at most "
                       r"20,000 \(choices limit\)"):
        load_questionnaire(path)


# Finding: long labels ran off the page or failed inside reportlab


def test_a_2000_word_label_is_refused_by_the_label_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    label = " ".join(["consultation"] * 2_000)
    path = _yaml_form(tmp_path, _form(_question("long_label", label)))
    code, err = _build(path, tmp_path, capsys)
    assert code == ExitCode.TEMPLATE
    assert err.strip() == (
        f"papertwin: template {path}: question 1 (long_label): its label has 25,999 characters; "
        "papertwin prints at most 10,000 characters per label (label length limit): shorten it, "
        "or split it: a long explanation can go in notes of its own")



# Real forms stay far inside every limit


HALF_LIMITS = TemplateLimits(**{f.name: getattr(DEFAULT_LIMITS, f.name) // 2
                                for f in fields(TemplateLimits)})


@needs_real_xlsforms
@pytest.mark.slow
def test_real_xlsforms_stay_within_half_of_every_limit() -> None:
    """Eighteen XLSForms written for ODK, Kobo, SurveyCTO and Ona: at half of every default,
    each still loads, or fails for a reason of its own (an .xls file, a duplicate choice), never
    a limit. The .xls sheets, which papertwin does not read yet, are measured too."""
    forms = sorted((REAL_XLSFORMS / "forms").iterdir())
    assert len(forms) == 18
    loaded = 0
    for form in forms:
        data = read_limited(form, HALF_LIMITS.file_bytes)
        if form.suffix == ".xls":
            check_sheets(xls_to_dict(io.BytesIO(data)), str(form), HALF_LIMITS)
            continue
        try:
            load_questionnaire(form, HALF_LIMITS)
        except TemplateError as error:
            assert "limit)" not in str(error), form
        else:
            loaded += 1
    assert loaded >= 9


def test_the_limits_are_documented_with_their_defaults() -> None:
    text = (PROJECT / "docs" / "template-format.md").read_text(encoding="utf-8")
    for limit in fields(TemplateLimits):
        value = getattr(DEFAULT_LIMITS, limit.name)
        shown = f"{value // MIB} MiB" if value >= MIB and value % MIB == 0 else f"{value:,}"
        row = next((line for line in text.splitlines()
                    if line.startswith(f"| `{limit.name}` |")), "")
        assert row.split("|")[2].strip() == shown, limit.name
