"""Choosing what a simulated respondent answers, coded as the online export codes it."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline import postcode
from pipeline.forms.route import printed_route
from pipeline.model import Item, Question, Questionnaire, Repeat
from pipeline.simulate import values

# Respondents who answer a question their route skips (a go-to missed, a filter line not read),
# as real ones do: the dataset must tell their answers apart.
OFF_ROUTE_SHARE = 0.1

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
SPECIFY = ("Community transport", "Train to Millbrook", "Lift from a neighbour", "Taxi")
# What people write on a single line, such as a repeat's table row: a name or a word or two.
SHORT_TEXTS = ("Amina", "Gareth Jones", "Rhys", "Tomasz", "Grace", "Mohammed Ali", "Eleri",
               "Peter", "Fatima", "Owen", "Mary Ann", "Daniel")


def choose_answers(questionnaire: Questionnaire, rng: np.random.Generator) -> dict[str, Any]:
    """One respondent's answers: a choice name, a list of names, a string, or None for blank."""
    answers: dict[str, Any] = {}
    for question in questionnaire.questions:
        if question.other_of:
            continue
        answers[question.name] = _answer(question, rng)
    for question in questionnaire.questions:
        if question.other_of:
            owner = answers.get(question.other_of)
            chosen = owner if isinstance(owner, list) else [owner]
            if questionnaire.question(question.other_of).type == "rank":
                chosen = str(owner or "").split()  # the ranked names, in order
            opens = "other" in chosen or "other_way" in chosen
            answers[question.name] = str(SPECIFY[int(rng.integers(len(SPECIFY)))]) \
                if opens else None
    return _unused_copies_blank(questionnaire.items, answers, rng)


def on_printed_route(questionnaire: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers of a respondent who follows the printed go-tos and filter lines: those the
    route passes by left blank. `questionnaire` is the routed one, as the layout holds it."""
    texts = {name: " ".join(v) if isinstance(v, list) else "" if v is None else str(v)
             for name, v in answers.items()}
    given = printed_route(questionnaire, texts)
    return {name: (([] if isinstance(value, list) else None)
                   if name in given and not given[name] else value)
            for name, value in answers.items()}


def _unused_copies_blank(items: tuple[Item, ...], answers: dict[str, Any],
                         rng: np.random.Generator) -> dict[str, Any]:
    """A household of two fills in two copies of a repeat and leaves the rest blank: each repeat
    gets a number of members from 1 to its copies, and the copies after them are left empty."""
    for item in items:
        if not isinstance(item, Repeat):
            continue
        members = int(rng.integers(1, item.count + 1))
        for k in range(1, item.count + 1):
            if k <= members:
                answers = _unused_copies_blank(item.copy_items(k), answers, rng)
                continue
            prefix = item.copy_prefix(k)
            answers = {name: (([] if isinstance(value, list) else None)
                              if name.startswith(prefix) else value)
                       for name, value in answers.items()}
    return answers


def _answer(question: Question, rng: np.random.Generator) -> Any:
    names = question.choice_names()
    if question.type == "acknowledge":
        return None if rng.random() < 0.2 else names[0]
    if question.type == "range":
        return None if rng.random() < 0.06 else str(names[int(rng.integers(len(names)))])
    if question.type == "select_one":
        return None if rng.random() < 0.06 else str(names[int(rng.integers(len(names)))])
    if question.type == "select_multiple":
        return [name for name in names if rng.random() < 0.35]
    if rng.random() < 0.1:
        return None
    if question.type == "integer":
        return values.integer_value(question, rng)
    if question.type == "date":
        return values.date_value(question, rng)
    if question.type == "time":
        return values.time_value(rng)
    if question.type == "datetime":
        return f"{values.date_value(question, rng)}T{values.time_value(rng)}"
    if question.type == "rank":  # every choice ranked, as ODK's rank widget exports them,
        # but an "other" (or_other) only when the respondent has one to specify
        ranked = [str(names[int(i)]) for i in rng.permutation(len(names))]
        if "other" in ranked and rng.random() < 0.7:
            ranked.remove("other")
        return " ".join(ranked)
    if question.type == "decimal":
        return values.decimal_value(question, rng)
    if question.shape == "postcode" or postcode.names_postcode(question.name):
        return values.postcode_value(rng)
    if question.cells:
        return values.cells_text_value(question, rng)
    if question.lines == 1:  # one line to write on: a long comment would not fit
        return SHORT_TEXTS[int(rng.integers(len(SHORT_TEXTS)))]
    count = int(rng.choice([0, 1, 1, 2]))
    picks = [int(i) for i in rng.choice(len(COMMENTS), size=count, replace=False)]
    return " ".join(COMMENTS[i] for i in picks) or None


def cell_text(question: Question, answer: str) -> str:
    """What a respondent writes in the cells for an answer: a date as DDMMYYYY, no point, a time
    as HHMM; for a rank, each choice's rank in its own cells, in the order the choices print."""
    if question.type == "rank":
        order = answer.split()
        return "".join((str(order.index(name) + 1) if name in order else "").rjust(
            question.rank_digits) for name in question.choice_names())
    if question.type == "time":
        return answer.replace(":", "")
    if question.type == "datetime":
        day, clock = answer.split("T")
        year, month, date = day.split("-")
        return f"{date}{month}{year}{clock.replace(':', '')}"
    if question.type == "date":
        year, month, day = answer.split("-")
        return f"{day}{month}{year}"
    if question.type == "decimal":
        whole, _, fraction = answer.partition(".")
        return whole.rjust(question.cells - len(fraction)) + fraction
    if question.shape == "postcode":
        return postcode.in_cells(answer, question.cells)
    if question.type == "integer":
        return answer.rjust(question.cells)  # right-aligned in the cells, as people write sums
    return answer
