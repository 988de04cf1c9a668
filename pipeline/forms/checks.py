"""Checks every template source gets, whatever its format: names unique, links resolvable."""

from __future__ import annotations

from collections import Counter

from pipeline.errors import TemplateError
from pipeline.forms.limits import DEFAULT_LIMITS
from pipeline.model import Questionnaire, printed_size

NAME_LENGTH = 128  # the store's question column (pipeline/store/schema.py)


def check_questionnaire(questionnaire: Questionnaire, source: str) -> None:
    """Refuse, with a TemplateError naming `source`, a questionnaire too large to print, with a
    question name used twice or too long to store, or a "please specify" that is not a text
    answer of one of its choice questions. The questionnaire is left unchanged."""
    size = printed_size(questionnaire.items)
    if size > DEFAULT_LIMITS.items:  # before a repeat's copies are made: nested ones multiply
        raise TemplateError(
            f"template {source} has {size:,} questions, notes and headings, a repeat's once per "
            f"copy; papertwin prints at most {DEFAULT_LIMITS.items:,} (items limit): print fewer "
            "copies of its repeats (papertwin::rows), or split it into several questionnaires")
    counts = Counter(q.name for q in questionnaire.questions)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise TemplateError(f"template {source}: duplicate question names {duplicates}")
    long = [q.name for q in questionnaire.questions if len(q.name) > NAME_LENGTH]
    if long:
        raise TemplateError(
            f"template {source}: the name '{long[0]}' is {len(long[0])} characters long; papertwin "
            f"stores names of at most {NAME_LENGTH} (a repeat's answers are named repeat[copy]/"
            "question): shorten the question's name, or its repeat's")
    by_name = {q.name: q for q in questionnaire.questions}
    for question in questionnaire.questions:
        if question.other_of:
            owner = by_name.get(question.other_of)
            if owner is None or not (owner.is_choice or owner.type == "rank"):
                raise TemplateError(
                    f"template {source}: {question.name} is the 'please specify' text of "
                    f"'{question.other_of}', which is not a choice question of this template"
                )
            if question.type != "text":
                raise TemplateError(f"template {source}: {question.name}: a 'please specify' "
                                    "answer must be of type text")
