"""From box readings to answers: question logic, and what must go to a person."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from pipeline.forms.manifest import PageLayout
from pipeline.model import Questionnaire
from pipeline.read.results import Answer, BoxResult
from pipeline.read.text import TextReading


def interpret_page(questionnaire: Questionnaire, page: PageLayout, boxes: Sequence[BoxResult],
                   texts: Mapping[str, TextReading], review_below: float,
                   encode: Callable[[NDArray[np.uint8]], bytes]) -> list[Answer]:
    answers = []
    on_page = list(dict.fromkeys(f.question for f in page.fields))
    for name in on_page:
        question = questionnaire.question(name)
        if not question.is_choice:
            # Text a person should check keeps its reading, so the check is a correction.
            reading = texts[name]
            written = bool(reading.text or reading.problem)  # a blank box needs no crop kept
            answers.append(Answer(name, reading.text, reading.confidence,
                                  needs_review=bool(reading.problem), reason=reading.problem,
                                  crop_png=encode(reading.crop) if written else None))
            continue
        own = [b for b in boxes if b.question == name]
        answers.append(choice_answer(name, question.type == "select_multiple", own, review_below))
    return answers


HEAVY_MARK = 0.6  # a mark this dark is hard to tell from a box filled in to cancel it
RING_INK = 0.08  # ink share around a box that only a ring (or a spilling mark) leaves


def _ringed(boxes: Sequence[BoxResult]) -> list[str]:
    """Empty boxes with ink all around them: circled answers (a multiple choice may have
    several). An empty box's surroundings are bare paper; a neighbour's spilling mark may also
    trip this, which only sends the question to a person."""
    return [b.value for b in boxes if b.state == "empty" and b.surround >= RING_INK]


def choice_answer(name: str, multiple: bool, boxes: Sequence[BoxResult],
                  review_below: float) -> Answer:
    """Cancelled boxes count as not chosen; several live marks on a single choice go to a person."""
    marked = [b for b in boxes if b.state == "marked"]
    confidence = min((b.confidence for b in boxes), default=1.0)
    unsure = [b.value for b in boxes if b.confidence < review_below]
    if unsure:
        return Answer(name, "", confidence, True, f"unsure reading of {' '.join(unsure)}")
    cancelled = [b.value for b in boxes if b.state == "cancelled"]
    if cancelled and (not marked or any(b.fill >= HEAVY_MARK for b in marked)):
        # A box filled in with no other box ticked, or beside marks nearly as dark, may be a
        # heavy mark rather than a cancellation: a person decides.
        return Answer(name, "", min(confidence, 0.5), True,
                      f"filled-in box {' '.join(cancelled)}: a cancelled mark, or a heavy one?")
    ringed = _ringed(boxes)
    if ringed:
        return Answer(name, "", min(confidence, 0.5), True,
                      f"a ring drawn around {' '.join(ringed)}: circled instead of ticked?")
    if multiple:
        return Answer(name, " ".join(b.value for b in marked), confidence)
    if len(marked) > 1:
        chosen = " ".join(b.value for b in marked)
        return Answer(name, "", confidence, True, f"ambiguous: {len(marked)} marked ({chosen})")
    return Answer(name, marked[0].value if marked else "", confidence)
