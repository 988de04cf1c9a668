"""Real XLSForms that other people wrote, printed in every variant they carry.

The forms sit in ../shared/xlsforms/forms (copied from public ODK, Kobo, SurveyCTO and Ona
repositories, with their sources in its README); they stay outside this repository. Which forms
pyxform reads is asked of pyxform itself, so a form added there is held to the same rule. The
slow test prints every variant (standard and large print; each language alone and all together)
and checks every page: answer boxes inside the printable area, clear of the marks, the code and
each other; every printed word inside the margins and outside the tick boxes and cells; every
page code decoding at 200 dpi.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

from flows.cli import main
from pipeline.forms.layout import plan_form
from pipeline.forms.sources import load_questionnaire
from pipeline.review.keying import check_entry, key_fields, keyed_value

from .conftest import PROJECT
from .printed_geometry import (
    box_problems,
    code_problems,
    print_one_copy,
    text_problems,
    variant_name,
    variants,
)

CORPUS = PROJECT.parent / "shared" / "xlsforms" / "forms"
FORMS = sorted(p for p in CORPUS.glob("*") if p.suffix in (".xlsx", ".xls", ".csv", ".md")) \
    if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(not FORMS, reason="the shared XLSForms are not beside this "
                                                    "checkout (../shared/xlsforms)")
# pyxform refuses types it does not know (SurveyCTO's caseid, old Kobo spellings) although the
# platform that wrote the form accepts them; papertwin leaves such a row out with a warning, as
# it does every type that cannot be answered on paper, and prints the rest.
TOLERATED = "Unknown question type"


def pyxform_error(path: Path) -> str:
    """What pyxform says when it refuses the form, "" when it reads it."""
    try:
        convert(xlsform=str(path), validate=False)
    except PyXFormError as exc:
        return str(exc)
    return ""


def printable(path: Path) -> bool:
    error = pyxform_error(path)
    return not error or error.startswith(TOLERATED)


@needs_corpus
@pytest.mark.parametrize("form", [p for p in FORMS if not printable(p)], ids=lambda p: p.name)
def test_forms_pyxform_refuses_are_refused_naming_sheet_and_row(
        form: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--workspace", str(tmp_path / "ws"), "forms", "build", str(form), "--copies",
                 "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 3, err
    assert re.search(r"\b(survey|choices|settings) row \d+", err), err  # the sheet and row
    assert "Traceback" not in err and "PyXFormError" not in err and "pyxform." not in err
    assert not (tmp_path / "out" / "form.pdf").exists()


@pytest.mark.slow
@needs_corpus
@pytest.mark.parametrize("form", [p for p in FORMS if printable(p)], ids=lambda p: p.name)
def test_every_readable_form_prints_in_every_variant(form: Path, tmp_path: Path) -> None:
    questionnaire = load_questionnaire(form).questionnaire
    problems: list[str] = []
    for options in variants(questionnaire):
        plan = plan_form(questionnaire, options, f"template {form}")
        pdf = tmp_path / f"{variant_name(options)}.pdf"
        copy = print_one_copy(plan, pdf)
        found = (box_problems(plan.layout) + text_problems(pdf, plan.layout)
                 + code_problems(pdf, plan.layout, copy))
        answered = {f.question for page in plan.layout.pages for f in page.fields}
        missing = {q.name for q in questionnaire.questions} - answered
        if missing:
            found.append(f"no box for {sorted(missing)[:5]}")
        problems += [f"{variant_name(options)}: {p}" for p in found[:10]]
    assert problems == []


@needs_corpus
@pytest.mark.parametrize("form", [p for p in FORMS if printable(p)], ids=lambda p: p.name)
def test_every_readable_form_can_be_keyed_in_each_of_its_languages(form: Path) -> None:
    """Keyed entry (a phoned-in answer, a return typed in) on the forms people write: every
    question is offered in printed order in each language, a blank entry is valid, the first
    choice keyed as "1" is that choice, and a whole number keyed as a word is refused."""
    questionnaire = load_questionnaire(form).questionnaire
    names = [q.name for q in questionnaire.questions]
    for lang in questionnaire.languages:
        fields = key_fields(questionnaire, lang)
        assert [f.name for f in fields] == names
        assert all(f.label for f in fields), [f.name for f in fields if not f.label]
    assert check_entry(questionnaire, {}).problems == {}
    choices = {q.name: q.choices[0].name for q in questionnaire.questions
               if q.is_choice and q.type != "rank" and q.choices}
    keyed = check_entry(questionnaire, dict.fromkeys(choices, "1"))
    assert keyed.problems == {}
    assert {n: v for n, v in keyed.answers.items() if n in choices} == {
        n: c for n, c in choices.items() if n not in keyed.skipped}
    for q in questionnaire.questions:
        if q.type == "integer":
            assert keyed_value(q, "many")[1], q.name
