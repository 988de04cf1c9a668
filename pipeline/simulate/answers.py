"""Choosing what a simulated respondent answers."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.model import Questionnaire

# Comments of the kind people write on consultation forms; plain words that a reader can check.
COMMENTS = (
    "Please keep the library open on Saturdays.",
    "The new centre is too far for me to walk.",
    "More large print books would help older readers.",
    "I use the computers to look for work every week.",
    "Keep the children's story time, my son loves it.",
    "Parking at Mill Lane is difficult.",
    "The staff are very helpful and friendly.",
    "Could the library stay open until eight in the evening?",
    "We need a quiet room for students during exams.",
    "Home delivery is a lifeline for my mother.",
    "Moving would be fine if the bus stops outside.",
    "Please do not close the library.",
)


def choose_answers(questionnaire: Questionnaire, rng: np.random.Generator) -> dict[str, Any]:
    """One respondent's answers: a choice name, a list of names, a string, or None for blank."""
    answers: dict[str, Any] = {}
    for question in questionnaire.questions:
        names = question.choice_names()
        if question.type == "select_one":
            skip = rng.random() < 0.06
            answers[question.name] = None if skip else str(names[int(rng.integers(len(names)))])
        elif question.type == "select_multiple":
            picked = [name for name in names if rng.random() < 0.35]
            answers[question.name] = picked
        else:
            count = int(rng.choice([0, 1, 1, 2]))
            picks = [int(i) for i in rng.choice(len(COMMENTS), size=count, replace=False)]
            answers[question.name] = " ".join(COMMENTS[i] for i in picks) or None
    return answers
