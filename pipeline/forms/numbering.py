"""The numbers questions are printed with, which instructions and messages refer to."""

from __future__ import annotations

from pipeline.model import Grid, Question, Questionnaire


def question_numbers(questionnaire: Questionnaire) -> dict[str, int]:
    """Question or grid name -> printed number: a grid takes one, a "please specify" line none."""
    numbers: dict[str, int] = {}
    for item in questionnaire.items:
        if isinstance(item, Grid) or (isinstance(item, Question) and not item.other_of):
            numbers[item.name] = len(numbers) + 1
    return numbers
