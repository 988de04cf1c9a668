"""The reader's checks: character cells by type, "please specify" against its choice, the audit
sample, the consultation's words for tesseract, and the category every flag carries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.model import Choice, Label, Question, Questionnaire
from pipeline.programs.tesseract import OcrChar
from pipeline.read.answers import (
    AMONG_SPECKLE,
    PageIdentity,
    check_specify,
    choice_answer,
    in_audit,
    interpret_page,
    opening_choices,
    pen_tone,
)
from pipeline.read.cells import (
    DIGITS,
    LETTERS,
    LOW_CONFIDENCE,
    POSTCODE_SECOND,
    _agreed,
    _allowed,
    _confirmed,
    read_cells,
    validate,
)
from pipeline.read.page import pale_strokes_undone
from pipeline.read.text import SPECKS_ONLY, TextReading, consultation_words, read_text_box
from pipeline.read.tickbox import POROUS_CONFIDENCE
from pipeline.records import FLAG_CATEGORIES, Answer, BoxResult, FieldBox, flag_of
from pipeline.simulate.pen import Pen, find_handwriting_font, write_cell

CELL_W, CELL_H = 47, 63  # a comb cell at 200 dpi (17 x 22.7 points)
BALLPOINT = Pen((25, 25, 30), 3)


def comb(text: str, pen: Pen = BALLPOINT,
         seed: int = 0) -> tuple[np.ndarray, list[FieldBox]]:
    """A printed comb of len(text) cells with the text hand-printed in it (spaces left empty)."""
    rng = np.random.default_rng(seed)
    image = np.full((CELL_H + 40, CELL_W * len(text) + 40, 3), 255, dtype=np.uint8)
    cells = []
    font = find_handwriting_font()
    for i, char in enumerate(text):
        box = (20 + i * CELL_W, 20, 20 + (i + 1) * CELL_W, 20 + CELL_H)
        cv2.rectangle(image, box[:2], (box[2], box[3]), (0, 0, 0), 2)
        if char != " ":
            image = write_cell(image, box, char, font, pen, rng)
        cells.append(FieldBox("q", "char", tuple(float(v) for v in box), index=i))
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8), cells


def question(kind: str, name: str = "q", cells: int = 8, charset: str = "any") -> Question:
    return Question(name, kind, Label.of("?"), cells=cells, charset=charset)  # type: ignore[arg-type]


@pytest.mark.parametrize(("written", "q", "value"), [
    ("MB12 7TS", question("text", "postcode", charset="alphanumeric"), "MB12 7TS"),
    ("MB1 3FU ", question("text", "postcode", charset="alphanumeric"), "MB1 3FU"),
    ("  47", question("integer", "age", cells=4), "47"),
    ("09012027", question("date", "completed_on"), "2027-01-09"),
    ("10203", question("decimal", "amount", cells=5), "102.03"),
])
def test_character_cells_are_read_one_character_per_cell(written: str, q: Question,
                                                         value: str) -> None:
    image, cells = comb(written)
    reading = read_cells(image, cells, q, 1.0, 150, 30)
    assert (reading.text, reading.problem) == (value, "")
    assert reading.confidence >= 0.6


def test_a_cell_two_reads_agree_on_once_look_alikes_are_taken_as_the_position_allows() -> None:
    """Seen on a bleed-through scan: one line read gave S where the postcode needs a digit, the
    other 5, and the cell read alone gave nothing. S where a digit must be is 5."""
    def read(text: str, confidence: float = 98.0) -> OcrChar:
        return OcrChar(text, confidence, (0, 0, 1, 1))

    agreed = _agreed(read("S", 99), read("5"), None, DIGITS)
    assert agreed is not None and (agreed.text, agreed.confidence) == ("5", 98)
    assert _agreed(None, read("I", 92), read("1", 99), DIGITS) == read("1", 92)
    assert _agreed(read("0"), None, read("O", 95), LETTERS) == read("O", 95)
    # each read alone, two digits that differ, or a character like nothing the position holds:
    # a person looks
    for reads in ((read("S"), None, None), (None, None, read("7")),
                  (read("8"), read("3"), None), (read("X"), read("5"), None),
                  (read("S"), read("6"), None)):
        assert _agreed(*reads, DIGITS) is None, reads


def test_cells_that_fail_validation_go_to_a_person_with_their_reading() -> None:
    image, cells = comb("31022027")  # 31 February
    reading = read_cells(image, cells, question("date", "completed_on"), 1.0, 150, 30)
    assert reading.text == "31022027"
    assert flag_of(reading.problem) == "failed validation"
    blank_image, blank_cells = comb("        ")
    blank = read_cells(blank_image, blank_cells, question("text", "postcode"), 1.0, 150, 30)
    assert (blank.text, blank.problem, blank.confidence) == ("", "", 1.0)


def _tonered(image: np.ndarray, seed: int) -> np.ndarray:
    """Single specks of a photocopier's toner over the comb, and a clump of it in cell 1."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    out[rng.integers(0, out.shape[0], 60), rng.integers(0, out.shape[1], 60)] = 40
    out[44:60, 36:50][rng.random((16, 14)) < 0.45] = 40
    return out


@pytest.mark.parametrize("seed", [0, 4])
def test_a_clump_of_toner_in_an_empty_cell_is_not_a_character(seed: int) -> None:
    """An age written in the last two of three cells, on a speckled photocopy, with a clump of
    toner in the first: a third of a digit's height. It is set aside before the line is read:
    read in the line, a clump taken for a digit drew the digits beside it wrong too (an age of
    51 read as 754 on the mailroom corpus); before, such a cell went to a person."""
    image, cells = comb(" 43", seed=seed)
    age = question("integer", "age", cells=3)
    reading = read_cells(_tonered(image, seed), cells, age, 1.0, 150, 30)
    assert (reading.text, reading.problem) == ("43", "")
    assert reading.confidence <= 0.85  # read through speckle: never quite sure


def test_toner_in_a_written_cell_s_corners_is_left_out_of_its_character() -> None:
    """Seen on dirty-drum copies: clumps of toner in the corners of a cell with a digit in it
    stretch the character's crop, and tesseract read the digit beside the toner as another,
    or not at all."""
    image, cells = comb(" 51", seed=3)
    tonered = image.copy()
    for x, y in ((20 + CELL_W + 4, 24), (20 + 3 * CELL_W - 12, 24), (20 + CELL_W + 4, 70),
                 (20 + 3 * CELL_W - 12, 70), (20 + 2 * CELL_W + 4, 26)):
        tonered[y : y + 6, x : x + 7] = 40
    speckles = np.random.default_rng(3)
    tonered[speckles.integers(0, image.shape[0], 90), speckles.integers(0, image.shape[1], 90)] = 40
    reading = read_cells(tonered, cells, question("integer", "age", cells=3), 1.0, 150, 30)
    assert (reading.text, reading.problem) == ("51", "")


def test_a_postcode_s_second_character_read_as_a_letter_no_postcode_has_there_is_a_digit(
) -> None:
    """W1A read by one line read as WIA: no postcode has I (or Z) second, so the cell holds a
    digit or a second letter, and the read that gave 1 is not outvoted by a look-alike."""
    postcode = question("text", "postcode", cells=7, charset="alphanumeric")
    allowed = _allowed(postcode, ["W", "I", "A", "7", "F", "S"])
    assert "1" in allowed[1] and "I" not in allowed[1] and "Z" not in allowed[1]
    assert _allowed(postcode, ["M", "B", "1", "2", "A", "B"])[1:3] == [POSTCODE_SECOND, DIGITS]
    # YO10 read as YO1O by one read: no outward code ends in O
    fourth = _allowed(postcode, list("YO1O5UN"))[3]
    assert "0" in fourth and "A" in fourth and "O" not in fourth
    image, cells = comb("W1A 7FS", seed=1)
    reading = read_cells(image, cells, postcode, 1.0, 150, 30)
    assert (reading.text, reading.problem) == ("W1A 7FS", "")


def test_a_date_s_and_a_time_s_figures_are_read_as_their_positions_allow() -> None:
    """Seen through a dirty drum's toner: a month 04 read as 94 and a year 2025 read as 2925,
    both read the same way at both sizes. A month's first figure is 0 or 1 and a year of this
    century has 0 second: a figure read outside its position is read again as it allows."""
    date = question("date", "completed_on")
    allowed = _allowed(date, list("18942026"))
    assert allowed[:5] == ["0123", DIGITS, "01", DIGITS, "12"]
    assert allowed[5] == "0"  # after a 2: this century
    assert _allowed(date, list("31121995"))[1:6:2] == ["01", "012", "89"]
    assert _allowed(date, list("05031950"))[1:4:2] == ["123456789", "123456789"]
    assert _allowed(question("time", "arrived"), list("2359")) == ["012", "0123", "012345",
                                                                  DIGITS]
    assert _allowed(question("datetime", "seen"), list("010220261745"))[8:10] == ["012", DIGITS]
    # a date written in fewer cells is read as written, without positions
    assert _allowed(date, list("1842026")) == [DIGITS] * 7
    image, cells = comb("18042026", seed=3)
    reading = read_cells(image, cells, date, 1.0, 150, 30)
    assert (reading.text, reading.problem) == ("2026-04-18", "")


def test_a_character_both_line_reads_give_unsurely_is_confirmed_by_a_sure_read_alone() -> None:
    def read(text: str, confidence: float) -> OcrChar:
        return OcrChar(text, confidence, (0, 0, 1, 1))

    confirmed = _confirmed(read("7", 71), read("7", 93))
    assert (confirmed.text, confirmed.confidence) == ("7", LOW_CONFIDENCE)
    # another character alone, or the same one as unsurely, or nothing: still unsure
    for alone in (read("1", 95), read("7", 75), None):
        assert _confirmed(read("7", 71), alone) == read("7", 71)


def test_cell_walls_a_fold_bends_into_the_cells_are_not_characters() -> None:
    """As a fold left an age on a colour scan: the wall between the first two cells bent in a
    curve across the top of the second one, and a sliver of the top wall along the first,
    empty one; read as characters they made 75 into 775."""
    image, cells = comb(" 75", seed=2)
    bent = image.copy()
    x0, y0 = 20 + CELL_W, 20
    xs = np.arange(x0 + 3, x0 + CELL_W - 2)
    ys = (y0 + 9 + 4 * np.sin((xs - x0) / CELL_W * np.pi)).astype(int)
    for dy in (0, 1):
        bent[ys + dy, xs] = 40  # a curve right across the second cell, under its top wall
    bent[y0 + 4 : y0 + 6, 20 + 24 : 20 + 44] = 40  # a sliver along the top of the first
    age = question("integer", "age", cells=3)
    assert (read_cells(image, cells, age, 1.0, 150, 30).text) == "75"
    reading = read_cells(bent, cells, age, 1.0, 150, 30)
    assert (reading.text, reading.problem) == ("75", "")


@pytest.mark.parametrize(("text", "ok"), [
    ("MB1 1AA", True), ("SW1A 2AA", True), ("M1 1AE", True), ("CR2 6XH", True),
    ("DN55 1PT", True), ("EC1A 1BB", True), ("MB1I 6WP", False), ("MB1 2CI", False),
    ("QB1 2AB", False), ("MB 2AB", False), ("MB12AB7", False),
])
def test_uk_postcodes_are_validated(text: str, ok: bool) -> None:
    _, problem = validate(question("text", "postcode"), text)
    assert (problem == "") is ok, problem


def test_numbers_and_dates_are_validated() -> None:
    assert validate(question("integer", "age"), "4 7") == ("47", "")
    assert flag_of(validate(question("integer", "age"), "4A")[1]) == "failed validation"
    assert validate(question("date", "d"), "29022028") == ("2028-02-29", "")
    assert flag_of(validate(question("date", "d"), "29022027")[1]) == "failed validation"
    assert flag_of(validate(question("date", "d"), "2902202")[1]) == "failed validation"


OWNER = Question("travel", "select_multiple", Label.of("How?"), choices=(
    Choice("walk", Label.of("On foot")), Choice("bus", Label.of("By bus")),
    Choice("other", Label.of("Another way"))))
SPECIFY = Question("travel_other", "text", Label.of("Please specify"), other_of="travel")
ROUTED = Question("member", "select_one", Label.of("Are you a member?"), choices=(
    Choice("1", Label.of("Yes")), Choice("2", Label.of("No"), route_to="next_q")))
ROUTED_SPECIFY = Question("member_which", "text", Label.of("Please specify"), other_of="member")
QUESTIONNAIRE = Questionnaire("t", "1", Label.of("T"),
                              (OWNER, SPECIFY, ROUTED, ROUTED_SPECIFY))


def test_the_choices_that_open_a_please_specify_line() -> None:
    assert opening_choices(OWNER, "travel_other") == {"other"}  # named "other"
    assert opening_choices(ROUTED, "member_which") == {"1"}  # the others route past it
    by_label = Question("q", "select_one", Label.of("?"), choices=(
        Choice("a", Label.of("Yes")), Choice("b", Label.of("No"))))
    assert opening_choices(by_label, "s") == {"a"}
    unnamed = Question("q", "select_one", Label.of("?"), choices=(
        Choice("a", Label.of("Red")), Choice("b", Label.of("Green"))))
    assert opening_choices(unnamed, "s") == {"b"}  # the line is printed beside the last


@pytest.mark.parametrize(("owner_value", "flagged"), [
    ("walk other", False), ("other", False), ("walk", True), ("", True)])
def test_please_specify_without_its_choice_is_flagged_and_kept(owner_value: str,
                                                              flagged: bool) -> None:
    answers = [Answer("travel", owner_value, 1.0), Answer("travel_other", "Taxi", 0.9)]
    checked = {a.question: a for a in check_specify(QUESTIONNAIRE, answers)}
    specify = checked["travel_other"]
    assert specify.value == "Taxi"  # never thrown away
    assert specify.needs_review is flagged
    if flagged:
        assert specify.flag == "specify without its choice"
        assert specify.reason.startswith("specify without its choice: ")
    assert checked["travel"] == answers[0]


def test_please_specify_follows_routing() -> None:
    for owner, flagged in (("1", False), ("2", True), ("", True)):
        answers = [Answer("member", owner, 1.0), Answer("member_which", "Bowls club", 0.9)]
        specify = check_specify(QUESTIONNAIRE, answers)[1]
        assert specify.needs_review is flagged, owner
    empty = check_specify(QUESTIONNAIRE, [Answer("member", "2", 1.0),
                                          Answer("member_which", "", 1.0)])[1]
    assert not empty.needs_review  # nothing written: nothing to check


@pytest.mark.parametrize(("owner", "read", "short", "expected"), [
    ("2", "ee", True, ("", False)),  # toner: its choice not marked, only a doubtful "ee"
    ("1", "ee", True, ("ee", True)),  # its choice marked: a short answer, which a person reads
    ("2", "Bowls club", False, ("Bowls club", True)),  # writing: specify without its choice
])
def test_a_please_specify_line_read_as_short_doubtful_words_in_speckle_without_its_choice_is_toner(
        owner: str, read: str, short: bool, expected: tuple[str, bool]) -> None:
    """Seen on dirty-drum and photocopied copies of both mailroom corpora: "ee", "Sy", "ies"
    read in a speckled "please specify" line whose choice was not marked went to a person
    twice over (unsure text, and text without its choice); they were toner every time."""
    from pipeline.records import PageLayout

    page = PageLayout(1, (), (0.0, 0.0, 1.0, 1.0), (
        FieldBox("member", "choice", (0, 2, 1, 3), "1"),
        FieldBox("member", "choice", (0, 4, 1, 5), "2"),
        FieldBox("member_which", "text", (0, 6, 9, 7))))
    boxes = [BoxResult("member", "1", "marked" if owner == "1" else "empty", 0.3, 1.0),
             BoxResult("member", "2", "marked" if owner == "2" else "empty", 0.3, 1.0)]
    reading = TextReading(read, 0.4, np.zeros((4, 4), np.uint8),
                          f"OCR low confidence: speckled box; unsure of {read}",
                          doubtful_short=short)
    answers = interpret_page(QUESTIONNAIRE, page, boxes, {"member_which": reading}, 0.8,
                             lambda _: b"png")
    specify = {a.question: a for a in answers}["member_which"]
    assert (specify.value, specify.needs_review) == expected
    assert specify.crop_png == b"png"  # kept for whoever looks at the copy
    if not specify.needs_review:
        assert specify.confidence == SPECKS_ONLY


def test_the_audit_sample_is_stable_and_of_the_share_asked() -> None:
    identity = PageIdentity("town_centre-v2-abc", "000123", 2)
    picks = [in_audit(identity, f"q{i}", 0.05) for i in range(4000)]
    assert picks == [in_audit(identity, f"q{i}", 0.05) for i in range(4000)]  # reruns agree
    assert 0.035 < sum(picks) / len(picks) < 0.065
    assert not any(in_audit(identity, f"q{i}", 0.0) for i in range(100))
    assert all(in_audit(identity, f"q{i}", 1.0) for i in range(100))


def test_audit_sends_confident_answers_only_and_keeps_their_value() -> None:
    from pipeline.records import PageLayout

    page = PageLayout(1, (), (0.0, 0.0, 1.0, 1.0), (
        FieldBox("travel", "choice", (0, 0, 1, 1), "walk"),
        FieldBox("member", "choice", (0, 2, 1, 3), "1"),
        FieldBox("member", "choice", (0, 4, 1, 5), "2")))
    boxes = [BoxResult("travel", "walk", "marked", 0.3, 1.0),
             BoxResult("member", "1", "marked", 0.3, 1.0),
             BoxResult("member", "2", "marked", 0.3, 1.0)]
    answers = interpret_page(QUESTIONNAIRE, page, boxes, {}, 0.8, lambda _: b"",
                             audit_share=1.0, identity=PageIdentity("k", "000001", 1))
    by_name = {a.question: a for a in answers}
    assert (by_name["travel"].value, by_name["travel"].flag) == ("walk", "audit")
    assert by_name["member"].flag == "ambiguous"  # already flagged: keeps its own reason


def test_every_flag_has_a_category() -> None:
    assert choice_answer("q", False, [BoxResult("q", "a", "empty", 0.0, 0.6, faint=True)],
                         0.8).flag == "low contrast"
    assert choice_answer("q", False, [BoxResult("q", "a", "cancelled", 0.95, 1.0),
                                      BoxResult("q", "b", "cancelled", 0.95, 1.0)],
                         0.8).flag == "cancelled or heavy"
    assert choice_answer("q", False, [BoxResult("q", "a", "empty", 0.1, 0.55, noisy=True)],
                         0.8).flag == "noisy scan"
    # A reason alone (as the page reader gives one when a serial needs confirming) is enough.
    marked = Answer("q", "a", 1.0, needs_review=True,
                    reason="page code unreadable: serial read from the printed key, confirm it")
    assert marked.flag == "page code unreadable"
    assert set(FLAG_CATEGORIES) >= {"ambiguous", "low contrast", "failed validation",
                                    "OCR low confidence", "OCR failed", "audit",
                                    "specify without its choice"}


def test_a_clear_ring_is_read_and_an_unclear_one_flagged() -> None:
    ring = [BoxResult("q", "a", "empty", 0.0, 1.0, 0.4), BoxResult("q", "b", "empty", 0.0, 1.0)]
    assert (choice_answer("q", False, ring, 0.8).value, choice_answer(
        "q", False, ring, 0.8).needs_review) == ("a", False)
    two = [BoxResult("q", "a", "empty", 0.0, 1.0, 0.4), BoxResult("q", "b", "empty", 0.0, 1.0, 0.4)]
    assert choice_answer("q", False, two, 0.8).flag == "ringed"
    assert choice_answer("q", True, two, 0.8).value == "a b"
    weak = [BoxResult("q", "a", "empty", 0.0, 1.0, 0.1), BoxResult("q", "b", "empty", 0.0, 1.0)]
    assert choice_answer("q", False, weak, 0.8).flag == "ringed"
    beside_a_tick = [BoxResult("q", "a", "empty", 0.0, 1.0, 0.4),
                     BoxResult("q", "b", "marked", 0.3, 1.0)]
    assert choice_answer("q", True, beside_a_tick, 0.8).flag == "ringed"


def test_a_stroke_through_a_box_much_paler_than_the_pen_is_not_a_tick() -> None:
    """A dirty drum's page, read grey: a line of toner crosses a box of a multiple choice the
    respondent ticked in black; the box's ink is toner's grey. The stroke is no tick: the box
    is unsure, and as pale as toner beside the pen it is set aside, where it was an answer
    nobody gave (as the mailroom corpus of seed 2028 read it)."""
    stroke = BoxResult("q", "a", "marked", 0.02, 0.9, edge=0.05, tone=0.8)
    tick = BoxResult("q", "b", "marked", 0.2, 1.0, tone=0.3)
    unsure = replace(stroke, confidence=POROUS_CONFIDENCE)
    assert pale_strokes_undone([stroke, tick], {0}, pen=0.3) == [unsure, tick]
    answer = choice_answer("q", True, [unsure, tick], 0.8, 0.3)
    assert (answer.value, answer.needs_review) == ("b", False)
    assert answer.confidence < 1.0
    # on a quiet page, a stroke between the pen and toner is their tick, drawn large; bitonal,
    # nothing tells; a box marked for its ink is never undone
    darker = replace(stroke, tone=0.5)
    assert pale_strokes_undone([darker, tick], {0}, pen=0.3) == [darker, tick]
    black = [replace(stroke, tone=0.0), replace(tick, tone=0.0)]
    assert pale_strokes_undone(black, {0}, pen=0.0) == black
    assert pale_strokes_undone([stroke, tick], set(), pen=0.3) == [stroke, tick]
    # on a page with speckle (a box read through it), it must be as dark as the pen, and
    # bitonal it never is; the box is then read as one in speckle
    speckle = BoxResult("r", "c", "empty", 0.0, 0.85, noisy=True)
    in_speckle = replace(darker, confidence=POROUS_CONFIDENCE, noisy=True)
    assert pale_strokes_undone([darker, tick, speckle], {0}, pen=0.3) == \
        [in_speckle, tick, speckle]
    dark = replace(stroke, tone=0.35)
    assert pale_strokes_undone([dark, tick, speckle], {0}, pen=0.3) == [dark, tick, speckle]
    assert pale_strokes_undone([*black, speckle], {0}, pen=0.0) == \
        [replace(black[0], confidence=POROUS_CONFIDENCE, noisy=True), black[1], speckle]
    answer = choice_answer("q", True, [replace(black[0], confidence=POROUS_CONFIDENCE,
                                               noisy=True), black[1]], 0.8, 0.0)
    assert answer.needs_review  # bitonal: a person tells toner from a second tick


def test_a_tick_through_a_box_alone_on_its_question_is_the_choice() -> None:
    # a tick drawn large or off to one side: little ink inside, a stroke across the margin
    through = BoxResult("q", "b", "empty", 0.02, 0.6, 0.1, edge=0.15)
    bare = [BoxResult("q", "a", "empty", 0.0, 1.0), BoxResult("q", "c", "empty", 0.0, 1.0)]
    answer = choice_answer("q", False, [bare[0], through, bare[1]], 0.8)
    assert (answer.value, answer.needs_review) == ("b", False)
    second = BoxResult("q", "c", "empty", 0.01, 0.6, 0.0, edge=0.12)
    assert choice_answer("q", True, [bare[0], through, second], 0.8).value == "b c"
    # two of them on a single choice, a box beside it ticked, ink around another box, too
    # little ink across the margin, or speckle: a person looks
    ticked = BoxResult("q", "c", "marked", 0.3, 1.0)
    ringed = BoxResult("q", "c", "empty", 0.0, 1.0, 0.3)
    grazed = BoxResult("q", "b", "empty", 0.01, 0.6, 0.0, edge=0.05)
    speckled = BoxResult("q", "b", "empty", 0.02, 0.6, 0.0, noisy=True, edge=0.15)
    for boxes in ([bare[0], through, second], [bare[0], through, ticked],
                  [bare[0], through, ringed], [bare[0], grazed, bare[1]],
                  [bare[0], speckled, bare[1]]):
        assert choice_answer("q", False, boxes, 0.8).needs_review, boxes


def test_light_grey_beside_a_pen_s_mark_in_speckle_is_not_a_mark() -> None:
    """In speckle the mark must be the respondent's pen (as dark as their other sure marks on
    the page, `pen`), not a clump of toner."""
    grey = BoxResult("q", "b", "empty", 0.0, 0.6, faint=True)
    in_speckle = BoxResult("q", "c", "empty", 0.0, 0.85, noisy=True)
    tick = BoxResult("q", "a", "marked", 0.3, 1.0, tone=0.35)
    answer = choice_answer("q", False, [tick, grey, in_speckle], 0.8, pen=0.3)
    assert (answer.value, answer.needs_review) == ("a", False)
    toner_grey = replace(tick, tone=0.75)  # as pale as toner, beside a page of dark ticks
    for boxes, pen in (([toner_grey, grey, in_speckle], 0.3), ([tick, grey, in_speckle], None),
                       ([replace(tick, noisy=True), grey, in_speckle], 0.3)):
        assert choice_answer("q", False, boxes, 0.8, pen).needs_review, boxes


def test_one_mark_among_speckle_is_read_never_quite_sure() -> None:
    """A dirty drum's page: one tick on a single choice, toner on its other boxes, as dark as
    the pen or, bitonal, as black. A person reads the tick and passes over the dirt; papertwin
    reads it too, at a confidence that `_confidence` shows and a note that says why, rather
    than send most of the page to a person."""
    tick = BoxResult("q", "a", "marked", 0.3, 1.0, tone=0.3)
    cloud = BoxResult("q", "b", "marked", 0.4, 0.55, noisy=True, tone=0.35)
    leans_empty = BoxResult("q", "c", "empty", 0.05, 0.55, noisy=True, tone=0.4)
    bare = BoxResult("q", "d", "empty", 0.0, 1.0)
    bitonal = [replace(b, tone=0.0) for b in (tick, cloud, leans_empty, bare)]
    for boxes, pen in (([tick, cloud, bare], 0.3), ([tick, cloud, leans_empty, bare], 0.3),
                       ([replace(tick, noisy=True, confidence=0.85), leans_empty, bare], 0.3),
                       (bitonal, 0.0)):
        answer = choice_answer("q", False, boxes, 0.8, pen)
        assert (answer.value, answer.needs_review, answer.confidence) == \
            ("a", False, AMONG_SPECKLE), boxes
        assert answer.reason == "read among speckle: a marked, speckle in " + " ".join(
            b.value for b in boxes if b.confidence < 0.8)
        assert answer.flag == ""
    # a person looks: a doubt read more than likely marked, a doubt out of speckle (a stroke in
    # the margin), two sure marks, none, a mark paler than the pen, a box filled in or ringed,
    # no pen to compare, a multiple choice
    stroke = BoxResult("q", "e", "empty", 0.02, 0.6, edge=0.05, tone=0.3)
    for boxes, multiple, pen in (
            ([tick, replace(cloud, confidence=0.7)], False, 0.3),
            ([replace(tick, noisy=True, confidence=0.85), cloud, stroke], False, 0.3),
            ([tick, cloud, replace(bare, state="marked", fill=0.3)], False, 0.3),
            ([cloud, leans_empty, bare], False, 0.3),
            ([replace(tick, tone=0.6), cloud, bare], False, 0.3),
            ([tick, cloud, replace(bare, state="cancelled", fill=0.9)], False, 0.3),
            ([tick, cloud, replace(bare, surround=0.2)], False, 0.3),
            ([tick, cloud, bare], False, None),
            ([tick, cloud, bare], True, 0.3)):
        assert choice_answer("q", multiple, boxes, 0.8, pen).needs_review, boxes


def test_a_box_holding_no_more_than_the_speckle_around_it_is_empty() -> None:
    """A box read empty through speckle, a little unsure (0.6 or more), holds no more ink than
    the speckle around it: on a multiple choice as on a single one, the respondent's marks
    beside it are the answer. A box read less surely (more ink, a stroke in its margin), or
    with ink around it, still goes to a person."""
    ticks = [BoxResult("q", v, "marked", 0.3, 1.0, tone=0.0) for v in ("a", "b")]
    speckle = BoxResult("q", "c", "empty", 0.03, 0.6, noisy=True, tone=0.0)
    for boxes, multiple, value in (([*ticks, speckle], True, "a b"),
                                   ([ticks[0], speckle], False, "a"), ([speckle], True, "")):
        answer = choice_answer("q", multiple, boxes, 0.8, 0.0)
        assert (answer.value, answer.needs_review) == (value, False), boxes
        assert answer.confidence < 1.0
    for doubt in (replace(speckle, confidence=0.55), replace(speckle, surround=0.2),
                  replace(speckle, edge=0.15), replace(speckle, noisy=False)):
        assert choice_answer("q", True, [*ticks, doubt], 0.8, 0.0).needs_review, doubt


def test_toner_much_paler_than_the_respondent_s_pen_is_set_aside() -> None:
    tick = BoxResult("q", "a", "marked", 0.3, 1.0, tone=0.3)
    clump = BoxResult("q", "b", "marked", 0.5, 0.55, noisy=True, tone=0.8)
    answer = choice_answer("q", False, [tick, clump], 0.8, pen=0.3)
    assert (answer.value, answer.needs_review) == ("a", False)
    assert answer.confidence < 1.0
    # as dark as the pen, the clump may be a second mark: read, but never taken for sure
    among = choice_answer("q", False, [tick, replace(clump, tone=0.5)], 0.8, pen=0.3)
    assert (among.value, among.needs_review, among.confidence) == ("a", False, AMONG_SPECKLE)
    # a box filled in, light grey alone, or no pen to compare: a person
    for boxes, pen in (([tick, clump], None),
                       ([tick, replace(clump, state="cancelled")], 0.3),
                       ([tick, BoxResult("q", "b", "marked", 0.2, 0.6, faint=True)], 0.3)):
        assert choice_answer("q", False, boxes, 0.8, pen).needs_review, boxes
    # a sure "mark" on the question between the pen and toner: toner may pass for marks here,
    # a person looks
    paler_mark = BoxResult("q", "c", "marked", 0.2, 1.0, tone=0.55)
    assert choice_answer("q", True, [tick, clump, paler_mark], 0.8, pen=0.3).needs_review
    # one as pale as toner, in speckle, is a clump of toner solid enough to pass for a tick
    clumped = choice_answer("q", True, [tick, clump, replace(paler_mark, tone=0.75)], 0.8,
                            pen=0.3)
    assert (clumped.value, clumped.needs_review) == ("a", False)
    # but not on a quiet question: a second, paler pen is the respondent's
    quiet = choice_answer("q", True, [tick, replace(paler_mark, tone=0.75)], 0.8, pen=0.3)
    assert (quiet.value, quiet.needs_review) == ("a c", False)
    page = [tick, clump, BoxResult("r", "a", "marked", 0.3, 0.95, tone=0.2),
            BoxResult("r", "b", "marked", 0.3, 1.0, tone=0.9, faint=True)]
    assert pen_tone(page, 0.8) == 0.3  # the middle of the sure marks, light grey left out
    assert pen_tone([clump], 0.8) is None


def test_a_tick_through_a_box_beside_sure_marks_on_a_multiple_choice_is_chosen() -> None:
    # "tick all that apply": one tick sits in its box, the next runs through its own
    ticked = BoxResult("q", "a", "marked", 0.3, 1.0)
    through = BoxResult("q", "b", "empty", 0.02, 0.6, 0.1, edge=0.15)
    bare = BoxResult("q", "c", "empty", 0.0, 1.0)
    answer = choice_answer("q", True, [ticked, through, bare], 0.8)
    assert (answer.value, answer.needs_review) == ("a b", False)
    # the sure mark in speckle or light grey, a box filled in, or ink round an empty box: a
    # person looks
    for other in (BoxResult("q", "a", "marked", 0.3, 0.85, noisy=True),
                  BoxResult("q", "a", "marked", 0.3, 0.9, faint=True),
                  BoxResult("q", "a", "cancelled", 0.9, 1.0)):
        assert choice_answer("q", True, [other, through, bare], 0.8).needs_review, other
    ringed = BoxResult("q", "c", "empty", 0.0, 1.0, 0.3)
    assert choice_answer("q", True, [ticked, through, ringed], 0.8).needs_review


def test_light_grey_beside_a_sure_mark_in_dark_ink_is_not_a_mark() -> None:
    # the back of thin paper showing through, or a mark rubbed out, beside the pen's tick
    tick = BoxResult("q", "a", "marked", 0.3, 1.0)
    grey = BoxResult("q", "b", "empty", 0.0, 0.6, faint=True)
    bare = BoxResult("q", "c", "empty", 0.0, 1.0)
    for multiple in (False, True):
        answer = choice_answer("q", multiple, [tick, grey, bare], 0.8)
        assert (answer.value, answer.needs_review) == ("a", False)
    # all of them light (a pencil), no mark at all, the mark itself unsure, speckle on the
    # question, or a box filled in: a person looks
    pencil = BoxResult("q", "a", "marked", 0.2, 0.9, faint=True)
    unsure = BoxResult("q", "a", "marked", 0.15, 0.7)
    speckled = BoxResult("q", "a", "marked", 0.3, 0.85, noisy=True)
    filled = BoxResult("q", "c", "cancelled", 0.9, 1.0)
    in_speckle = BoxResult("q", "c", "empty", 0.0, 0.85, noisy=True)  # the tick may be toner
    for boxes in ([pencil, grey, bare], [bare, grey], [unsure, grey, bare],
                  [speckled, grey, bare], [tick, grey, filled], [tick, grey, in_speckle]):
        assert choice_answer("q", False, boxes, 0.8).needs_review, boxes


VOCABULARY = ["Ystradgynlais", "Gorseinon", "Llanfair", "Aberporth", "Millbrook", "Cwmbran",
              "Threlkeld", "Glyncorrwg", "Pontypridd", "Dunvant"]


def test_the_consultation_words_help_tesseract_read_place_names(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(0)
    right = {"with": 0, "without": 0}
    for size in (14, 16):
        font = ImageFont.truetype(str(find_handwriting_font()), size)
        for word in VOCABULARY:
            canvas = Image.new("L", (400, 40), 255)
            ImageDraw.Draw(canvas).text((10, 8), word, font=font, fill=0)
            noisy = np.asarray(canvas).astype(np.float32) + rng.normal(0, 25, (40, 400))
            image = np.where(noisy < 150, 0, 255).astype(np.uint8)
            image = np.pad(image, 10, constant_values=255)
            box = (0.0, 0.0, float(image.shape[1]), float(image.shape[0]))
            for name, words in (("with", VOCABULARY), ("without", [])):
                reading = read_text_box(image, box, 1.0, 128, 30, words)
                right[name] += reading.text == word
    assert right["with"] > right["without"], right


def test_consultation_words_come_from_the_questionnaire_and_the_word_list() -> None:
    words = consultation_words(QUESTIONNAIRE, ("Gorseinon",))
    assert {"How", "foot", "Another", "member", "Gorseinon"} <= set(words)
    assert len(words) == len(set(words))


def test_one_clear_mark_on_a_single_choice_is_read_beside_boxes_that_lean_empty() -> None:
    """As a dirty drum's returns read: one clear tick on a single choice, and beside it a box
    with a stroke in its margin or speckle on it, read unsure. A person reads the tick at a
    glance; so does papertwin, a little less sure."""
    tick = BoxResult("q", "a", "marked", 0.3, 1.0, tone=0.3)
    stroke = BoxResult("q", "b", "empty", 0.02, 0.6, edge=0.05, tone=0.3)
    speckle = BoxResult("q", "c", "marked", 0.1, 0.55, noisy=True, tone=0.7)  # toner's grey
    bare = BoxResult("q", "d", "empty", 0.0, 1.0)
    black = [replace(b, tone=0.0) for b in (tick, stroke, speckle, bare)]  # a bitonal scan
    for boxes, pen in (([tick, stroke, bare], 0.3), ([tick, speckle, bare], 0.3),
                       ([stroke, tick, speckle], 0.3), (black[:2] + black[3:], 0.0)):
        answer = choice_answer("q", False, boxes, 0.8, pen)
        assert (answer.value, answer.needs_review) == ("a", False), boxes
        assert answer.confidence < 1.0
    # a person looks: on a multiple choice (the doubt may be a second answer), a mark read less
    # than clearly or through speckle beside a doubt out of speckle, one paler than the pen,
    # speckle with no pen to compare, two marks, a box filled in, a ring around a box
    stroke_tick = replace(tick, confidence=0.9)
    ringed = replace(bare, surround=0.2)
    for boxes, multiple, pen in (
            ([tick, stroke, bare], True, 0.3),
            ([stroke_tick, stroke, bare], False, 0.3),
            ([replace(tick, noisy=True), stroke, bare], False, 0.3),
            ([replace(tick, tone=0.7), stroke, bare], False, 0.3),
            ([tick, speckle, bare], False, None),
            (black, False, 0.0),  # the stroke in the margin, out of speckle
            ([tick, stroke, replace(bare, state="marked", fill=0.3)], False, 0.3),
            ([tick, stroke, replace(bare, state="cancelled", fill=0.9)], False, 0.3),
            ([tick, replace(stroke, state="cancelled", fill=0.7), bare], False, 0.3),
            ([tick, stroke, ringed], False, 0.3)):
        assert choice_answer("q", multiple, boxes, 0.8, pen).needs_review, boxes
