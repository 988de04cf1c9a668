"""Printed routing: simple `relevant` conditions become "Go to question n" beside a choice.

An online survey hides a question unless a condition holds; on paper the respondent is told where
to go instead. Only simple comparisons on a single-choice question can be printed; any other
condition is left out with a warning that names the question.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pipeline.model import Choice, Grid, Item, Question, Questionnaire, Repeat

END = "__end__"

_EQUALS = re.compile(r"^\$\{(?P<q>[\w.-]+)\}\s*(?P<op>=|!=)\s*'(?P<v>[^']*)'$")
_SELECTED = re.compile(r"^(?P<neg>not\s*\(\s*)?selected\s*\(\s*\$\{(?P<q>[\w.-]+)\}\s*,\s*"
                       r"'(?P<v>[^']*)'\s*\)(?(neg)\s*\))$")


def parse_condition(expression: str) -> tuple[str, bool, str] | None:
    """(question, asked when equal?, value) for the simple forms, else None."""
    text = " ".join(expression.split())
    match = _EQUALS.match(text)
    if match:
        return match["q"], match["op"] == "=", match["v"]
    match = _SELECTED.match(text)
    if match:
        return match["q"], not match["neg"], match["v"]
    return None


def apply_routing(questionnaire: Questionnaire) -> tuple[Questionnaire, list[str]]:
    """Link 'please specify' texts to their choice, and route around conditional questions.

    Inside a repeat, a condition is routed within the copy: on the copy's own questions, to a
    later question of the same copy (never out of it: "the next person" has no number).
    """
    warnings: list[str] = []
    items = _routed(list(questionnaire.items), list(questionnaire.questions), warnings, "")
    return replace(questionnaire, items=tuple(items)), warnings


def _routed(items: list[Item], questions: list[Question], warnings: list[str],
            repeat: str) -> list[Item]:
    """The items with their routes; `repeat` names the repeat they are one copy of, if any."""
    by_name = {q.name: q for q in (_questions(items) if repeat else questions)}
    items = _link_specify(items, by_name)
    routes: dict[tuple[str, str], str] = {}
    index = 0
    while index < len(items):
        item = items[index]
        index += 1
        if not isinstance(item, Question | Repeat) or not item.relevant or _other_of(item):
            continue
        condition = parse_condition(item.relevant)
        owner = by_name.get(condition[0]) if condition else None
        if condition is None or owner is None or owner.type != "select_one":
            within = f" of the same copy of repeat {repeat}" if repeat else ""
            kind = "repeat" if isinstance(item, Repeat) else "question"
            warnings.append(f"{kind} {item.name}: condition '{item.relevant}' is not a "
                            f"simple comparison with a single-choice question{within}; printed "
                            "without a routing instruction")
            continue
        question_name, asked_when_equal, value = condition
        # Consecutive questions asked under the same condition (with their "please specify"
        # texts) are skipped together.
        skipped = {item.name}
        while index < len(items) and (_relevant_of(items[index]) == item.relevant
                                      or _other_of(items[index]) in skipped):
            skipped.add(_name_of(items[index]))
            index += 1
        target = _first_question_after(items, index - 1)
        if target == END and repeat:
            warnings.append(f"question {item.name}: condition '{item.relevant}' skips to the "
                            f"end of a copy of repeat {repeat}; printed without a routing "
                            "instruction")
            continue
        for choice in owner.choices:
            skips = (choice.name != value) if asked_when_equal else (choice.name == value)
            if skips:
                routes.setdefault((question_name, choice.name), target)
    routed = [_with_routes(i, routes) for i in items]
    return [replace(i, items=tuple(_routed(list(i.items), [], warnings, i.name)))
            if isinstance(i, Repeat) else i for i in routed]


def _questions(items: list[Item]) -> list[Question]:
    """The questions of one level (a repeat's copy), grid rows included, nested repeats not."""
    return [q for i in items for q in ((i,) if isinstance(i, Question) else
                                       i.rows if isinstance(i, Grid) else ())]


def _link_specify(items: list[Item], by_name: dict[str, Question]) -> list[Item]:
    """A text asked only after one choice, right after its question, is its "please specify"."""
    linked = list(items)
    for index, item in enumerate(items):
        if not isinstance(item, Question) or item.type != "text" or item.other_of or index == 0:
            continue
        condition = parse_condition(item.relevant) if item.relevant else None
        owner = by_name.get(condition[0]) if condition else None
        if condition and owner and owner.is_choice and condition[1] \
                and _is_item_for(items[index - 1], owner.name):
            linked[index] = replace(item, other_of=owner.name)
    return linked


def _is_item_for(item: Item | None, name: str) -> bool:
    return isinstance(item, Question) and item.name == name


def _relevant_of(item: Item) -> str:
    return item.relevant if isinstance(item, Question | Repeat) else ""


def _other_of(item: Item) -> str:
    return item.other_of if isinstance(item, Question) else ""


def _name_of(item: Item) -> str:
    return item.name


def _first_question_after(items: list[Item], index: int) -> str:
    for item in items[index + 1 :]:
        if isinstance(item, Question) and not item.other_of:
            return item.name
        if isinstance(item, Grid | Repeat):
            return item.name
    return END


def _with_routes(item: Item, routes: dict[tuple[str, str], str]) -> Item:
    if not isinstance(item, Question) or not item.is_choice:
        return item
    choices = tuple(
        Choice(c.name, c.label, routes.get((item.name, c.name), c.route_to)) for c in item.choices
    )
    return replace(item, choices=choices)
