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
from pipeline.forms.manifest import Box
from pipeline.model import Grid, Label, Question, Questionnaire, Repeat, expand_items
from pipeline.read.register import INK_OF_PAPER
from pipeline.read.results import flag_reason
from pipeline.read.tesseract import ocr_words

Image8 = NDArray[np.uint8]

FRAME_INSET_PT = 3.0  # skip the printed frame and a little of its surroundings
BLANK_INK_SHARE = 0.002
LOW_CONFIDENCE = 70.0
DARKEST_PERCENTILE = 0.5  # a box's darkest strokes: this percentile of its pixels
PALE_INK_OF_PAPER = 0.8  # a box's own threshold stays this far below the paper
WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]{2}")  # letters, inner ' and -: 2 or more


@dataclass(frozen=True)
class TextReading:
    text: str
    confidence: float  # 0..1; 1 for a confidently blank box
    crop: Image8
    problem: str = ""  # why a person should look, when they should


def crop_box(image: Image8, box: Box, scale: float, inset_pt: float = 0.0) -> Image8:
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


def read_text_box(image: Image8, box: Box, scale: float, threshold: int,
                  timeout: float, user_words: Sequence[str] = ()) -> TextReading:
    crop = crop_box(image, box, scale, FRAME_INSET_PT)
    ink = crop < stroke_threshold(crop, threshold)
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
