"""Boxes read through the noise of dirty copiers and scanners, and the marks people really make.

Each test draws a row of printed 5 mm boxes at 200 dpi, as the aligned page has them, puts on them
what a respondent and a dirty machine put there, and reads them as a page's boxes are read: all
measured first, the page's speckle learnt from them, then each classified.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.errors import UsageError
from pipeline.publish import build_forms
from pipeline.read.answers import AMONG_SPECKLE, RING_CONFIDENCE, choice_answer, pen_tone
from pipeline.read.page import ReaderSettings
from pipeline.read.tickbox import (
    BoxReading,
    classify_box,
    measure_box,
    page_noise,
    reread_at_pen,
    stroke_runs_through,
)
from pipeline.records import Answer, BoxResult
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.scanner import write_g4_pdf
from pipeline.workspace import Workspace

from .benchmarks.bench_accuracy import measure
from .benchmarks.bench_ingest import QUESTION, TEMPLATE

Image8 = NDArray[np.uint8]
SCALE = 200 / 72
SIDE = 14.17  # points: a 5 mm box
GAP = 40.0  # points between boxes' left edges
ROWS = 4
COLUMNS = 6
THRESHOLD = 158  # ink_threshold of a white page


def boxes() -> list[tuple[float, float, float, float]]:
    return [(40 + GAP * c, 40 + GAP * r, 40 + GAP * c + SIDE, 40 + GAP * r + SIDE)
            for r in range(ROWS) for c in range(COLUMNS)]


def printed() -> Image8:
    image = np.full((int(60 + GAP * ROWS) * 3, int(60 + GAP * COLUMNS) * 3), 255, np.uint8)
    for x0, y0, x1, y1 in boxes():
        cv2.rectangle(image, (round(x0 * SCALE), round(y0 * SCALE)),
                      (round(x1 * SCALE), round(y1 * SCALE)), 0, 2)
    return image


def pixels(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return round(x0 * SCALE), round(y0 * SCALE), round(x1 * SCALE), round(y1 * SCALE)


def speckle(image: Image8, share: float, seed: int, largest: int = 2) -> Image8:
    """Toner specks over the whole page, as a dirty drum leaves them: dots of 1 to 3 pixels."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    height, width = image.shape
    for _ in range(int(share * height * width / 4)):
        y, x = int(rng.integers(height)), int(rng.integers(width))
        r = int(rng.integers(1, largest + 1))
        out[y : y + r, x : x + r] = int(rng.integers(0, 90))
    return out


def tick(image: Image8, box: tuple[float, float, float, float], width: int = 3) -> Image8:
    out = image.copy()
    x0, y0, x1, y1 = pixels(box)
    w, h = x1 - x0, y1 - y0
    points = np.array([(x0 + 0.2 * w, y0 + 0.55 * h), (x0 + 0.42 * w, y0 + 0.85 * h),
                       (x0 + 0.9 * w, y0 + 0.1 * h)], dtype=np.int32)
    cv2.polylines(out, [points], False, 0, width, cv2.LINE_AA)
    return out


def dot(image: Image8, box: tuple[float, float, float, float], radius: float) -> Image8:
    """A solid dot in the middle of the box, radius in shares of the side."""
    out = image.copy()
    x0, y0, x1, y1 = pixels(box)
    cv2.circle(out, ((x0 + x1) // 2, (y0 + y1) // 2), round(radius * (x1 - x0)), 0, -1,
               cv2.LINE_AA)
    return out


def fill(image: Image8, box: tuple[float, float, float, float]) -> Image8:
    """Filled in to its edges, as the printed instructions ask for a cancellation."""
    out = image.copy()
    x0, y0, x1, y1 = pixels(box)
    out[y0 : y1 + 1, x0 : x1 + 1] = 20
    return out


def read_all(image: Image8) -> list[BoxReading]:
    inks = [measure_box(image, box, SCALE, THRESHOLD) for box in boxes()]
    noise = page_noise(inks)
    return [classify_box(ink, noise) for ink in inks]


def states(readings: list[BoxReading]) -> list[str]:
    """Each box's state, with '?' where it goes to a person."""
    return [r.state + ("" if r.confidence >= 0.8 else "?") for r in readings]


def test_a_quiet_page_reads_ticks_and_leaves_empty_boxes_empty() -> None:
    image = printed()
    for index in (0, 7, 20):
        image = tick(image, boxes()[index])
    read = states(read_all(image))
    assert [i for i, s in enumerate(read) if s != "empty"] == [0, 7, 20]
    assert all(read[i] == "marked" for i in (0, 7, 20))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_speckle_over_the_page_is_not_read_as_marks(seed: int) -> None:
    image = printed()
    for index in (3, 10, 17):
        image = tick(image, boxes()[index])
    image = speckle(image, 0.03, seed)
    readings = read_all(image)
    read = states(readings)
    # The ticked boxes are read, nothing else is taken for a mark, and at most one box in the
    # speckle goes to a person.
    assert [read[i] for i in (3, 10, 17)] == ["marked"] * 3
    wrongly_marked = [i for i, s in enumerate(read) if s == "marked" and i not in (3, 10, 17)]
    assert wrongly_marked == []
    assert sum(s.endswith("?") for s in read) <= 1


def test_a_streak_across_the_page_is_not_a_mark() -> None:
    """A scratch on the scanner glass draws a thin line the length of the page."""
    image = printed()
    y = pixels(boxes()[6])[1] + 20
    image[y : y + 2, :] = 0
    image = tick(image, boxes()[8])
    read = states(read_all(image))
    assert read[6:12] == ["empty", "empty", "marked", "empty", "empty", "empty"]


@pytest.mark.parametrize("radius", [0.1, 0.14, 0.2, 0.3])
def test_a_dot_with_white_around_it_is_a_mark(radius: float) -> None:
    """People used to bubble forms mark with a dot, from a small firm one to a blob."""
    image = dot(printed(), boxes()[2], radius)
    read = read_all(image)
    assert states(read)[2] == "marked"
    assert read[2].confidence >= 0.9
    assert [s for i, s in enumerate(states(read)) if i != 2] == ["empty"] * (len(boxes()) - 1)


def test_only_a_box_filled_to_its_edges_is_a_cancellation() -> None:
    image = fill(printed(), boxes()[4])
    image = dot(image, boxes()[5], 0.38)  # a big blob, white all round it
    read = states(read_all(image))
    assert read[4] == "cancelled"
    assert read[5] == "marked"


def test_a_thick_marker_s_cross_is_a_mark_not_a_cancellation() -> None:
    """A felt marker's cross inks most of the box, but leaves white between its arms at the
    middle of each side; a box filled in is dark there too."""
    image = printed()
    x0, y0, x1, y1 = pixels(boxes()[6])
    cv2.line(image, (x0 + 2, y0 + 2), (x1 - 2, y1 - 2), 0, 9, cv2.LINE_AA)
    cv2.line(image, (x0 + 2, y1 - 2), (x1 - 2, y0 + 2), 0, 9, cv2.LINE_AA)
    image = fill(image, boxes()[7])
    read = read_all(image)
    assert read[6].fill >= 0.66  # as much ink as a box filled in by a hurried hand
    assert states(read)[6:8] == ["marked", "cancelled"]


def test_a_felt_marker_s_tick_is_not_taken_for_the_outline_of_a_box_askew() -> None:
    """On a folded sheet, or one printed pale, a box may not sit square on its outline, and ink
    along its border is taken for the outline. A felt marker's tick drawn low, its arms across
    the box's lower corners, also keeps to the border, but is far thicker than a printed line:
    the box is not surely empty."""
    image = printed()
    x0, y0, x1, y1 = pixels(boxes()[5])
    w = x1 - x0
    points = [(x0 - 0.15 * w, y0 + 0.3 * w), (x0 + 0.5 * w, y1 + 0.45 * w),
              (x1 + 0.2 * w, y0 + 0.35 * w)]
    cv2.polylines(image, [np.array(points, dtype=np.int32)], False, 0, 8, cv2.LINE_AA)
    inks = [measure_box(image, box, SCALE, THRESHOLD, askew=True) for box in boxes()]
    read = classify_box(inks[5], page_noise(inks))
    assert read.confidence < 0.8 and read.edge >= 0.1  # a tick running through: see answers


def test_a_question_s_other_boxes_decide_what_a_lone_filled_box_means() -> None:
    filled = BoxResult("q", "a", "cancelled", 0.95, 1.0)
    alone = choice_answer("q", False, [filled, BoxResult("q", "b", "empty", 0.0, 1.0)], 0.8)
    assert (alone.value, alone.needs_review) == ("a", False)  # filled in to choose it
    changed = choice_answer("q", False, [filled, BoxResult("q", "b", "marked", 0.2, 1.0)], 0.8)
    assert (changed.value, changed.needs_review) == ("b", False)  # a cancellation
    several = choice_answer("q", True, [filled, BoxResult("q", "b", "cancelled", 0.9, 1.0),
                                        BoxResult("q", "c", "marked", 0.2, 1.0)], 0.8)
    assert (several.value, several.needs_review) == ("c", False)
    ringed = choice_answer("q", False, [filled, BoxResult("q", "b", "empty", 0.0, 1.0, 0.2)],
                           0.8)
    assert ringed.needs_review  # a ring around b: the filled box may be a cancellation
    two_filled = choice_answer("q", False, [filled, BoxResult("q", "b", "cancelled", 0.9, 1.0)],
                               0.8)
    assert two_filled.needs_review and two_filled.flag == "cancelled or heavy"


def test_a_thin_tick_that_runs_past_the_box_is_read() -> None:
    """A fine gel pen's big tick: little ink inside the box, one long stroke right across it."""
    image = printed()
    x0, y0, x1, y1 = pixels(boxes()[9])
    w = x1 - x0
    points = [(x0 - w * 0.3, y0 + w * 0.4), (x0 + w * 0.3, y1 + w * 0.2),
              (x1 + w * 0.4, y0 - w * 0.6)]
    cv2.polylines(image, [np.array(points, dtype=np.int32)], False, 0, 1)
    read = read_all(image)
    assert states(read)[9] == "marked"


def test_a_tick_drawn_off_the_box_with_its_point_on_the_outline_is_read() -> None:
    """Seen on the simulated returns, and on a person's desk: a tick whose short arm ends on the
    box's bottom right corner and whose long arm runs up past the box's right side. Inside the
    box it leaves a short line only, unsure; with the rest of the tick it is plainly a mark. A
    crease across the paper, or a level line under the box, is not."""
    image = printed()
    x0, y0, x1, y1 = pixels(boxes()[9])
    w = x1 - x0
    points = [(x0 + 0.45 * w, y0 + 0.75 * w), (x1 - 0.05 * w, y1 + 0.05 * w),
              (x1 + 0.5 * w, y0 - 1.0 * w)]
    cv2.polylines(image, [np.array(points, dtype=np.int32)], False, 0, 2, cv2.LINE_AA)
    read = read_all(image)
    assert states(read)[9] == "empty?"  # the box alone: a person would have to look
    assert stroke_runs_through(image, boxes()[9], SCALE, THRESHOLD)
    assert not any(stroke_runs_through(image, box, SCALE, THRESHOLD)
                   for i, box in enumerate(boxes()) if i != 9)
    crease = printed()
    x0, y0, x1, y1 = pixels(boxes()[14])
    cv2.line(crease, (0, y1 + 12), (crease.shape[1] - 1, y0 - 8), 0, 2)
    under = printed()
    x0, y0, x1, y1 = pixels(boxes()[15])
    cv2.line(under, (x0 - 20, y1 - 6), (x1 + 30, y1 - 6), 0, 2)
    assert not stroke_runs_through(crease, boxes()[14], SCALE, THRESHOLD)
    assert not stroke_runs_through(under, boxes()[15], SCALE, THRESHOLD)


def test_a_box_at_the_edge_of_the_paper_is_looked_at_without_the_paper_beyond() -> None:
    """A box so near the page's edge that the paper around it is cut off (the window once ended
    exactly on the outline's band, and indexing past it raised IndexError): no stroke."""
    page = np.full((200, 200), 255, np.uint8)
    far = 200 / SCALE - SIDE
    for x0 in (0.0, 0.5, 2.0, far, far - 1.0, far - 1.6):
        for y0 in (0.0, 1.0, far, far - 1.6):
            box = (x0, y0, x0 + SIDE, y0 + SIDE)
            assert not stroke_runs_through(page, box, SCALE, THRESHOLD)


def toner(image: Image8, centre: tuple[float, float], radii: tuple[float, float], density: float,
          seed: int, shades: tuple[int, int] = (20, 90)) -> Image8:
    """A cluster of toner, as a dirty drum drops it: dots of one or two pixels, most dense in the
    middle of an ellipse (radii in pixels), and a few strays round it. On a grey scan its dots
    are mid-grey (`shades`)."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    cx, cy = centre
    rx, ry = radii
    for _ in range(int(density * np.pi * rx * ry)):
        r = min(1.6, abs(rng.normal(0.0, 0.6)))
        angle = rng.uniform(0, 2 * np.pi)
        x, y = round(cx + r * rx * np.cos(angle)), round(cy + r * ry * np.sin(angle))
        size = int(rng.integers(1, 3))
        out[y : y + size, x : x + size] = int(rng.integers(*shades))
    return out


def centre(box: tuple[float, float, float, float]) -> tuple[float, float]:
    x0, y0, x1, y1 = pixels(box)
    return (x0 + x1) / 2, (y0 + y1) / 2


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_cluster_of_toner_in_a_box_is_never_a_sure_mark(seed: int) -> None:
    """A dirty drum drops toner in clusters: porous, with specks round them. One that lands on a
    box is no sure mark, however much ink it puts there; a tick beside it is read."""
    image = tick(printed(), boxes()[1])
    image = toner(image, centre(boxes()[2]), (9.0, 13.0), 0.45, seed)
    read = read_all(image)
    assert states(read)[1] == "marked"
    assert read[2].confidence < 0.8 and read[2].noisy  # a person looks
    assert [s for i, s in enumerate(states(read)) if i not in (1, 2)] == ["empty"] * 22


def answers_by_row(image: Image8) -> list[Answer]:
    """Each row of boxes read as a single-choice question, as interpret_page reads a page: the
    respondent's pen learnt from the page's sure marks."""
    read = read_all(image)
    results = [BoxResult(f"q{i // COLUMNS}", f"c{i % COLUMNS}", r.state, r.fill, r.confidence,
                         r.surround, r.faint, r.noisy, r.edge, r.tone)
               for i, r in enumerate(read)]
    pen = pen_tone(results, 0.8)
    return [choice_answer(f"q{row}", False, results[row * COLUMNS : (row + 1) * COLUMNS], 0.8,
                          pen) for row in range(ROWS)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_grey_toner_beside_a_respondent_s_black_ticks_is_set_aside(seed: int) -> None:
    """On a grey scan a person tells a drum's toner (a cloud of mid-grey dots) from a pen's
    tick at a glance: the pen is as dark in every box it marks. Bitonal, the two are equally
    black: the tick is still the only mark with a pen's stroke, and is read, but at the
    confidence of an answer read among speckle."""
    image = tick(tick(printed(), boxes()[1]), boxes()[COLUMNS + 3])
    image = toner(image, centre(boxes()[COLUMNS + 1]), (9.0, 13.0), 0.6, seed, (90, 150))
    assert read_all(image)[COLUMNS + 1].confidence < 0.8  # alone, the cluster is a doubt
    first, second = answers_by_row(image)[:2]
    assert (first.value, first.needs_review) == ("c1", False)
    assert (second.value, second.needs_review) == ("c3", False)
    assert second.confidence < 1.0  # read through toner: never quite sure
    bitonal = np.where(image < THRESHOLD, 0, 255).astype(np.uint8)
    among = answers_by_row(bitonal)[1]
    assert (among.value, among.needs_review, among.confidence) == ("c3", False, AMONG_SPECKLE)


def test_toner_as_dark_as_the_respondent_s_pen_is_not_set_aside() -> None:
    """A pale pen (a blue ballpoint scanned grey) is as pale as toner: nothing is set aside as
    toner, and the tick is read only as one read among speckle, never quite sure."""
    image = printed()
    for box in (boxes()[1], boxes()[COLUMNS + 3]):
        image = np.minimum(image, np.where(tick(printed(), box) < 128, 110, 255)).astype(np.uint8)
    image = toner(image, centre(boxes()[COLUMNS + 1]), (9.0, 13.0), 0.6, 1, (90, 150))
    among = answers_by_row(image)[1]
    assert (among.value, among.needs_review, among.confidence) == ("c3", False, AMONG_SPECKLE)


def test_a_tick_from_a_pen_running_dry_is_still_a_sure_mark() -> None:
    """A pen running out of ink breaks its tick into pieces with gaps: closed up, they are still
    one stroke across the box."""
    image = tick(printed(), boxes()[3])
    x0, y0, x1, y1 = pixels(boxes()[3])
    rng = np.random.default_rng(5)
    inside = image[y0 + 4 : y1 - 3, x0 + 4 : x1 - 3]
    inked = np.argwhere(inside < THRESHOLD)
    for y, x in inked[rng.random(len(inked)) < 0.25]:
        inside[y, x] = 255  # ink skipped
    for y in range(0, inside.shape[0], 9):
        inside[y : y + 2, :] = np.maximum(inside[y : y + 2, :], 255)  # breaks across the stroke
    read = read_all(image)
    assert states(read)[3] == "marked"


def test_a_cloud_of_toner_around_a_box_is_not_a_ring() -> None:
    """A ring is a pen's line on every side of the box; a cloud of toner round a box leaves ink on
    every side too, full of gaps."""
    image = toner(printed(), centre(boxes()[8]), (40.0, 40.0), 0.5, 7)
    ring = boxes()[10]
    x0, y0, x1, y1 = pixels(ring)
    cv2.ellipse(image, ((x0 + x1) // 2, (y0 + y1) // 2), (x1 - x0, round((y1 - y0) * 0.9)), 0, 0,
                360, 0, 3, cv2.LINE_AA)
    clouded = measure_box(image, boxes()[8], SCALE, THRESHOLD)
    ringed = measure_box(image, ring, SCALE, THRESHOLD)
    assert clouded.surround < 0.08  # RING_INK: no ring
    assert ringed.surround >= 0.15  # RING_READ: read as circled


def test_a_dirty_roller_s_lines_down_a_column_of_boxes_are_not_rings() -> None:
    """As a roller left a batch's pages: thin lines down the sheet beside and just past a column
    of boxes ink each box's sides as a ring would (0.13-0.14 of the bands round it, on the
    mailroom corpus); but they cross the bands above and below the box, where a ring runs along
    them. A thin pen's ring inked as little is read as the choice."""
    image = printed()
    x0, _, x1, _ = pixels(boxes()[2])
    width = x1 - x0
    for x in (x0 - round(0.3 * width), x0 - round(0.09 * width), x1 + round(0.02 * width)):
        image[:, x : x + 4] = 0
    ring = boxes()[COLUMNS + 4]
    rx0, ry0, rx1, ry1 = pixels(ring)
    cv2.ellipse(image, ((rx0 + rx1) // 2, (ry0 + ry1) // 2), (rx1 - rx0, round((ry1 - ry0) * 0.9)),
                0, 0, 360, 0, 2)
    column = [measure_box(image, boxes()[2 + COLUMNS * row], SCALE, THRESHOLD)
              for row in range(ROWS)]
    assert all(ink.surround < 0.08 for ink in column), [ink.surround for ink in column]
    ringed = measure_box(image, ring, SCALE, THRESHOLD)
    assert 0.11 <= ringed.surround < 0.15
    read = [BoxResult("q", f"c{i}", "empty", 0.0, 1.0, surround=ink.surround)
            for i, ink in enumerate((*column[:2], ringed))]
    assert choice_answer("q", False, read, 0.8) == Answer("q", "c2", RING_CONFIDENCE)


def test_a_dot_no_larger_than_a_speck_of_toner_goes_to_a_person() -> None:
    image = dot(printed(), boxes()[4], 0.07)
    read = read_all(image)
    assert states(read)[4] == "marked?"


# The intake benchmark's tick-only questionnaire: 12 questions of 4 choices.
TICK_FORM = TEMPLATE + "".join(QUESTION.format(n=n) for n in range(1, 13))


@pytest.fixture(scope="module")
def tick_form(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ticks")
    template = root / "ticks.yaml"
    template.write_text(TICK_FORM)
    build_forms(template, 10, root / "form", Workspace.resolve(root / "ws"))
    return root / "form"


@pytest.mark.slow
@pytest.mark.parametrize("degradation", [None, "light"])
def test_tick_pages_with_dots_rarely_need_a_person(tick_form: Path, tmp_path: Path,
                                                   degradation: str | None) -> None:
    """Ticks, crosses and bubble-form dots on a tick-only form, scanned 300 dpi bitonal as a
    sheet feeder does (or through the light degradation profile): read right, and at most 2 %
    of the questions go to a person."""
    scans = tmp_path / "scans"
    batch = simulate_returns(tick_form, scans, seed=8, dpi=300,
                             damage=Damage(max_rotation_deg=1.5, noise_sigma=3),
                             marks=("tick", "cross", "dot"), degradation=degradation)
    if degradation is None:
        pages = [image for _, image in iter_pdf_pages(batch.pdf_path, "sim", 300)]
        write_g4_pdf(pages, batch.pdf_path, 300)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    assert sum(r["marking"]["mark"] == "dot" for r in truth) >= 4
    figures = measure(tick_form, scans, ReaderSettings(), tmp_path / "read")
    assert set(figures.outcomes) == {"identified"} and figures.pages == batch.pages
    assert figures.silent_errors == 0, figures.silent
    assert figures.review_rate <= 0.02, dict(figures.flags)


def test_a_mark_the_simulator_does_not_know_is_a_usage_error(tick_form: Path,
                                                             tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such mark: blob; marks are tick, cross"):
        simulate_returns(tick_form, tmp_path / "scans", marks=("tick", "blob"))
    assert not (tmp_path / "scans").exists()


def pale_tick(image: Image8, box: tuple[float, float, float, float], core: int) -> Image8:
    """A thin grey pen's tick, its point on the box's lower edge, as dark as `core` only along
    its middle and there in pieces: most of it is lighter than the ink threshold."""
    out = image.copy()
    x0, y0, x1, y1 = pixels(box)
    w = x1 - x0
    points = np.array([(x0 + 0.1 * w, y0 + 0.4 * w), (x0 + 0.45 * w, y1),
                       (x1 + 0.3 * w, y0 - 0.6 * w)], dtype=np.int32)
    cv2.polylines(out, [points], False, 185, 3)
    core_line = np.full(out.shape, 255, np.uint8)
    cv2.polylines(core_line, [points], False, core, 1)
    core_line[:, (np.arange(out.shape[1]) // 4) % 3 == 0] = 255  # broken, as a pale pen's is
    return np.minimum(out, core_line)


def roller_band(image: Image8, row: int) -> Image8:
    """A dirty roller's light grey band across the page, through a row of boxes."""
    out = image.copy()
    y0, y1 = pixels(boxes()[row * COLUMNS])[1::2]
    out[y0 + (y1 - y0) // 3 : y0 + (y1 - y0) // 2] = np.minimum(
        out[y0 + (y1 - y0) // 3 : y0 + (y1 - y0) // 2], 190)
    return out


def test_a_pale_pen_s_tick_is_read_at_its_own_shade() -> None:
    """A thin grey pen, on a colour scan, is darker than the ink threshold only in pieces along
    its stroke's middle: too little ink for a mark, though a person sees a tick at once. Taken
    at light grey's shade, the pieces are one stroke across the box. A roller's band through
    the row, light grey alone (a pencil) and the same dark pieces scattered are not."""
    image = roller_band(printed(), 0)
    image = pale_tick(image, boxes()[1], core=135)
    image = pale_tick(image, boxes()[3], core=200)  # light grey throughout: a pencil
    x0, y0, x1, y1 = pixels(boxes()[5])
    for dx, dy in ((0.3, 0.3), (0.6, 0.65)):
        cx, cy = round(x0 + dx * (x1 - x0)), round(y0 + dy * (y1 - y0))
        image[cy : cy + 2, cx : cx + 4] = 135  # two dark specks, no stroke
    read = read_all(image)
    assert read[1].state == "marked" and read[1].confidence >= 0.85
    assert read[1].fill < 0.06  # less dark ink than a mark: only its stroke tells
    assert states(read)[2] == "empty" and states(read)[4] == "empty"  # the band alone
    assert read[3].confidence < 0.8 and read[3].faint  # a pencil still goes to a person
    assert states(read)[5] != "marked"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_tick_under_grey_toner_is_read_at_the_respondent_s_pen_s_shade(seed: int) -> None:
    """On a grey scan a drum's toner lands on a tick as well as beside it, and both boxes are
    left unsure. Read again at the shade of the respondent's pen (their sure tick on the next
    row), the tick is a stroke of the pen's ink across the box, toner or not; the box holding
    only toner has none of the pen's ink, and is empty where the question's sure marks are all
    the pen's. Bitonal, toner is as black as the pen, and both stay with a person."""
    pen_ink = np.where(tick(printed(), boxes()[1]) < 128, 60, 255)
    image = np.minimum(printed(), pen_ink)
    image = np.minimum(image, np.where(tick(printed(), boxes()[COLUMNS + 2]) < 128, 60, 255))
    image = toner(image.astype(np.uint8), centre(boxes()[1]), (9.0, 13.0), 0.6, seed, (90, 150))
    image = toner(image, centre(boxes()[3]), (9.0, 13.0), 0.6, seed + 10, (90, 150))
    inks = [measure_box(image, box, SCALE, THRESHOLD) for box in boxes()]
    noise = page_noise(inks)
    read = [classify_box(ink, noise) for ink in inks]
    assert read[1].confidence < 0.8 and read[3].confidence < 0.8  # alone, both are doubts
    results = [BoxResult("q", str(i), r.state, r.fill, r.confidence, tone=r.tone)
               for i, r in enumerate(read)]
    pen = pen_tone(results, 0.8)
    assert pen is not None and pen < 0.5
    assert reread_at_pen(inks[1], read[1].tone, pen, pen_marks_only=True) == "marked"
    assert reread_at_pen(inks[3], read[3].tone, pen, pen_marks_only=True) == "empty"
    # beside a sure "mark" as pale as toner, the empty box stays a doubt
    assert reread_at_pen(inks[3], read[3].tone, pen, pen_marks_only=False) is None
    bitonal = np.where(image < THRESHOLD, 0, 255).astype(np.uint8)
    black = [measure_box(bitonal, box, SCALE, THRESHOLD) for box in boxes()]
    assert reread_at_pen(black[1], 0.0, 0.0, pen_marks_only=True) is None
    assert reread_at_pen(black[3], 0.0, 0.0, pen_marks_only=True) is None
