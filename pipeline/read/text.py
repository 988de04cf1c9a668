"""Free-text boxes: crop inside the printed frame, OCR it, and keep the crop for a person.

tesseract is given the consultation's own vocabulary (the words of its questions and choices, and
any word list the organisers add) as user words: place names and scheme names are what its
English dictionary would otherwise "correct".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.errors import ProgramFailedError
from pipeline.model import Grid, Label, Question, Questionnaire, Repeat, expand_items
from pipeline.programs.tesseract import OcrWord, ocr_words
from pipeline.read.register import INK_OF_PAPER
from pipeline.read.tickbox import TONE_PERCENTILE, TONER_PALER
from pipeline.records import Box, flag_reason

Image8 = NDArray[np.uint8]

FRAME_INSET_PT = 3.0  # skip the printed frame and a little of its surroundings
BLANK_INK_SHARE = 0.002
LOW_CONFIDENCE = 70.0
SPECKLED_WORD = 60.0  # in a speckled box, a word read less confidently goes to a person
SPECKLE_LINE_LETTERS = 3  # a line of doubtful words this short on average is speckle
SPECKLE_LINE_DOUBTS = 2 / 3  # when at least this share of its words are doubtful
SURE_WORD_LETTERS = 3  # and none of them is a word this long read surely
SPECKS_ONLY = 0.85  # confidence that a speckled box in which no word is read holds no writing
SPECKS_PER_PIXEL = 0.0005  # a box with this many specks (a pen's dot or less) is speckled
THROUGH_SPECKLE = 0.2  # in one, ink is this far from the darkest strokes towards the paper
DARK_SHARE = 0.3  # of a piece of writing's ink, at least this much is dark
SPECK_PT = 2.0  # and pieces within a square this size are specks
BESIDE_PT = 2.5  # unless they are this close to the writing
STREAK_PT = 1.5  # a drum's or the glass's streak is no thicker than this
STREAK_SPAN = 0.5  # and runs across at least this share of the box
STREAK_RUN_PT = 6.0  # its straight runs are at least this long (a letter's are shorter)
STREAK_LONG_PT = 36.0  # and longer than this: in a box one line high, a letter's stem is not
STREAK_ROW = 0.5  # a row inked in long runs across this share of the box is a band's edge
FRAME_REACH_PT = 6.0  # a fold can bend the frame's printed line this far into the crop
DARKEST_PERCENTILE = 0.5  # a box's darkest strokes: this percentile of its pixels
PALE_INK_OF_PAPER = 0.8  # a box's own threshold stays this far below the paper
LINES_AND_DOTS = "|/\\_-–—~.,:;'‘’`\""
WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]{2}")  # letters, inner ' and -: 2 or more


@dataclass(frozen=True)
class TextReading:
    text: str
    confidence: float  # 0..1; 1 for a confidently blank box
    crop: Image8
    problem: str = ""  # why a person should look, when they should
    # Read through speckle, only short words tesseract doubts ("ee", "Sy"): toner as often as a
    # short answer, which the question's own logic may settle (answers._specify_in_speckle).
    doubtful_short: bool = False


def crop_box(image: Image8, box: Box, scale: float, inset_pt: float = 0.0) -> Image8:
    """The part of the page inside `box` (PDF points; `scale` is pixels per point), shrunk on
    every side by `inset_pt` points to leave the printed frame out."""
    x0, y0, x1, y1 = box
    return np.ascontiguousarray(image[
        round((y0 + inset_pt) * scale) : round((y1 - inset_pt) * scale),
        round((x0 + inset_pt) * scale) : round((x1 - inset_pt) * scale),
    ])


def stroke_threshold(crop: Image8, threshold: int) -> int:
    """The ink threshold for one box's own writing: halfway between the paper and its darkest
    strokes when those are pale (pale blue gel, pencil), never lower than the page's.

    The page's threshold keeps only the core of a pale stroke, and tesseract reads broken
    strokes badly; black ink keeps the page's threshold. A box with no ink keeps it too, so
    paper noise is never taken for writing.
    """
    if crop.size == 0:
        return threshold
    darkest = float(np.percentile(crop, DARKEST_PERCENTILE))
    if darkest >= threshold:
        return threshold
    paper = threshold / INK_OF_PAPER
    return int(max(threshold, min(paper * PALE_INK_OF_PAPER, (paper + darkest) / 2)))


def speckled(ink: NDArray[np.bool_], scale: float) -> bool:
    """Whether the box's ink is strewn with specks, as a dirty drum or glass leaves it: many
    pieces no larger than a pen's dot. Writing, even hurried, is a few large pieces."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    specks = int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] <= scale * scale))
    return specks >= SPECKS_PER_PIXEL * ink.size


def without_frame(ink: NDArray[np.bool_], scale: float) -> NDArray[np.bool_]:
    """The ink less what is left of the printed frame: where a fold bends the sheet, the frame's
    line runs into the crop from its edge (tesseract reads it as "~~" or "---"). Such a piece
    touches the crop's edge, keeps within a few points of it, is no thicker than a printed line,
    and runs along the edge rather than away from it; a letter crossing the frame reaches
    further in."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8),
                                                               connectivity=8)
    height, width = ink.shape
    reach, thin = FRAME_REACH_PT * scale, STREAK_PT * scale
    frame = np.zeros(count, dtype=bool)
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        across = (y == 0 or y + h == height) and h <= reach and w >= 2 * h and area <= thin * w
        down = (x == 0 or x + w == width) and w <= reach and h >= 2 * w and area <= thin * h
        frame[label] = across or down
    if not frame.any():
        return ink
    return np.asarray(ink & ~frame[labels], dtype=np.bool_)


def without_streaks(ink: NDArray[np.bool_], scale: float) -> NDArray[np.bool_]:
    """The ink less the straight lines a dirty roller's band or the scanner's glass draws right
    across a box. Such a line can run through the writing, joining its letters into one piece
    tesseract reads nothing in; no pen stroke runs straight across half a box, thin, nor inks
    most of a row of it in long straight runs. A line's pieces are found by those runs (an
    opening along it), with a pixel on either side, where the band's edge blurs; a band broken
    into dashes still inks most of its rows in them."""
    height, width = ink.shape
    thin, run = STREAK_PT * scale, max(3, round(STREAK_RUN_PT * scale))
    streaks = np.zeros(ink.shape, dtype=np.uint8)
    for kernel, span, along, edge in (((1, run), width, cv2.CC_STAT_WIDTH, (3, 1)),
                                      ((run, 1), height, cv2.CC_STAT_HEIGHT, (1, 3))):
        runs = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
        if along == cv2.CC_STAT_WIDTH:
            streaks[runs.mean(axis=1) >= STREAK_ROW, :] = 1
        _, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        length = stats[:, along]
        line = ((length >= max(STREAK_SPAN * span, STREAK_LONG_PT * scale))
                & (stats[:, cv2.CC_STAT_AREA] <= thin * length))
        line[0] = False
        if line.any():
            grown = cv2.dilate(line[labels].astype(np.uint8), np.ones(edge, np.uint8))
            streaks |= np.asarray(grown, dtype=np.uint8)
    if not streaks.any():
        return ink
    return np.asarray(ink & (streaks == 0), dtype=np.bool_)


def writing_through_speckle(crop: Image8, ink: NDArray[np.bool_], threshold: int,
                            scale: float) -> NDArray[np.bool_]:
    """The pen's ink in a speckled box. Its strokes hold the darkest ink in the box, a drum's
    or glass's speckle is mostly paler: a piece of ink is writing when it holds ink that dark
    (after a median filter, so that single dark specks do not count) and is larger than a
    speck, or lies beside such a piece (punctuation, the dot of an i); a thin streak across
    the box is not writing. Each piece is kept whole, so that thin strokes stay joined. `ink`
    is the crop's ink at the box's own threshold."""
    smoothed = np.asarray(cv2.medianBlur(crop, 3), dtype=np.uint8)
    darkest = float(np.percentile(smoothed, DARKEST_PERCENTILE))
    paper = threshold / INK_OF_PAPER
    dark = smoothed < min(float(threshold), darkest + THROUGH_SPECKLE * (paper - darkest))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8),
                                                               connectivity=8)
    # writing is mostly dark ink; a cloud of specks that touch is mostly pale
    holds_dark = (np.bincount(labels[dark], minlength=count)
                  >= DARK_SHARE * stats[:, cv2.CC_STAT_AREA])
    height, width = ink.shape
    thin, speck = STREAK_PT * scale, (SPECK_PT * scale) ** 2
    large = np.zeros(count, dtype=bool)
    small = np.zeros(count, dtype=bool)
    for label in range(1, count):
        _, _, w, h, area = (int(v) for v in stats[label])
        streak = ((h <= thin and w >= STREAK_SPAN * width)
                  or (w <= thin and h >= STREAK_SPAN * height))
        large[label] = holds_dark[label] and area > speck and not streak
        small[label] = area <= speck
    side = max(3, round(2 * BESIDE_PT * scale) | 1)
    beside = cv2.dilate(large[labels].astype(np.uint8), np.ones((side, side), np.uint8)) > 0
    keep = large.copy()
    keep[np.unique(labels[beside & small[labels]])] = True
    keep[0] = False
    return np.asarray(keep[labels], dtype=np.bool_)


def _without_pale_toner(crop: Image8, ink: NDArray[np.bool_], threshold: int, pen: float,
                        scale: float) -> NDArray[np.bool_]:
    """The ink less its pieces much paler than the respondent's pen (their ticks on the same
    page) and away from anything as dark: clumps of a drum's toner on a grey scan, left when
    the box holds no darker writing to measure them against. A piece of writing that toner
    touches is darker for the pen in it; a pale wisp of a letter lies beside the rest of it."""
    count, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    areas = np.bincount(labels.ravel(), minlength=count)
    # as a box's tone is measured: a piece is pale when less than a tenth of it is pen-dark
    dark = crop < (pen + TONER_PALER) * threshold
    pale = np.bincount(labels[dark], minlength=count) < TONE_PERCENTILE / 100 * areas
    pale[0] = False
    if not pale.any():
        return ink
    side = max(3, round(2 * BESIDE_PT * scale) | 1)
    penned = (ink & ~pale[labels]).astype(np.uint8)
    beside = cv2.dilate(penned, np.ones((side, side), np.uint8)) > 0
    pale[np.unique(labels[beside])] = False
    return np.asarray(ink & ~pale[labels], dtype=np.bool_)


def read_text_box(image: Image8, box: Box, scale: float, threshold: int,
                  timeout: float, user_words: Sequence[str] = (),
                  pen: float | None = None) -> TextReading:
    """`pen`: how dark the respondent's pen is on this page, as a tone (answers.pen_tone)."""
    crop = crop_box(image, box, scale, FRAME_INSET_PT)
    ink = without_streaks(without_frame(crop < stroke_threshold(crop, threshold), scale), scale)
    through_speckle = speckled(ink, scale)
    if through_speckle:
        ink = writing_through_speckle(crop, ink, threshold, scale)
        if pen is not None:
            ink = _without_pale_toner(crop, ink, threshold, pen, scale)
    if float(ink.mean()) < BLANK_INK_SHARE:
        return TextReading("", 1.0, crop)
    cleaned = np.where(ink, 0, 255).astype(np.uint8)
    cleaned = np.asarray(
        cv2.copyMakeBorder(cleaned, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255), np.uint8
    )
    try:
        words = ocr_words(cleaned, timeout=timeout, user_words=user_words)
    except ProgramFailedError as exc:
        return TextReading("", 0.0, crop, problem=flag_reason("OCR failed", str(exc)))
    if through_speckle:  # what specks left behind: lone marks tesseract is unsure of
        words = _without_speckle_lines([w for w in words if any(c.isalnum() for c in w.text)
                                        and (len(w.text) > 1 or w.confidence >= LOW_CONFIDENCE)])
        if not words:
            # Dark specks and clumps of toner, but nothing tesseract takes for a letter, a digit
            # or a word: no writing. Never quite sure, which shows in `_confidence`.
            return TextReading("", SPECKS_ONLY, crop)
        doubtful = [w.text for w in words if w.confidence < SPECKLED_WORD]
        if doubtful:  # a speck read as a word, or a word lost in speckle
            text = " ".join(w.text for w in words)
            return TextReading(text, min(w.confidence for w in words) / 100.0, crop,
                               flag_reason("OCR low confidence",
                                           f"speckled box; unsure of {' '.join(doubtful)}"),
                               doubtful_short=only_short_doubts(words))
    # Lines and dots alone ("|", "_", "."): what tesseract makes of what is left of a streak or
    # the printed guide lines, never a word of writing.
    words = [w for w in words if w.text.strip(LINES_AND_DOTS)]
    if not words:
        return TextReading("", 0.0, crop, problem=flag_reason(
            "OCR low confidence", "ink in the box but no text recognised"))
    lines: dict[tuple[int, int, int], list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    text = " ".join(" ".join(ws) for _, ws in sorted(lines.items()))
    confidence = float(np.mean([w.confidence for w in words])) / 100.0
    problem = flag_reason("OCR low confidence", f"{confidence:.0%} on average") \
        if confidence * 100 < LOW_CONFIDENCE else ""
    return TextReading(text, confidence, crop, problem)


def only_short_doubts(words: Sequence[OcrWord]) -> bool:
    """Whether every word read in a speckled box is one tesseract doubts, of a few letters at
    most: what toner reads as, and a short answer too."""
    return bool(words) and all(w.confidence < SPECKLED_WORD and len(w.text) <= SPECKLE_LINE_LETTERS
                               for w in words)


def _without_speckle_lines(words: Sequence[OcrWord]) -> list[OcrWord]:
    """The words less the lines tesseract made of a speckled box's toner ("ee a ck te Ce"): two
    or more words of a few letters on average, most of them doubtful, and no word of three
    letters or more that tesseract is sure of. A line of writing, however damaged, holds such
    a word, or longer words, or short words read surely ("I am ok"); a line of one short word
    stays, since it may be a short answer."""
    lines: dict[tuple[int, int, int], list[OcrWord]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word)
    speckle = {line for line, own in lines.items() if _speckle_line(own)}
    return [w for w in words if w.line not in speckle]


def _speckle_line(words: Sequence[OcrWord]) -> bool:
    doubtful = sum(w.confidence < SPECKLED_WORD for w in words)
    sure_word = any(w.confidence >= SPECKLED_WORD and len(w.text) >= SURE_WORD_LETTERS
                    for w in words)
    return len(words) >= 2 and not sure_word and doubtful >= SPECKLE_LINE_DOUBTS * len(words) \
        and sum(len(w.text) for w in words) <= SPECKLE_LINE_LETTERS * len(words)


def consultation_words(questionnaire: Questionnaire, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The words of the questionnaire (headings, notes, questions, choices, grid rows), in every
    language printed, and the extra word list: what respondents echo in their own writing."""
    return _consultation_words(questionnaire, tuple(extra))


@lru_cache(maxsize=16)
def _consultation_words(questionnaire: Questionnaire, extra: tuple[str, ...]) -> tuple[str, ...]:
    labels: list[Label] = [questionnaire.title, questionnaire.intro]
    for item in expand_items(questionnaire.items):  # a repeat's words are in every copy
        labels.append(item.label)
        if isinstance(item, Repeat):
            labels.append(item.hint)
        if isinstance(item, Question | Grid):
            labels += [item.hint, *(c.label for c in item.choices)]
        if isinstance(item, Grid):
            labels += [row.label for row in item.rows]
    texts: Iterable[str] = (text for label in labels for _, text in label.texts)
    words = dict.fromkeys(w for text in (*texts, *extra) for w in WORD.findall(text))
    return tuple(words)
