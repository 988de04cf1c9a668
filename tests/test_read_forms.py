"""Reading back what the richer forms print: grids, 'please specify', cells, and long text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.forms.layout import LayoutOptions
from pipeline.programs.poppler import rasterise_page
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings, read_page
from pipeline.records import PageRef
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.textdistance import edit_distance
from pipeline.workspace import Workspace

from .conftest import PROJECT


@pytest.mark.parametrize("large_print", [False, True], ids=["standard", "large-print"])
def test_town_centre_returns_read_back(tmp_path: Path, large_print: bool) -> None:
    built = build_forms(PROJECT / "form_templates" / "town_centre.yaml", 2, tmp_path / "form",
                        Workspace.resolve(tmp_path / "ws"), LayoutOptions(large_print=large_print))
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=3)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    layout = built.layout
    questionnaire = layout.questionnaire
    per_copy = len(layout.pages)
    read: dict[tuple[str, str], tuple[str, bool, str]] = {}
    for index in range(1, batch.pages + 1):
        image = rasterise_page(batch.pdf_path, index, 200)
        result = read_page(image, PageRef("0" * 64, "scans.pdf", index),
                           {layout.form_key: layout}, ReaderSettings())
        assert result.outcome == "identified"
        assert (result.serial, result.page) == (layout.copies[(index - 1) // per_copy].serial,
                                                (index - 1) % per_copy + 1)
        for answer in result.answers:
            key = (result.serial, answer.question)
            if key in read:  # a text continued on the next page
                value = f"{read[key][0]} {answer.value}".strip()
                read[key] = (value, read[key][1] or answer.needs_review, read[key][2])
            else:
                read[key] = (answer.value, answer.needs_review, answer.reason)
    chars = errors = 0
    for copy, response in zip(layout.copies, truth, strict=True):
        for question in questionnaire.questions:
            expected = truth_value(response["answers"][question.name])
            value, flagged, reason = read[(copy.serial, question.name)]
            if question.is_choice:
                assert (value, flagged) == (expected, False), (question.name, reason)
            elif question.uses_cells:
                assert value == expected or flagged, (question.name, value, expected)
                if flagged:
                    assert reason  # a flag always says why
            else:
                chars += len(expected)
                errors += edit_distance(value, expected)
    assert chars > 0 and errors / chars < 0.10
