"""Checks every template source gets, whatever its format: names unique, links resolvable."""

from __future__ import annotations

from collections import Counter

from pipeline.errors import TemplateError
from pipeline.model import Questionnaire


def check_questionnaire(questionnaire: Questionnaire, source: str) -> None:
    counts = Counter(q.name for q in questionnaire.questions)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise TemplateError(f"template {source}: duplicate question names {duplicates}")
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
