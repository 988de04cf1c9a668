"""From box readings to answers: question logic, and what must go to a person.

Every answer sent to a person says why, with a category from a small fixed set
(results.FlagCategory) at the start of its reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from pipeline.model import Question, Questionnaire
from pipeline.read.text import SPECKS_ONLY, TextReading
from pipeline.read.tickbox import BLACK_PEN, POROUS_CONFIDENCE, TONER_PALER
from pipeline.records import Answer, BoxResult, FlagCategory, PageLayout, flag_of, flag_reason

HEAVY_MARK = 0.6  # a mark this dark is hard to tell from a box filled in to cancel it
RING_INK = 0.08  # ink share around a box that only a ring (or a spilling mark) leaves
RING_READ = 0.11  # a ring this inked on every side, alone in its question, is read as the choice
RING_CONFIDENCE = 0.9
SPILL_EDGE = 0.1  # a stroke this thick across a box's margin runs through the box
SPILL_CONFIDENCE = 0.85  # a tick through a box, alone on its question, is the choice
FAINT_BESIDE_INK = 0.85  # a sure mark in dark ink, light grey in boxes beside it: the mark
CLEAR_MARK = 0.95  # a mark read this surely, not through speckle, is what the respondent made
BESIDE_CLEAR_MARK = 0.85  # one clear mark on a single choice, doubts that lean empty: the mark
FILLED_ALONE = 0.9  # a box filled in with nothing else marked on its question is the choice
PEN_SPREAD = 0.15  # and the respondent's own marks are within this of the page's middle one
# One sure mark of a single choice whose only doubts are boxes in speckle: the mark, never quite
# sure, which `_confidence` shows (below the default review threshold) and the answer's note says.
AMONG_SPECKLE = 0.6
AMONG_SPECKLE_NOTE = "read among speckle"
TONER_CONFIDENCE = 0.85
# A box read empty through speckle this surely holds no more ink than the speckle around it.
LEANS_EMPTY = 0.6
OTHER_NAME = re.compile(r"^other(_.*)?$", re.IGNORECASE)
OTHER_LABEL = re.compile(r"^\s*(other\b.*|yes\W*)$", re.IGNORECASE)


@dataclass(frozen=True)
class PageIdentity:
    """Which page of which copy: what the audit sample is drawn from."""

    form_key: str
    serial: str
    page: int


def interpret_page(questionnaire: Questionnaire, page: PageLayout, boxes: Sequence[BoxResult],
                   texts: Mapping[str, TextReading], review_below: float,
                   encode: Callable[[NDArray[np.uint8]], bytes], audit_share: float = 0.0,
                   identity: PageIdentity | None = None) -> list[Answer]:
    """The answers of one identified page, a question at a time, from its box and text readings.
    One less confident than `review_below` (0-1) goes to a person with its reason; `encode` makes
    the PNG of a text's crop kept for them; `audit_share` (0-1) of the confident ones go to a
    person all the same, the same ones on every reading (`identity` decides which)."""
    answers = []
    toner_only: set[str] = set()
    pen = pen_tone(boxes, review_below)
    on_page = list(dict.fromkeys(f.question for f in page.fields))
    for name in on_page:
        question = questionnaire.question(name)
        if not question.is_choice:
            # Text a person should check keeps its reading, so the check is a correction.
            reading = texts[name]
            written = bool(reading.text or reading.problem)  # a blank box needs no crop kept
            answer = Answer(name, reading.text, reading.confidence,
                            needs_review=bool(reading.problem), reason=reading.problem,
                            crop_png=encode(reading.crop) if written else None,
                            flag=flag_of(reading.problem))
            if reading.doubtful_short and question.other_of:
                toner_only.add(name)
            answers.append(answer)
            continue
        own = [b for b in boxes if b.question == name]
        answers.append(choice_answer(name, question.type == "select_multiple", own, review_below,
                                     pen))
    answers = check_specify(questionnaire, _specify_in_speckle(questionnaire, answers,
                                                               toner_only))
    if audit_share > 0 and identity is not None:
        answers = [audited(a) if not a.needs_review and in_audit(
            identity, a.question, audit_share) else a for a in answers]
    return answers


def _spilled(boxes: Sequence[BoxResult], unsure: Sequence[BoxResult],
             multiple: bool) -> list[BoxResult]:
    """The boxes a tick runs through rather than sits in (drawn large, or off to one side):
    little ink inside, a stroke across the margin, and on the rest of the question nothing at
    all, or on a multiple choice only sure marks. A person reads such a tick at a glance as a
    choice."""
    rest = [b for b in boxes if b not in unsure]
    allowed = ("empty", "marked") if multiple else ("empty",)
    if not unsure or any(b.state != "empty" or b.faint or b.noisy for b in unsure) \
            or any(b.state not in allowed or b.faint or b.noisy for b in rest):
        return []
    if any(b.edge < SPILL_EDGE for b in unsure):
        return []
    if any(b.surround >= RING_INK for b in rest if b.state == "empty"):
        return []  # a ring, or a mark beside the boxes: a person looks
    return list(unsure)


def _faint_beside_ink(boxes: Sequence[BoxResult], unsure: Sequence[BoxResult],
                      pen: float | None) -> bool:
    """Whether the question's only doubt is light grey in boxes beside a sure mark in dark ink:
    the other side of thin paper showing through, a dirty roller, or a mark rubbed out. The
    respondent's pen is the dark ink; a pencil user's marks are all light."""
    rest = [b for b in boxes if b not in unsure]
    if any(b.state not in ("marked", "empty") or (b.state == "empty" and b.surround >= RING_INK)
           for b in rest):
        return False  # a box filled in, or a ring: the usual rules, and a person, decide
    sure = [b for b in rest if b.state == "marked" and not b.faint]
    if any(b.noisy for b in boxes) and (pen is None or any(
            b.noisy or b.tone > pen + PEN_SPREAD for b in sure)):
        return False  # in speckle, the "mark" may be a clump of toner: it must be the pen's
    return bool(sure) and all(b.state == "empty" and b.faint for b in unsure)


def _beside_clear_mark(boxes: Sequence[BoxResult], unsure: Sequence[BoxResult],
                       pen: float | None) -> BoxResult | None:
    """The one clear mark of a single choice whose only doubts are boxes that lean empty (a
    stroke in the margin, a speck, light grey) or hold only toner's grey: the respondent's
    answer, as a person reads it at a glance; a respondent who meant a second box would have
    marked it as clearly. Not where a box is filled in or ringed, nor where the mark itself was
    read through speckle or is paler than the respondent's pen; in speckle, the mark must be as
    dark as the pen's other marks on the page, or it may be a clump of toner."""
    if any(b.state != "empty" and not _speckle_only(b, pen) for b in unsure):
        return None
    mark = _single_sure_mark(boxes, unsure)
    if mark is None or mark.confidence < CLEAR_MARK or mark.noisy or mark.faint:
        return None
    if pen is None:
        return None if any(b.noisy for b in boxes) else mark
    return mark if mark.tone <= pen + PEN_SPREAD else None


def _mark_among_speckle(boxes: Sequence[BoxResult], unsure: Sequence[BoxResult],
                        pen: float | None) -> BoxResult | None:
    """The one sure mark of a single choice whose every doubt lies in speckle: a box that leans
    empty, or one that holds only a cloud of ink without a pen's stroke (read marked at 0.55 or
    less). Where a dirty drum's toner lies across a page, a person reads the tick and passes
    over the dirt; sending every such question to a person sends most of the page. Unlike
    `_beside_clear_mark`, the mark may itself lie in speckle and the doubt may be as dark as
    the pen (on a bitonal scan everything is black): the answer is read, but at AMONG_SPECKLE,
    so that `_confidence` and the answer's note say it was read through dirt. Not where a box
    is filled in or ringed, where a doubt is not in speckle (a stroke in the margin may be a
    tick running through), nor where the mark is light grey or paler than the pen."""
    if pen is None or any(not b.noisy or b.faint or b.state not in ("empty", "marked")
                          or (b.state == "marked" and b.confidence > POROUS_CONFIDENCE)
                          for b in unsure):
        return None
    mark = _single_sure_mark(boxes, unsure)
    if mark is None or mark.faint or mark.tone > pen + PEN_SPREAD:
        return None
    return mark


def _single_sure_mark(boxes: Sequence[BoxResult], unsure: Sequence[BoxResult]
                      ) -> BoxResult | None:
    """The question's one sure mark, where its other sure boxes are empty and no empty box has
    ink around it (a ring): what both readings beside doubts start from."""
    rest = [b for b in boxes if b not in unsure]
    if any(b.state not in ("empty", "marked") for b in rest) \
            or any(b.state == "empty" and b.surround >= RING_INK for b in boxes):
        return None
    marked = [b for b in rest if b.state == "marked"]
    return marked[0] if len(marked) == 1 else None


def _speckle_only(box: BoxResult, pen: float | None) -> bool:
    """Whether a box read as marked through speckle holds ink as pale as toner beside the
    respondent's pen. On a bitonal scan toner is as black as any pen: nothing tells, and the
    box stays a doubt a person settles."""
    return box.state == "marked" and box.noisy and pen is not None and pen >= BLACK_PEN \
        and box.tone >= pen + TONER_PALER


def _ringed(boxes: Sequence[BoxResult]) -> list[str]:
    """Empty boxes with ink all around them: circled answers (a multiple choice may have
    several). An empty box's surroundings are bare paper; a neighbour's spilling mark may also
    trip this, which only sends the question to a person."""
    return [b.value for b in boxes if b.state == "empty" and b.surround >= RING_INK]


def _clearly_ringed(boxes: Sequence[BoxResult], multiple: bool) -> bool:
    """Rings that can be read: no box of the question marked or filled in, every ring inked well
    on every side, and on a single choice only one of them."""
    if any(b.state != "empty" for b in boxes):
        return False
    ringed = [b for b in boxes if b.surround >= RING_INK]
    if any(b.surround < RING_READ for b in ringed):
        return False
    return multiple or len(ringed) == 1


def pen_tone(boxes: Sequence[BoxResult], review_below: float) -> float | None:
    """How dark the respondent's pen is on this page: the middle of its sure marks' tones (None
    without one)."""
    tones = sorted(b.tone for b in boxes if b.state == "marked" and not b.faint
                   and b.confidence >= review_below)
    return tones[len(tones) // 2] if tones else None


def _pale_as_toner(box: BoxResult, pen: float | None) -> bool:
    """Whether a box's dark ink is much paler than the respondent's pen: the speckle's own toner,
    as a person sees grey dots beside black ticks. (Light grey alone, a pencil, is not: it may
    be a second pen; nor is a box filled in.)"""
    return pen is not None and not box.faint and box.state != "cancelled" \
        and pen + TONER_PALER <= box.tone < 1.0


def _speckle_alone(box: BoxResult, review_below: float) -> bool:
    """Whether a box read empty through speckle holds no more ink than the speckle around it
    (read at LEANS_EMPTY or more: a box with more ink reads less surely), has no stroke across
    its margin (a tick running through) and no ink around it (a ring, a mark beside it): the
    speckle's, on a single or a multiple choice. On the two mailroom corpora 45 such boxes were
    all empty."""
    return box.state == "empty" and box.noisy and LEANS_EMPTY <= box.confidence < review_below \
        and box.surround < RING_INK and box.edge < SPILL_EDGE


def _as_toner(box: BoxResult) -> BoxResult:
    return replace(box, state="empty", confidence=TONER_CONFIDENCE, noisy=True)


def pen_marks_only(boxes: Sequence[BoxResult], pen: float | None, review_below: float) -> bool:
    """Whether every sure mark of the question is as dark as the respondent's pen: where one is
    as pale as toner, toner can pass for a sure mark here, and none of the question's doubts
    is set aside."""
    return pen is not None and all(b.tone <= pen + PEN_SPREAD for b in boxes
                                   if b.state == "marked" and b.confidence >= review_below)


def choice_answer(name: str, multiple: bool, boxes: Sequence[BoxResult],
                  review_below: float, pen: float | None = None) -> Answer:
    """Cancelled boxes count as not chosen; several live marks on a single choice go to a person.
    `pen`: how dark the respondent's pen is on the page (pen_tone)."""
    if any(b.noisy for b in boxes):
        # In speckle a drum's clump can be solid enough to pass for a sure tick: as pale as
        # toner, it is toner.
        boxes = [_as_toner(b) if b.confidence >= review_below and not b.noisy
                 and _pale_as_toner(b, pen) else b for b in boxes]
    if pen_marks_only(boxes, pen, review_below):
        boxes = [_as_toner(b) if (b.noisy or b.confidence < review_below)
                 and _pale_as_toner(b, pen) else b for b in boxes]
    boxes = [_as_toner(b) if _speckle_alone(b, review_below) else b for b in boxes]
    marked = [b for b in boxes if b.state == "marked"]
    confidence = min((b.confidence for b in boxes), default=1.0)
    unsure = [b for b in boxes if b.confidence < review_below]
    spilled = _spilled(boxes, unsure, multiple)
    if spilled and (multiple or len(spilled) == 1):
        return Answer(name, " ".join(b.value for b in boxes if b.state == "marked"
                                     or b in spilled), SPILL_CONFIDENCE)
    if unsure and (multiple or len(marked) == 1) \
            and _faint_beside_ink(boxes, unsure, pen):
        return Answer(name, " ".join(b.value for b in marked), FAINT_BESIDE_INK)
    clear = None if multiple or not unsure else _beside_clear_mark(boxes, unsure, pen)
    if clear is not None:
        return Answer(name, clear.value, BESIDE_CLEAR_MARK)
    among = None if multiple or not unsure else _mark_among_speckle(boxes, unsure, pen)
    if among is not None:
        doubts = " ".join(b.value for b in unsure)
        return Answer(name, among.value, AMONG_SPECKLE,
                      reason=f"{AMONG_SPECKLE_NOTE}: {among.value} marked, speckle in {doubts}")
    if unsure:
        names = " ".join(b.value for b in unsure)
        if all(b.faint for b in unsure):
            return _flagged(name, confidence, "low contrast", f"faint marks in {names}")
        if any(b.noisy for b in unsure):
            return _flagged(name, confidence, "noisy scan",
                            f"speckle or streaks on the scan hide whether {names} is marked")
        return _flagged(name, confidence, "ambiguous", f"unsure reading of {names}")
    cancelled = [b.value for b in boxes if b.state == "cancelled"]
    bare = all(b.state == "cancelled" or b.surround < RING_INK for b in boxes)
    if cancelled and not marked and bare and (multiple or len(cancelled) == 1):
        # Filled in, and nothing else on the question (no tick, no ring) for a cancellation to
        # give way to: the box was filled in to choose it, as bubble forms teach.
        return Answer(name, " ".join(cancelled), min(confidence, FILLED_ALONE))
    if cancelled and (not marked or any(b.fill >= HEAVY_MARK for b in marked)):
        # Several boxes filled in with none ticked, or beside marks nearly as dark: each may be
        # a heavy mark rather than a cancellation, and a person decides.
        return _flagged(name, min(confidence, 0.5), "cancelled or heavy",
                        f"filled-in box {' '.join(cancelled)}: a cancelled mark, or a heavy one?")
    ringed = _ringed(boxes)
    if ringed:
        if _clearly_ringed(boxes, multiple):
            # Circled instead of ticked, and nothing else on the question: what was meant is
            # plain, as a person keying the form would take it.
            return Answer(name, " ".join(ringed), min(confidence, RING_CONFIDENCE))
        return _flagged(name, min(confidence, 0.5), "ringed",
                        f"a ring drawn around {' '.join(ringed)}: circled instead of ticked?")
    if multiple:
        return Answer(name, " ".join(b.value for b in marked), confidence)
    if len(marked) > 1:
        chosen = " ".join(b.value for b in marked)
        return _flagged(name, confidence, "ambiguous", f"{len(marked)} marked ({chosen})")
    return Answer(name, marked[0].value if marked else "", confidence)


def opening_choices(owner: Question, specify: str) -> set[str]:
    """The owner's choices that lead to its "please specify" line.

    Where the owner routes, those that do not route past the line; otherwise the choice named
    "other" (or "other_..."), or labelled "Other..." or "Yes"; failing those, the last choice,
    beside which the line is printed.
    """
    if any(c.route_to for c in owner.choices):
        return {c.name for c in owner.choices if c.route_to in ("", specify)}
    named = {c.name for c in owner.choices
             if OTHER_NAME.match(c.name)
             or any(OTHER_LABEL.match(text) for _, text in c.label.texts)}
    if named or not owner.choices:
        return named
    return {owner.choices[-1].name}


def _specify_in_speckle(questionnaire: Questionnaire, answers: Sequence[Answer],
                        toner_only: AbstractSet[str]) -> list[Answer]:
    """The answers, a "please specify" line read through speckle as only short words tesseract
    doubts ("ee", "Sy") left blank when its choice is not marked: toner, as the question says,
    which the respondent would have written beside a choice they made. Never quite sure
    (SPECKS_ONLY), and its crop is kept. On the two mailroom corpora, the 4 lines settled so were
    all toner."""
    by_name = {a.question: a for a in answers}
    settled = []
    for answer in answers:
        owner_name = questionnaire.question(answer.question).other_of
        owner = by_name.get(owner_name) if answer.question in toner_only else None
        if owner is not None and not owner.needs_review and not (
                opening_choices(questionnaire.question(owner_name), answer.question)
                & set(owner.value.split())):
            answer = Answer(answer.question, "", SPECKS_ONLY, crop_png=answer.crop_png)
        settled.append(answer)
    return settled


def check_specify(questionnaire: Questionnaire, answers: Sequence[Answer]) -> list[Answer]:
    """A "please specify" text written although its choice is not marked goes to a person, its
    reading kept: either the text or the choice is wrong, and only a person can say which."""
    by_name = {a.question: a for a in answers}
    checked = []
    for answer in answers:
        question = questionnaire.question(answer.question)
        owner_answer = by_name.get(question.other_of) if question.other_of else None
        if owner_answer is not None and answer.value.strip():
            owner = questionnaire.question(question.other_of)
            opening = opening_choices(owner, question.name)
            if not opening & set(owner_answer.value.split()):
                chosen = owner_answer.value or "nothing"
                detail = (f"text written, but {question.other_of} reads {chosen}, not "
                          f"{' or '.join(sorted(opening))}")
                reason = "; ".join(r for r in (answer.reason, flag_reason(
                    "specify without its choice", detail)) if r)
                answer = replace(answer, needs_review=True, reason=reason,
                                 flag=answer.flag or "specify without its choice")
        checked.append(answer)
    return checked


def in_audit(identity: PageIdentity, question: str, share: float) -> bool:
    """Whether this answer is in the audit sample: a hash of where it is, so that reading the
    same batch again picks the same answers, and the share holds over any large batch."""
    key = f"{identity.form_key}|{identity.serial}|{identity.page}|{question}".encode()
    draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
    return draw < share


def audited(answer: Answer) -> Answer:
    """The answer as read, sent to a person all the same."""
    return replace(answer, needs_review=True, flag="audit", reason=flag_reason(
        "audit", "a confident answer picked at random for a person to check"))


def _flagged(name: str, confidence: float, category: FlagCategory, detail: str) -> Answer:
    """An undecided choice: left empty for a person, with why."""
    return Answer(name, "", confidence, True, flag_reason(category, detail), flag=category)
