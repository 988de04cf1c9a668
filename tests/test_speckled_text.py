"""Handwriting read through a dirty drum's speckle, and past a frame a fold has bent: the
writing, not the specks or the frame.

The speckle is drawn here as a drum leaves it on a grey scan (clusters of grey dots, some dark,
in bands), with a generator of the test's own so that the page is the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from pipeline.forms.style import STANDARD
from pipeline.programs.tesseract import OcrWord
from pipeline.read.register import ink_threshold
from pipeline.read.text import (
    _without_speckle_lines,
    only_short_doubts,
    read_text_box,
    speckled,
    without_streaks,
)
from pipeline.simulate.pen import Pen, find_handwriting_font, write_text
from pipeline.textdistance import edit_distance

DPI = 200
SCALE = DPI / 72.0
BOX = (20.0, 20.0, 480.0, 110.0)  # points: a free-text box four lines high
WRITING = "Please keep the library open on Saturdays"
BALLPOINT = Pen((20, 20, 20), 3)


def page_with_box(text: str, pen: Pen = BALLPOINT,
                  box: tuple[float, float, float, float] = BOX) -> np.ndarray:
    page = np.full((round(140 * SCALE), round(500 * SCALE), 3), 255, np.uint8)
    x0, y0, x1, y1 = (round(v * SCALE) for v in box)
    cv2.rectangle(page, (x0, y0), (x1, y1), (0, 0, 0), 1)
    if text:
        inside = (x0 + 12, y0 + 12, x1 - 12, y1 - 12)
        page, rest = write_text(page, inside, text, find_handwriting_font(),
                                round(STANDARD.line * SCALE), pen, np.random.default_rng(3))
        assert not rest
    return np.asarray(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), np.uint8)


def drum_speckle(grey: np.ndarray, seed: int, shades: tuple[int, int] = (40, 170)) -> np.ndarray:
    """Bands of grey dot clusters down and across the page, a few dots as dark as ink."""
    rng = np.random.default_rng(seed)
    out = grey.astype(np.int16)
    height, width = grey.shape
    for _ in range(60):
        cx, cy = int(rng.integers(width)), int(rng.integers(height))
        if rng.random() < 0.5:  # the drum's bands: clusters lined up along a row or column
            cy = int(rng.choice([60, 120, 180, 240]))
        for _ in range(int(rng.integers(20, 80))):
            x = int(np.clip(cx + rng.normal(0, 8), 0, width - 2))
            y = int(np.clip(cy + rng.normal(0, 6), 0, height - 2))
            value = int(rng.integers(*shades))
            size = int(rng.integers(1, 3))
            out[y : y + size, x : x + size] = np.minimum(out[y : y + size, x : x + size], value)
    return np.asarray(np.clip(out, 0, 255), np.uint8)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_writing_in_a_speckled_box_is_read_without_the_specks(seed: int) -> None:
    image = drum_speckle(page_with_box(WRITING), seed)
    threshold = ink_threshold(image)
    x0, y0, x1, y1 = (round(v * SCALE) for v in BOX)
    assert speckled(image[y0:y1, x0:x1] < threshold, SCALE)
    reading = read_text_box(image, BOX, SCALE, threshold, timeout=30.0)
    # the writing, not the specks: what is left is tesseract's own slips, a letter or two that
    # a speck touches; read without the cleaning, the specks come out as a line of "words"
    assert edit_distance(reading.text, WRITING) <= 0.1 * len(WRITING), reading
    if reading.text != WRITING:
        assert reading.problem or edit_distance(reading.text, WRITING) <= 2, reading


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_speckled_empty_box_is_never_read_as_words(seed: int) -> None:
    image = drum_speckle(page_with_box(""), seed)
    reading = read_text_box(image, BOX, SCALE, ink_threshold(image), timeout=30.0)
    # blank, or sent to a person: specks are never given as someone's words
    assert reading.text == "" or reading.problem, reading


def test_a_speckled_box_in_which_no_word_is_read_is_blank() -> None:
    """Dark clumps of toner that tesseract reads as no letter, digit or word are no writing: the
    box reads blank without a person, a little short of sure."""
    image = drum_speckle(page_with_box(""), 5)
    threshold = ink_threshold(image)
    x0, y0, x1, y1 = (round(v * SCALE) for v in BOX)
    assert speckled(image[y0:y1, x0:x1] < threshold, SCALE)
    reading = read_text_box(image, BOX, SCALE, threshold, timeout=30.0)
    assert (reading.text, reading.problem, reading.confidence) == ("", "", 0.85)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_toner_paler_than_the_respondent_s_pen_is_no_writing(seed: int) -> None:
    """On a grey scan a drum's clumps are mid-grey; the respondent's ticks on the same page say
    how dark their pen is (`pen`, a tone: 0 black, 1 at the ink threshold)."""
    mid_grey = (90, 150)
    empty = drum_speckle(page_with_box(""), seed, mid_grey)
    threshold = ink_threshold(empty)
    reading = read_text_box(empty, BOX, SCALE, threshold, timeout=30.0, pen=0.2)
    assert (reading.text, reading.problem) == ("", ""), reading
    written = drum_speckle(page_with_box(WRITING), seed, mid_grey)
    reading = read_text_box(written, BOX, SCALE, ink_threshold(written), timeout=30.0, pen=0.2)
    # toner right beside the writing is kept with it: read, or sent to a person, never lost
    assert edit_distance(reading.text, WRITING) <= 0.1 * len(WRITING), reading
    assert reading.problem or edit_distance(reading.text, WRITING) <= 2, reading
    # a pale pen, as pale as the toner: nothing is set aside
    pale = read_text_box(empty, BOX, SCALE, threshold, timeout=30.0, pen=0.7)
    assert pale.text == "" or pale.problem, pale


def fine_speckle(grey: np.ndarray, seed: int) -> np.ndarray:
    """Single dark dots strewn over the page, as dust on the glass leaves them."""
    rng = np.random.default_rng(seed)
    out = grey.copy()
    height, width = grey.shape
    for _ in range(height * width // 600):
        out[int(rng.integers(height)), int(rng.integers(width))] = int(rng.integers(0, 60))
    return out


@pytest.mark.parametrize("speckle", [drum_speckle, fine_speckle])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pale_writing_in_a_speckled_box_is_read_or_sent_to_a_person(
        speckle: Callable[[np.ndarray, int], np.ndarray], seed: int) -> None:
    # a soft pencil, paler than the darkest specks: never lost, never read as specks
    image = speckle(page_with_box(WRITING, Pen((130, 130, 130), 2)), seed)
    reading = read_text_box(image, BOX, SCALE, ink_threshold(image), timeout=30.0)
    assert reading.problem or edit_distance(reading.text, WRITING) <= 2, reading


def test_clean_writing_is_not_taken_for_speckle() -> None:
    image = page_with_box(WRITING)
    threshold = ink_threshold(image)
    x0, y0, x1, y1 = (round(v * SCALE) for v in BOX)
    assert not speckled(image[y0:y1, x0:x1] < threshold, SCALE)
    reading = read_text_box(image, BOX, SCALE, threshold, timeout=30.0)
    assert reading.text == WRITING and not reading.problem


LINE_BOX = (20.0, 20.0, 380.0, 50.0)  # a one-line box: "Please specify"
SHORT = "Community transport"


def bent_frame(grey: np.ndarray) -> np.ndarray:
    """The frame's top line where a fold crosses it: bent 6 points into the box in two places,
    as the sheet, flattened again for the scanner, keeps a ridge."""
    out = grey.copy()
    x0, y0 = (round(v * SCALE) for v in LINE_BOX[:2])
    for start in (60, 700):
        points = np.array([(x0 + start, y0), (x0 + start + 40, y0 + round(6 * SCALE)),
                           (x0 + start + 80, y0)], dtype=np.int32)
        cv2.polylines(out, [points], False, 0, 2, cv2.LINE_AA)
    return out


@pytest.mark.parametrize("text", ["", SHORT])
def test_a_frame_bent_by_a_fold_is_not_read_as_writing(text: str) -> None:
    """Left in the crop, the bent line reads as "~~" or "---" and sends the box to a person."""
    image = bent_frame(page_with_box(text, box=LINE_BOX))
    reading = read_text_box(image, LINE_BOX, SCALE, ink_threshold(image), timeout=30.0)
    assert (reading.text, reading.problem) == (text, ""), reading


def test_a_letter_crossing_the_frame_is_kept() -> None:
    """Writing that runs over the frame reaches further into the box than a bent line does."""
    image = page_with_box("", box=LINE_BOX)
    x0, y0 = (round(v * SCALE) for v in LINE_BOX[:2])
    cv2.putText(image, "Yes", (x0 + 40, y0 + round(20 * SCALE)), cv2.FONT_HERSHEY_SIMPLEX, 2.4,
                0, 5, cv2.LINE_AA)  # tall enough to cross the frame's top line
    assert (image[y0, x0 + 40 : x0 + 300] < 128).any()
    reading = read_text_box(image, LINE_BOX, SCALE, ink_threshold(image), timeout=30.0)
    assert reading.text == "Yes", reading


def test_lines_of_short_doubtful_words_are_toner_tesseract_read_as_words() -> None:
    """As tesseract read a drum's toner in the comment box of a degraded return: under the
    writing, a line "ee a ck Ce" of words it doubts, each of a few letters. That line is toner,
    even where tesseract is sure of a bit of it ("te", "2"); a line with a word of three letters
    or more tesseract is sure of, a line of short words mostly read surely, a line of longer
    doubtful words (damaged writing), and a lone short word (a short answer) are kept for what
    they are."""
    def words(line: int, *read: tuple[str, float]) -> list[OcrWord]:
        return [OcrWord(text, confidence, (1, 1, line)) for text, confidence in read]

    writing = words(1, ("Please", 91.0), ("keep", 88.0), ("the", 93.0), ("library", 90.0))
    toner = words(2, ("ee", 31.0), ("a", 22.0), ("ck", 40.0), ("Ce", 18.0))
    damaged = words(3, ("Rigriinig", 21.0), ("g-nidel", 30.0))
    sure = words(4, ("is", 85.0), ("ok", 45.0))
    lone = words(5, ("no", 35.0))
    # toner in which tesseract is sure of a short word or a digit, as it read lines under "Could
    # the library stay open until eight in the evening?" on a dirty drum's grey scan
    toner_sure_of_bits = words(6, ("ck", 53.0), ("RE", 29.0), ("ee", 59.0), ("te", 80.0),
                               ("SHS", 47.0), ("ee", 56.0))
    toner_with_digit = words(7, ("Ce", 26.0), ("2", 79.0), ("Percy", 10.0))
    short_and_sure = words(8, ("am", 90.0), ("ok", 88.0), ("so", 30.0))
    a_sure_word = words(9, ("ee", 30.0), ("bus", 85.0), ("ck", 20.0))
    kept = _without_speckle_lines([*writing, *toner, *damaged, *sure, *lone, *toner_sure_of_bits,
                                   *toner_with_digit, *short_and_sure, *a_sure_word])
    assert kept == [*writing, *damaged, *sure, *lone, *short_and_sure, *a_sure_word]


def test_a_roller_s_lines_through_the_writing_are_not_read() -> None:
    """As a dirty feed roller marks a grey scan: a band's edge runs straight across the box
    along the foot of the writing, joining its letters into one piece (tesseract read nothing
    in it, and the answer was lost), and thin lines run down through it (read as "| | |")."""
    image = page_with_box(WRITING)
    x0, y0, x1, y1 = (round(v * SCALE) for v in BOX)
    written = image[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3] < 128
    rows = np.flatnonzero(written.any(axis=1)) + y0 + 3
    foot = int(rows[np.flatnonzero(np.diff(rows) > 1)[0]] if (np.diff(rows) > 1).any()
               else rows[-1])  # the first line of writing's lowest row
    lined = image.copy()
    lined[foot - 3 : foot + 1, x0 + 1 : x1] = 90
    for x in (x0 + 200, x0 + 420, x1 - 60):
        lined[y0 + 1 : y1, x : x + 2] = 100
    threshold = ink_threshold(image)
    ink = lined[y0 + 8 : y1 - 8, x0 + 8 : x1 - 8] < threshold
    kept = without_streaks(ink, SCALE)
    lines = np.zeros_like(ink)
    lines[foot - 3 - y0 - 8 : foot + 1 - y0 - 8, :] = True
    lines[:, [200 - 8, 201 - 8, 420 - 8, 421 - 8, x1 - x0 - 68, x1 - x0 - 67]] = True
    assert not (kept & lines & ~(image[y0 + 8 : y1 - 8, x0 + 8 : x1 - 8] < threshold)).any()
    assert kept[~lines].sum() >= 0.97 * ink[~lines].sum()  # the writing stays
    reading = read_text_box(lined, BOX, SCALE, threshold, timeout=30.0)
    assert "|" not in reading.text
    assert edit_distance(reading.text, WRITING) <= 0.1 * len(WRITING), reading
    if reading.text != WRITING:
        assert reading.problem or edit_distance(reading.text, WRITING) <= 2, reading
    # a pen's strokes alone are never taken for a roller's lines, nor is short writing in a
    # box one line high
    clean = image[y0 + 8 : y1 - 8, x0 + 8 : x1 - 8] < threshold
    assert np.array_equal(without_streaks(clean, SCALE), clean)


def test_only_short_doubtful_words_are_what_toner_reads_as() -> None:
    """What a speckled "please specify" line must hold to be taken for toner when its choice is
    not marked (answers._specify_in_speckle): doubtful words of three letters or fewer, all."""
    def word(text: str, confidence: float) -> OcrWord:
        return OcrWord(text, confidence, (1, 1, 1))

    assert only_short_doubts([word("ee", 40.0)])
    assert only_short_doubts([word("ies", 31.0), word("Sy", 12.0)])
    assert not only_short_doubts([word("ee", 40.0), word("Taxi", 30.0)])  # a longer word
    assert not only_short_doubts([word("ee", 40.0), word("No", 92.0)])  # one read surely
    assert not only_short_doubts([])
