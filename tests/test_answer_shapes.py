"""Cells shaped like the answer: postcodes in postcode cells, numbers in as many digit cells as
their constraint allows; read back and checked; and the simulator writes what fits them."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline import postcode
from pipeline.errors import TemplateError
from pipeline.forms.answer_shapes import postcode_pattern
from pipeline.forms.constraint import Bounds, read_constraint
from pipeline.forms.layout import plan_form
from pipeline.forms.template_xlsform import load_xlsform
from pipeline.forms.template_yaml import load_template
from pipeline.model import Label, Question, Questionnaire
from pipeline.publish import build_forms
from pipeline.read.cells import validate
from pipeline.simulate import values
from pipeline.simulate.answers import cell_text, choose_answers
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.workspace import Workspace

from .reading_back import read_back

POSTCODE_REGEX = "regex(., '^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$')"
HEADER = ("type", "name", "label::English (en)", "label::Cymraeg (cy)", "hint", "constraint",
          "papertwin::cells")


def _xlsform(path: Path, rows: list[tuple[str, ...]]) -> Path:
    """A pyxform markdown XLSForm of survey `rows` (HEADER's columns)."""
    lines = ["| survey |", "| | " + " | ".join(HEADER) + " |"]
    lines += ["| | " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    lines += ["", "| settings |", "| | form_id | version |", "| | shapes | 1 |", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _one(tmp_path: Path, qtype: str, constraint: str = "", cells: str = "", name: str = "q",
         label: str = "A question", welsh: str = "", hint: str = "") -> Question:
    path = _xlsform(tmp_path / "form.md", [(qtype, name, label, welsh, hint, constraint, cells)])
    questionnaire, _ = load_xlsform(path)
    return questionnaire.question(name)


@pytest.mark.parametrize(("constraint", "cells"), [
    (". <= 110", 3),
    (". >= 0 and . <= 99", 2),
    (". > 0 and . < 1000", 3),
    (". < 100", 2),
    (". <= 100", 3),
    ("${q} >= 18 and ${q} <= 120", 3),
    ("0 <= . and 9 >= .", 1),
    ("(. >= 1) and (. <= 12345)", 5),
    (". >= 16 and . <= 110 and . != 50", 3),
    (". >= 1 and . <= 7 and string-length(.) < 3", 1),
    (". >= -10 and . <= 50", 6),  # a cell holds no minus sign: the default
    (". >= 0", 6),  # no upper bound: the default
    (". >= 0 or . <= 99", 6),  # either: no bound
    (". * 2 < 100", 6),  # arithmetic this parser does not follow: the default
    ("", 6),
])
def test_integer_cells_from_the_constraints_bounds(tmp_path: Path, constraint: str,
                                                   cells: int) -> None:
    assert _one(tmp_path, "integer", constraint).cells == cells


@pytest.mark.parametrize(("constraint", "hint", "cells", "decimals"), [
    (". >= 0 and . <= 99.5", "", 3, 1),  # bounds written to one place
    (". >= 35.0 and . <= 42.0", "", 3, 1),
    (". > 0 and . < 1000", "", 5, 2),  # 999.99
    (". <= 100", "Weight to one decimal place", 4, 1),
    (". <= 100", "to 3 decimal places", 6, 3),
    (". <= 10", "to the nearest 0.01", 4, 2),
    (r"regex(., '^\d+(\.\d)?$') and . < 50", "", 3, 1),
    ("", "", 8, 2),
])
def test_decimal_cells_and_places(tmp_path: Path, constraint: str, hint: str, cells: int,
                                  decimals: int) -> None:
    question = _one(tmp_path, "decimal", constraint, hint=hint)
    assert (question.cells, question.decimals) == (cells, decimals)


def test_bounds_as_parsed() -> None:
    assert read_constraint(". > 0 and . < 1000").bounds == Bounds(
        Decimal(0), False, Decimal(1000), False)
    assert read_constraint("${age} <= 110 and 18 <= ${age}", "age").bounds == Bounds(
        Decimal(18), True, Decimal(110), True)
    assert read_constraint("${other} <= 5", "age").bounds == Bounds()  # not this answer
    # as a person reads them when a keyed or read number is outside them
    assert [read_constraint(c, "age").bounds.said() for c in (
        ". > 0 and . < 1000", "${age} <= 110 and 18 <= ${age}", ". <= 110", ". >= 0.5",
        "${other} <= 5")] == ["more than 0 and less than 1000", "from 18 to 110", "at most 110",
                              "at least 0.5", "no limit"]
    assert read_constraint(POSTCODE_REGEX).patterns == (
        "^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$",)


@pytest.mark.parametrize(("pattern", "is_postcode"), [
    ("^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", True),
    ("[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", True),  # no anchors
    (r"(?i)^[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}$", True),  # Java's case flag, \d, \s
    ("^[A-Za-z]{1,2}[0-9Rr][0-9A-Za-z]?[0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}$", True),  # no space
    (r"^([A-Z]{1,2}\d{1,2}[A-Z]?) (\d[A-Z]{2})$", True),
    ("^([Gg][Ii][Rr] 0[Aa]{2})|((([A-Za-z][0-9]{1,2})|(([A-Za-z][A-Ha-hJ-Yj-y][0-9]{1,2})"
     "|(([A-Za-z][0-9][A-Za-z])|([A-Za-z][A-Ha-hJ-Yj-y][0-9][A-Za-z]?))))\\s?[0-9][A-Za-z]{2})$",
     True),  # the government's own
    ("^[A-Za-z0-9 ]{5,8}$", False),  # takes 12345 too
    ("^[A-Z]{1,2}[0-9]{1,2}$", False),  # an outward code alone
    ("^[0-9]{5}$", False),
    ("^[A-Z", False),  # not a pattern at all
])
def test_postcode_patterns_are_told_by_what_they_match(pattern: str, is_postcode: bool) -> None:
    assert postcode_pattern(pattern) is is_postcode


@pytest.mark.parametrize(("name", "label", "welsh", "constraint"), [
    ("home", "Where do you live?", "", POSTCODE_REGEX),
    ("postcode", "Where do you live?", "", ""),
    ("q2", "Your post code", "", ""),
    ("post_code_work", "Where do you work?", "", ""),
    ("q3", "Where do you live?", "Beth yw eich cod post?", ""),
])
def test_a_postcode_question_prints_postcode_cells(tmp_path: Path, name: str, label: str,
                                                   welsh: str, constraint: str) -> None:
    question = _one(tmp_path, "text", constraint, name=name, label=label, welsh=welsh)
    assert (question.shape, question.cells, question.charset) == ("postcode", 7, "alphanumeric")
    layout = plan_form(Questionnaire("f", "1", Label.of("F"), (question,))).layout
    fields = [f for page in layout.pages for f in page.fields]
    assert [(f.kind, f.index) for f in fields] == [("char", i) for i in range(7)]
    steps = [b.box[0] - a.box[2] for a, b in pairwise(fields)]
    # the outward code's four cells, then a gap a cell wide, then the inward code's three
    width = fields[0].box[2] - fields[0].box[0]
    assert steps[:3] == pytest.approx([0, 0, 0], abs=0.02)
    assert steps[4:] == pytest.approx([0, 0], abs=0.02)
    assert steps[3] == pytest.approx(width, abs=0.02)


def test_a_pattern_that_is_no_postcode_wins_over_the_name(tmp_path: Path) -> None:
    question = _one(tmp_path, "text", "regex(., '^[A-Z]{1,2}[0-9]{1,2}$')", name="postcode")
    assert (question.shape, question.cells) == ("", 0)  # a writing area, as before


def test_papertwin_cells_overrides_the_shape(tmp_path: Path) -> None:
    assert _one(tmp_path, "integer", ". <= 110", cells="5").cells == 5
    assert _one(tmp_path, "decimal", ". <= 100", cells="6").decimals == 2
    boxed = _one(tmp_path, "text", POSTCODE_REGEX, cells="0")
    assert (boxed.shape, boxed.cells, boxed.uses_cells) == ("", 0, False)  # a writing area
    wider = _one(tmp_path, "text", name="postcode", cells="8")
    assert (wider.shape, wider.cells) == ("postcode", 8)
    with pytest.raises(TemplateError, match=r"survey row 2 \(postcode\): a postcode needs 7 "
                                             "cells or more"):
        _one(tmp_path, "text", name="postcode", cells="6")


def test_yaml_questions_take_the_same_shapes(tmp_path: Path) -> None:
    path = tmp_path / "form.yaml"
    path.write_text("""
id: shapes
title: Shapes
items:
  - {name: postcode, type: text, label: "What is your postcode?"}
  - {name: age, type: integer, label: "How old are you?", constraint: ". <= 110"}
  - {name: boxed_postcode, type: text, label: "Postcode", cells: 0}
""", encoding="utf-8")
    questionnaire = load_template(path)
    assert questionnaire.question("postcode").shape == "postcode"
    assert questionnaire.question("age").cells == 3
    assert questionnaire.question("boxed_postcode").cells == 0
    again = Questionnaire.from_dict(json.loads(json.dumps(questionnaire.to_dict())))
    assert again == questionnaire


def _postcode_question(cells: int = 7) -> Question:
    return Question("postcode", "text", Label.of("Postcode"), cells=cells, shape="postcode",
                    charset="alphanumeric")


@pytest.mark.parametrize(("cells", "expected"), [
    ("SW1A1AA", ("SW1A 1AA", "")),
    ("M1  1AE", ("M1 1AE", "")),  # the outward code's empty cells are no part of it
    ("  M11AE", ("M1 1AE", "")),
    ("DN551PT", ("DN55 1PT", "")),
    ("AB12   ", ("AB12", "failed validation: not a UK postcode")),
    ("HELLO12", ("HELL O12", "failed validation: not a UK postcode")),
])
def test_postcode_cells_read_as_a_postcode(cells: str, expected: tuple[str, str]) -> None:
    assert validate(_postcode_question(), cells) == expected


def test_numbers_outside_their_bounds_go_to_a_person() -> None:
    age = Question("age", "integer", Label.of("Age"), cells=3, constraint=". <= 110")
    assert validate(age, " 45") == ("45", "")
    assert validate(age, "145") == (
        "145", "failed validation: 145 is outside the question's limits (at most 110: . <= 110)")
    weight = Question("w", "decimal", Label.of("W"), cells=4, decimals=1,
                      constraint=". > 0 and . < 300")
    assert validate(weight, " 725") == ("72.5", "")
    assert validate(weight, " 000")[1].startswith("failed validation: 0.0 is outside")


def _fitting_questionnaire() -> Questionnaire:
    items = (
        _postcode_question(),
        Question("age", "integer", Label.of("How old are you?"), cells=3,
                 constraint=". <= 110"),
        Question("children", "integer", Label.of("Children under 16"), cells=1,
                 constraint=". >= 0 and . <= 9"),
        Question("visits", "integer", Label.of("Visits last year"), cells=3,
                 constraint=". > 0 and . < 1000"),
        Question("weight", "decimal", Label.of("Weight in kg"), cells=4, decimals=1,
                 constraint=". > 30 and . < 250"),
        Question("dob", "date", Label.of("Your date of birth"), cells=8),
        Question("visited_on", "date", Label.of("When did you last visit?"), cells=8),
        Question("arrived", "time", Label.of("What time did you arrive?"), cells=4),
        Question("left", "datetime", Label.of("When did you leave?"), cells=12),
    )
    return Questionnaire("fit", "1", Label.of("Fit"), items)


def test_simulated_answers_fit_their_questions() -> None:
    questionnaire = _fitting_questionnaire()
    rng = np.random.default_rng(7)
    seen: dict[str, list[str]] = {}
    for _ in range(300):
        for name, value in choose_answers(questionnaire, rng).items():
            if value is not None:
                seen.setdefault(name, []).append(value)
    assert all(len(found) > 200 for found in seen.values())  # few left blank
    assert all(postcode.is_postcode(p) for p in seen["postcode"])
    assert len(set(seen["postcode"])) > 250
    ages = [int(a) for a in seen["age"]]
    assert min(ages) >= 18 and max(ages) <= 90 and len(set(ages)) > 50
    assert {int(c) for c in seen["children"]} <= set(range(10))
    assert all(0 < int(v) < 1000 for v in seen["visits"])
    assert all(30 < float(w) < 250 and len(w.split(".")[1]) == 1 for w in seen["weight"])
    today = datetime.date(2026, 11, 30)
    births = [datetime.date.fromisoformat(d) for d in seen["dob"]]
    assert all((today - born).days >= 18 * 365 for born in births)
    assert all(datetime.date.fromisoformat(d) < today for d in seen["visited_on"])
    assert all(datetime.datetime.fromisoformat(d) < datetime.datetime(2026, 11, 30)
               for d in seen["left"])
    assert all(0 <= int(t[:2]) <= 23 and 0 <= int(t[3:]) <= 59 for t in seen["arrived"])
    for question in questionnaire.questions:  # each answer fits the cells printed for it
        for value in seen[question.name]:
            written = cell_text(question, value)
            assert len(written) <= question.cells, (question.name, value)
            assert validate(question, written.ljust(question.cells)) == (value, ""), value


def test_simulated_answers_keep_their_seed() -> None:
    questionnaire = _fitting_questionnaire()
    first = choose_answers(questionnaire, np.random.default_rng(3))
    assert choose_answers(questionnaire, np.random.default_rng(3)) == first


@pytest.mark.slow
def test_postcodes_read_back_and_a_non_postcode_waits_for_a_person(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None) -> None:
    from flows.ingest import ingest_batch
    from pipeline.dataset.export import export_dataset
    from pipeline.registry import register_layout

    form = _xlsform(tmp_path / "shapes.md", [
        ("text", "home", "Where do you live?", "", "", POSTCODE_REGEX, ""),
        ("text", "work_postcode", "Where do you work?", "", "", "", ""),
        ("integer", "age", "How old are you?", "", "", ". <= 110", ""),
    ])
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    built = build_forms(form, 4, tmp_path / "form", workspace)
    fields = [f for page in built.layout.pages for f in page.fields]
    for name, count in (("home", 7), ("work_postcode", 7), ("age", 3)):
        assert [f.index for f in fields if f.question == name and f.kind == "char"] == list(
            range(count))
    written = iter(["AB12", *(["CF24 3AA", "L8 9EQ", "SW1A 1AA", "DN55 1PT"] * 2)])
    monkeypatch.setattr(values, "postcode_value", lambda rng: next(written))
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=2)
    truth: list[dict[str, Any]] = json.loads(batch.truth_path.read_text())["responses"]
    answers = {r["serial"]: r["answers"] for r in truth}
    first = built.layout.copies[0].serial
    assert answers[first]["home"] == "AB12"

    read = read_back(batch, built.layout)
    right = 0
    for serial, given in answers.items():
        for name in ("home", "work_postcode"):
            value, flagged = read[(serial, name)]
            if given[name] == "AB12":
                assert (value, flagged) == ("AB12", True)
                continue
            # a postcode, upper case, its space in place: right, or sent to a person (a cell
            # the two reads disagree on), never wrong unflagged
            assert value == truth_value(given[name]) or flagged, (serial, name, value)
            right += value == truth_value(given[name]) and not flagged
    assert right >= 5  # of 7: now and then a cell goes to a person (5 at this seed)
    register_layout(workspace, built.layout)
    ingest_batch([batch.pdf_path], workspace)
    export_dataset(workspace, tmp_path / "dataset.csv")
    frame = pd.read_csv(tmp_path / "dataset.csv", dtype=str,
                        keep_default_na=False).set_index("respondent_ref")
    assert "home" in frame.loc[first, "_needs_review"].split()
    for serial, given in answers.items():
        if serial != first:
            assert (frame.loc[serial, "home"] == truth_value(given["home"])
                    or "home" in frame.loc[serial, "_needs_review"].split())
