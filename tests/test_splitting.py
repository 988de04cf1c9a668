"""Questions too long for a page: split between choices, rows or lines, and read back whole."""

from __future__ import annotations

import json
from dataclasses import astuple
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.dataset.build import combine_channels
from pipeline.errors import TemplateError
from pipeline.forms.blocks import TextOp
from pipeline.forms.layout import LayoutOptions, plan_form
from pipeline.forms.sources import load_questionnaire
from pipeline.model import Grid
from pipeline.programs.poppler import rasterise_page
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings, read_page
from pipeline.records import PageRef, PaperAnswer
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.store.answer_table import PAPER_COLUMNS
from pipeline.workspace import Workspace

from .geometry import assert_printable, grid_columns

SCALE = [("strongly_agree", "Strongly agree", "Cytuno'n gryf"), ("agree", "Agree", "Cytuno"),
         ("neither", "Neither", "Y naill na'r llall"), ("disagree", "Disagree", "Anghytuno"),
         ("strongly_disagree", "Strongly disagree", "Anghytuno'n gryf")]


def long_template(tmp_path: Path, label_chars: int = 3_000) -> Path:
    """A bilingual form with a 300-choice question (in columns, longer than a page even so), a
    60-row grid, a long note and a label of one word longer than a page."""
    def both(en: str, cy: str) -> dict[str, str]:
        return {"en": en, "cy": cy}

    template = {
        "id": "long_lists", "version": "1", "languages": ["en", "cy"],
        "title": both("Where you live", "Ble rydych chi'n byw"),
        "items": [
            {"name": "ward", "type": "select_one",
             "label": both("Which ward do you live in?", "Ym mha ward ydych chi'n byw?"),
             "choices": [{"name": f"ward_{n:03d}", "label": both(f"Ward {n}", f"Ward {n}")}
                         for n in range(1, 301)]},
            {"note": both(" ".join(["The council wants to hear about every street."] * 120),
                          " ".join(["Mae'r cyngor eisiau clywed am bob stryd."] * 120))},
            {"grid": "streets", "label": both("How safe do you feel in each street?",
                                              "Pa mor ddiogel ydych chi'n teimlo?"),
             "choices": [{"name": n, "label": both(en, cy)} for n, en, cy in SCALE],
             "rows": [{"name": f"street_{n:02d}",
                       "label": both(f"Street number {n}", f"Stryd rhif {n}")}
                      for n in range(1, 61)]},
            {"name": "services", "type": "select_multiple",
             "label": both("Which services have you used?", "Pa wasanaethau?"),
             "choices": [{"name": f"service_{n:02d}", "label": both(f"Service {n}",
                                                                    f"Gwasanaeth {n}")}
                         for n in range(1, 41)]},
            {"name": "one_word", "type": "select_one",
             "label": both("W" * label_chars, "G" * label_chars),
             "choices": [{"name": "yes", "label": both("Yes", "Ie")},
                         {"name": "no", "label": both("No", "Na")}]},
        ],
    }
    path = tmp_path / "long_lists.yaml"
    path.write_text(yaml.safe_dump(template, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("large_print", [False, True], ids=["standard", "large-print"])
def test_a_form_of_long_lists_prints_split_and_every_box_in_its_place(
        tmp_path: Path, large_print: bool) -> None:
    questionnaire = load_questionnaire(long_template(tmp_path, 10_000)).questionnaire
    plan = plan_form(questionnaire, LayoutOptions(("en", "cy"), large_print))
    assert_printable(plan)
    fields = [(p.page, f) for p in plan.layout.pages for f in p.fields]
    ward = [f.value for _, f in fields if f.question == "ward"]
    assert ward == [f"ward_{n:03d}" for n in range(1, 301)]  # every choice once, in order
    assert len({f.box[0] for _, f in fields if f.question == "ward"}) == (3 if large_print else 4)
    ward_pages = sorted({page for page, f in fields if f.question == "ward"})
    assert len(ward_pages) >= 2
    for page in ward_pages[1:]:  # each continuation says what it continues
        texts = [op.text for op in plan.pages[page - 1].ops if isinstance(op, TextOp)]
        assert "1." in texts
        assert any(t.startswith("Which ward") and t.endswith("(continued)") for t in texts)
        assert any(t.endswith("(parhad)") for t in texts)
    grid = next(item for item in questionnaire.items if isinstance(item, Grid))
    columns = grid_columns(plan, grid)
    assert len(columns) == 60 and len(set(columns.values())) == 1
    grid_pages = sorted({page for page, f in fields if f.question.startswith("street_")})
    assert len(grid_pages) >= 2
    for page in grid_pages:  # the scale's header over the rows of every page
        texts = {op.text for op in plan.pages[page - 1].ops if isinstance(op, TextOp)}
        # numbered in both: at 11 pt, the header's size in clear print, the two languages'
        # labels do not fit their columns, so each point has a number and a line of the key
        assert {"1", "2", "3", "4", "5"} <= texts, (page, sorted(texts)[:20])
        assert "1 = Strongly agree / Cytuno'n gryf" in texts
    assert any("WWWWWWWW" in w for w in plan.warnings)  # the long word, broken, is reported


def test_a_form_of_long_lists_reads_back_as_the_simulator_filled_it(tmp_path: Path) -> None:
    built = build_forms(long_template(tmp_path), 2, tmp_path / "form",
                        Workspace.resolve(tmp_path / "ws"),
                        LayoutOptions(("en", "cy"), large_print=True))
    layout = built.layout
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=5)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    answers: list[PaperAnswer] = []
    for index in range(1, batch.pages + 1):
        image = rasterise_page(batch.pdf_path, index, 200)
        result = read_page(image, PageRef("0" * 64, "scans.pdf", index),
                           {layout.form_key: layout}, ReaderSettings())
        assert result.outcome == "identified"
        answers.extend(PaperAnswer(result.form_key, result.serial, result.page, a.question,
                                   a.value, a.confidence, a.needs_review, a.reason,
                                   f"scans.pdf p{index}", "2027-01-01T00:00:00")
                       for a in result.answers)
    frame = combine_channels(answers, [], layout.questionnaire,
                             {layout.form_key: layout}).frame.set_index("respondent_ref")
    split = {a.question for a in answers if a.page > 1} & {a.question for a in answers
                                                            if a.page == 1}
    assert "ward" in split  # the 300 choices begin on page 1 and go on
    for copy, response in zip(layout.copies, truth, strict=True):
        row = frame.loc[copy.serial]
        for question in layout.questionnaire.questions:
            expected = truth_value(response["answers"][question.name])
            assert row[question.name] == expected, (copy.serial, question.name)
        assert row["_needs_review"] == ""


def paper_rows(rows: list[tuple[int, str, str, bool]]) -> list[PaperAnswer]:
    return [PaperAnswer("long_lists-v1-0123456789", "000001", page, question, value, 0.95,
                        flagged, "ambiguous: unsure" if flagged else "", f"post.pdf p{page}",
                        "2027-01-01T00:00:00") for page, question, value, flagged in rows]


def test_a_choice_question_on_two_pages_reads_as_one_answer(tmp_path: Path) -> None:
    questionnaire = load_questionnaire(long_template(tmp_path)).questionnaire
    answers = paper_rows([(1, "ward", "ward_003", False), (2, "ward", "", False),
                          (2, "services", "service_02", False),
                          (3, "services", "service_30 service_02", False),
                          (3, "one_word", "yes", False), (4, "one_word", "no", False)])
    frame = combine_channels(answers, [], questionnaire).frame
    row = frame.iloc[0]
    assert row["ward"] == "ward_003"  # one tick on page 1, none on page 2: that answer
    assert row["services"] == "service_02 service_30"
    assert row["one_word"] == ""  # a single choice ticked on two pages: for a person
    assert row["_needs_review"] == "one_word"
    assert list(PAPER_COLUMNS) == list(pd.DataFrame([astuple(answers[0])],
                                                    columns=list(PAPER_COLUMNS)).columns)


def test_a_grid_row_longer_than_a_page_splits_between_the_lines_of_its_label(
        tmp_path: Path) -> None:
    path = long_template(tmp_path)
    template = yaml.safe_load(path.read_text())
    template["items"][2]["rows"][7]["label"] = {"en": "Street " * 1_400, "cy": "Stryd " * 1_400}
    path.write_text(yaml.safe_dump(template, allow_unicode=True))
    questionnaire = load_questionnaire(path).questionnaire
    plan = plan_form(questionnaire, LayoutOptions(("en", "cy")))
    assert_printable(plan)
    pages_of_row = [page for page, drawn in zip(plan.layout.pages, plan.pages, strict=True)
                    if any(isinstance(op, TextOp) and op.text.startswith("Street Street")
                           for op in drawn.ops)]
    assert len(pages_of_row) >= 2  # its label goes on over pages
    boxes = [f for p in plan.layout.pages for f in p.fields if f.question == "street_08"]
    assert {p.page for p in plan.layout.pages if any(f in p.fields for f in boxes)} == {
        pages_of_row[0].page}  # its boxes beside its first line


def scale_template(tmp_path: Path, points: list[str]) -> Path:
    template = {
        "id": "scales", "version": "1", "title": "Scales",
        "items": [
            {"name": "rating", "type": "select_one", "horizontal": True,
             "label": "How likely are you to recommend the library?",
             "choices": [{"name": f"p{n}", "label": text} for n, text in enumerate(points)]},
            {"grid": "aspects", "label": "How would you rate each of these?",
             "choices": [{"name": f"p{n}", "label": text} for n, text in enumerate(points)],
             "rows": [{"name": f"aspect_{n}", "label": f"Aspect {n}"} for n in range(1, 6)]},
        ],
    }
    path = tmp_path / "scales.yaml"
    path.write_text(yaml.safe_dump(template), encoding="utf-8")
    return path


def rows_of_boxes(plan_fields: list[tuple[float, float, str]]) -> list[list[tuple[float, str]]]:
    """(top, left, value) -> the boxes line by line, each line left to right."""
    lines: dict[float, list[tuple[float, str]]] = {}
    for top, left, value in plan_fields:
        lines.setdefault(round(top, 1), []).append((left, value))
    return [sorted(lines[top]) for top in sorted(lines)]


def test_a_scale_too_wide_for_a_line_keeps_its_boxes_in_columns(tmp_path: Path) -> None:
    """An eleven-point scale in large print: the horizontal question in aligned columns, in
    order; the grid lists the scale under each row, in the same places on every row."""
    points = ["0 Not at all likely", *(str(n) for n in range(1, 10)), "10 Extremely likely"]
    questionnaire = load_questionnaire(scale_template(tmp_path, points)).questionnaire
    plan = plan_form(questionnaire, LayoutOptions(large_print=True))
    assert_printable(plan)
    rating = [(f.box[1], f.box[0], f.value or "") for p in plan.layout.pages for f in p.fields
              if f.question == "rating"]
    lines = rows_of_boxes(rating)
    assert len(lines) >= 2  # not one line: it does not fit
    assert [v for line in lines for _, v in line] == [f"p{n}" for n in range(11)]  # in order
    lefts = [left for left, _ in lines[0]]
    for line in lines[1:]:  # every line's boxes in the first line's columns
        assert [left for left, _ in line] == lefts[:len(line)]
    grid = next(item for item in questionnaire.items if isinstance(item, Grid))
    columns = grid_columns(plan, grid)
    assert len(columns) == 5 and len(set(columns.values())) == 1
    standard = plan_form(questionnaire)  # in standard print: fewer lines, the same order
    rating = [(f.box[1], f.box[0], f.value or "") for p in standard.layout.pages
              for f in p.fields if f.question == "rating"]
    standard_lines = rows_of_boxes(rating)
    assert [len(line) for line in standard_lines] == [4, 4, 3]  # at clear print's 12 pt
    assert [v for line in standard_lines for _, v in line] == [f"p{n}" for n in range(11)]
    for line in standard_lines[1:]:
        assert [left for left, _ in line] == [left for left, _ in standard_lines[0]][:len(line)]
    assert_printable(standard)


def test_a_scale_too_long_even_numbered_is_listed_alike_under_every_row(tmp_path: Path) -> None:
    points = [f"Level {n}" for n in range(1, 21)]
    questionnaire = load_questionnaire(scale_template(tmp_path, points)).questionnaire
    plan = plan_form(questionnaire, LayoutOptions(large_print=True))
    assert_printable(plan)
    grid = next(item for item in questionnaire.items if isinstance(item, Grid))
    assert len(set(grid_columns(plan, grid).values())) == 1
    for row in grid.rows:
        boxes = [(f.box[1], f.box[0], f.value or "") for p in plan.layout.pages
                 for f in p.fields if f.question == row.name]
        lines = rows_of_boxes(boxes)
        assert len(lines) >= 2  # listed: the scale does not fit across
        assert [v for line in lines for _, v in line] == [f"p{n}" for n in range(20)]
        texts = [op.text for p in plan.pages for op in p.ops if isinstance(op, TextOp)]
        assert texts.count("Level 20") == 1 + len(grid.rows)  # the question's, and each row's


def test_a_comb_longer_than_a_line_goes_on_below_in_order(tmp_path: Path) -> None:
    path = tmp_path / "comb.yaml"
    path.write_text(yaml.safe_dump({"id": "comb", "version": "1", "title": "Comb", "items": [
        {"name": "reference", "type": "text", "label": "Your reference", "cells": 40}]}))
    questionnaire = load_questionnaire(path).questionnaire
    for large_print in (False, True):
        plan = plan_form(questionnaire, LayoutOptions(large_print=large_print))
        assert_printable(plan)
        cells = [f for p in plan.layout.pages for f in p.fields]
        assert [f.index for f in cells] == list(range(40))
        tops = sorted({round(f.box[1], 1) for f in cells})
        assert len(tops) >= 2  # on more than one line
        reading_order = sorted(cells, key=lambda f: (round(f.box[1], 1), f.box[0]))
        assert [f.index for f in reading_order] == list(range(40))


def test_a_piece_no_page_could_hold_is_named_with_what_to_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On pages this short (a stand-in for a label longer than any page) one choice and the
    question's continuation heading no longer fit: the message names the question."""
    from pipeline.forms import layout

    monkeypatch.setattr(layout, "LATER_ROOM", 40.0)
    questionnaire = load_questionnaire(long_template(tmp_path)).questionnaire
    with pytest.raises(TemplateError) as caught:
        plan_form(questionnaire, LayoutOptions(("en",)))
    message = str(caught.value)
    assert message.startswith("template long_lists: question 1 (ward) cannot be printed: a "
                              "piece of it that cannot be split over pages needs ")
    assert message.endswith("pages: shorten the label of its longest choice, or put the "
                            "explanation in a note")
    assert not any(word in message for word in ("Flowable", "frame", "0x"))


def test_a_writing_area_under_a_label_longer_than_a_page_prints(tmp_path: Path) -> None:
    path = tmp_path / "long_text.yaml"
    path.write_text(yaml.safe_dump({"id": "long_text", "version": "1", "title": "Long", "items": [
        {"name": "first", "type": "select_one", "label": "Do you agree?",
         "choices": [{"name": "yes", "label": "Yes"}, {"name": "no", "label": "No"}]},
        {"name": "story", "type": "text", "lines": 12,
         "label": " ".join(["Tell us what happened, in your own words."] * 200)}]}))
    questionnaire = load_questionnaire(path).questionnaire
    for large_print in (False, True):
        plan = plan_form(questionnaire, LayoutOptions(large_print=large_print))
        assert_printable(plan)
        areas = [f for p in plan.layout.pages for f in p.fields if f.question == "story"]
        lines = sum(round((f.box[3] - f.box[1]) / plan.style.line) for f in areas)
        assert lines == 12  # every line of writing printed once, whatever the pages
        texts = [op.text for p in plan.pages for op in p.ops if isinstance(op, TextOp)]
        words = [w for t in texts if not t.endswith("(continued)") for w in t.split()]
        assert words.count("words.") == 200  # the whole label, once, over its pages
