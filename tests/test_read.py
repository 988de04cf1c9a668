"""Reading single pages: orientation, identification outcomes, and tick-box decisions."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.forms.build import BuiltForm
from pipeline.programs.poppler import rasterise_page
from pipeline.read.answers import choice_answer
from pipeline.read.page import ReaderSettings, read_page
from pipeline.read.tickbox import classify_fill
from pipeline.records import BoxResult, PageRef
from pipeline.simulate.returns import SimulatedBatch
from pipeline.workspace import Workspace

REF = PageRef("0" * 64, "batch.pdf", 1)


@pytest.fixture(scope="module")
def first_page(simulated: SimulatedBatch) -> np.ndarray:
    return rasterise_page(simulated.pdf_path, 1, 200)


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_a_page_fed_sideways_or_upside_down_reads_the_same(
    first_page: np.ndarray, built: tuple[Workspace, BuiltForm], quarter_turns: int
) -> None:
    _, form = built
    layouts = {form.layout.form_key: form.layout}
    upright = read_page(first_page, REF, layouts, ReaderSettings())
    turned = read_page(np.ascontiguousarray(np.rot90(first_page, quarter_turns)), REF, layouts,
                       ReaderSettings())
    assert upright.outcome == turned.outcome == "identified"
    assert (turned.serial, turned.page) == ("000001", 1)
    assert turned.rotation == 90 * (4 - quarter_turns)
    assert [(a.question, a.value) for a in turned.answers] == [
        (a.question, a.value) for a in upright.answers
    ]
    assert turned.alignment_quality > 0.9


def test_a_page_of_an_unregistered_form_is_not_read(first_page: np.ndarray,
                                                    built: tuple[Workspace, BuiltForm]) -> None:
    _, form = built
    result = read_page(first_page, REF, {}, ReaderSettings())
    assert result.outcome == "unknown_form"
    assert result.form_key == form.layout.form_key
    assert result.answers == ()


def test_blank_and_markless_pages_have_their_reason() -> None:
    blank = np.full((2339, 1654), 250, dtype=np.uint8)
    assert read_page(blank, REF, {}, ReaderSettings()).outcome == "blank"
    letter = blank.copy()
    letter[300:2000:40, 200:1400] = 20  # lines of "text", no corner marks
    result = read_page(letter, REF, {}, ReaderSettings())
    assert result.outcome == "not_a_form"
    assert result.reason == ("no corner marks and no page code: an enclosed letter or another "
                             "document, kept for a person")


@pytest.mark.parametrize(
    ("fill", "state", "sure"),
    [(0.0, "empty", True), (0.01, "empty", True), (0.05, "empty", False),
     (0.07, "marked", False), (0.2, "marked", True), (0.5, "marked", True),
     (0.74, "marked", False), (0.95, "cancelled", True)],
)
def test_box_states_and_confidence(fill: float, state: str, sure: bool) -> None:
    reading = classify_fill(fill)
    assert reading.state == state
    assert (reading.confidence >= 0.8) is sure


def box(value: str, state: str, confidence: float = 1.0) -> BoxResult:
    return BoxResult("q", value, state, 0.0, confidence)


def test_single_choice_logic() -> None:
    one = choice_answer("q", False, [box("a", "marked"), box("b", "empty")], 0.8)
    assert (one.value, one.needs_review) == ("a", False)
    blank = choice_answer("q", False, [box("a", "empty"), box("b", "empty")], 0.8)
    assert (blank.value, blank.needs_review) == ("", False)
    corrected = choice_answer("q", False, [box("a", "cancelled"), box("b", "marked")], 0.8)
    assert (corrected.value, corrected.needs_review) == ("b", False)
    two = choice_answer("q", False, [box("a", "marked"), box("b", "marked")], 0.8)
    assert (two.value, two.needs_review) == ("", True)
    assert (two.reason, two.flag) == ("ambiguous: 2 marked (a b)", "ambiguous")
    unsure = choice_answer("q", False, [box("a", "marked", 0.6), box("b", "empty")], 0.8)
    assert (unsure.value, unsure.needs_review) == ("", True)


def test_multiple_choice_logic() -> None:
    some = choice_answer("q", True, [box("a", "marked"), box("b", "empty"), box("c", "marked")],
                         0.8)
    assert (some.value, some.needs_review) == ("a c", False)


def test_fat_crosses_faint_pencil_and_cancellations() -> None:
    fat_cross = classify_fill(0.85, side_fill=0.2)
    assert (fat_cross.state, fat_cross.confidence) == ("marked", 1.0)
    filled_in = classify_fill(0.9, side_fill=0.95)
    assert filled_in.state == "cancelled" and filled_in.confidence >= 0.8
    pencil = classify_fill(0.01, faint=0.08)
    assert pencil.state == "empty" and pencil.confidence < 0.8  # goes to a person
    assert classify_fill(0.01, faint=0.0).confidence == 1.0


def test_a_faint_ring_around_a_box_goes_to_a_person() -> None:
    # Ink around b on every side, but too little to be sure it is a ring and not a neighbour's
    # stroke (over RING_INK, under RING_READ): a person decides (a clear ring is read:
    # tests/test_reading_checks.py; a thin pen's ring inked 11-15 %: tests/test_noisy_boxes.py).
    boxes = [BoxResult("q", v, "empty", 0.0, 1.0, s)
             for v, s in (("a", 0.01), ("b", 0.10), ("c", 0.03), ("d", 0.0))]
    answer = choice_answer("q", False, boxes, 0.8)
    assert (answer.value, answer.needs_review) == ("", True)
    assert answer.reason == "ringed: a ring drawn around b: circled instead of ticked?"
    assert answer.flag == "ringed"


def test_a_dithered_scan_reads_the_same_choices(simulated: SimulatedBatch,
                                                built: tuple[Workspace, BuiltForm]) -> None:
    """Sheet feeders in "halftone" mode scan grey as a pattern of black dots (error diffusion):
    the paper's noise and the scanner's grey become specks that must not read as marks."""
    from PIL import Image

    _, form = built
    layouts = {form.layout.form_key: form.layout}
    for number in (1, 2):
        grey = rasterise_page(simulated.pdf_path, number, 300)
        dithered = np.asarray(Image.fromarray(grey).convert("1"), dtype=np.uint8) * 255
        assert set(np.unique(dithered)) == {0, 255}
        assert 0.001 < float(np.mean((dithered == 0) & (grey > 128))) < 0.2  # dots in the grey
        clean = read_page(grey, REF, layouts, ReaderSettings())
        read = read_page(dithered, REF, layouts, ReaderSettings())
        assert read.outcome == clean.outcome == "identified"
        choices = {q.name for q in form.layout.questionnaire.questions if q.is_choice}
        assert [(a.question, a.value, a.needs_review) for a in read.answers
                if a.question in choices] == [(a.question, a.value, a.needs_review)
                                              for a in clean.answers if a.question in choices]
