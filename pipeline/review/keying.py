"""What a person keys for a response, checked as the reader checks what it reads.

A keyed value goes through the reader's own validation (pipeline/read/cells.py: numbers and their
constraint's limits, dates, times, postcodes, ranks), given the characters as the cells would hold
them; a choice is keyed by its printed number (or its name). Routing is the online form's: a
question the answers so far leave off the route (pipeline/forms/route.py, the expression
evaluator) is skipped, and whatever was typed in it is not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.forms.expression import ExpressionError, choice_test, conjuncts, parse
from pipeline.forms.numbering import question_numbers
from pipeline.forms.route import asked_questions, route_steps, specify_choice
from pipeline.model import Grid, Question, Questionnaire, expand_items
from pipeline.read.cells import validate
from pipeline.records import flag_reason

# A condition the screen can follow as the person types: (question, choice, ticked or not).
ChoiceTest = tuple[str, str, bool]


@dataclass(frozen=True)
class KeyField:
    """One question as the keying screen shows it, in printed order."""

    name: str
    number: str  # as printed ("7"; a grid's rows share its number; "" for a "please specify")
    grid: str  # the grid it is a row of, or ""
    heading: str  # a grid's question, over its first row; "" otherwise
    label: str
    hint: str
    type: str
    choices: tuple[tuple[int, str, str], ...]  # (printed number, name, label)
    # The conditions that put it on the route, when the screen can follow them all as the
    # person types (None: only the server can tell, when the entry is checked).
    when: tuple[ChoiceTest, ...] | None

    @property
    def multiple(self) -> bool:
        return self.type in ("select_multiple", "rank")


@dataclass(frozen=True)
class CheckedEntry:
    answers: dict[str, str]  # question -> value as the dataset holds it, on the route only
    problems: dict[str, str]  # question -> what is wrong with what was typed
    skipped: tuple[str, ...]  # questions off the route

    @property
    def ok(self) -> bool:
        return not self.problems


def key_fields(questionnaire: Questionnaire, lang: str) -> list[KeyField]:
    """The questions to key, in printed order, worded in `lang`."""
    numbers = question_numbers(questionnaire)
    when = {step.question.name: _live_conditions(step.question, step.enclosing, step.owner)
            for step in route_steps(questionnaire)}
    grids = {g.name: g for g in _grids(questionnaire)}
    fields = []
    seen_grids: set[str] = set()
    for q in questionnaire.questions:
        heading = ""
        if q.grid:
            number = str(numbers.get(q.grid, ""))
            if q.grid not in seen_grids and q.grid in grids:
                heading = grids[q.grid].label.text(lang)
            seen_grids.add(q.grid)
        else:
            number = str(numbers.get(q.name, ""))
        fields.append(KeyField(
            q.name, number, q.grid, heading, q.label.text(lang), q.hint.text(lang), q.type,
            tuple((n, c.name, c.label.text(lang)) for n, c in enumerate(q.choices, start=1)),
            when.get(q.name)))
    return fields


def keyed_value(question: Question, typed: str) -> tuple[str, str]:
    """The value as the dataset holds it, and what is wrong with what was typed ("" if
    nothing)."""
    text = typed.strip()
    if not text:
        return "", ""
    if question.type == "rank":
        picked, problem = _choices_typed(question, text)
        if problem:
            return "", problem
        digits = question.rank_digits
        place = {name: rank for rank, name in enumerate(picked, start=1)}
        cells = "".join(str(place[c.name]).rjust(digits) if c.name in place else " " * digits
                        for c in question.choices)
        value, problem = validate(question, cells)
        return (value, "") if not problem else ("", _said(problem))
    if question.is_choice:
        picked, problem = _choices_typed(question, text)
        if problem:
            return "", problem
        if question.type != "select_multiple" and len(picked) > 1:
            return "", "this question takes one answer: key one number"
        return " ".join(picked), ""
    value, problem = validate(question, _as_cells(question, text))
    return (value, "") if not problem else ("", _said(problem))


def check_entry(questionnaire: Questionnaire, typed: Mapping[str, str]) -> CheckedEntry:
    """Every question's value from what was typed, validated; off-route questions skipped (by
    the answers before them, as the online form skips them)."""
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for question in questionnaire.questions:
        value, problem = keyed_value(question, typed.get(question.name, ""))
        values[question.name] = value
        if problem:
            problems[question.name] = problem
    asked = asked_questions(questionnaire, values, unknown=problems.keys())
    skipped = tuple(name for name, on_route in asked.items() if on_route is False)
    answers = {name: value for name, value in values.items() if name not in skipped}
    return CheckedEntry(answers, {n: p for n, p in problems.items() if n not in skipped},
                        skipped)


def _choices_typed(question: Question, text: str) -> tuple[list[str], str]:
    """The choices named by their printed numbers (or names), in the order typed."""
    by_number = {str(n): c.name for n, c in enumerate(question.choices, start=1)}
    names = set(question.choice_names())
    picked: list[str] = []
    for word in text.replace(",", " ").split():
        name = by_number.get(word.lstrip("0") or "0") or (word if word in names else None)
        if name is None:
            return [], (f"{word} is not a choice here: key a number from 1 to "
                        f"{len(question.choices)}")
        if name not in picked:
            picked.append(name)
    return picked, ""


def _as_cells(question: Question, text: str) -> str:
    """What was typed as the printed cells would hold it: the reader's validation reads a date
    as DDMMYYYY, a time as HHMM and a decimal with its last `decimals` digits after the point."""
    if question.type in ("date", "time", "datetime"):
        return "".join(ch for ch in text if ch.isdigit()) if all(
            ch.isdigit() or ch in " /-.:T" for ch in text) else text
    if question.type == "decimal" and "." in text:
        whole, _, part = text.partition(".")
        if part.isdigit() and len(part) <= question.decimals and (whole.isdigit() or not whole):
            return (whole or "0") + part.ljust(question.decimals, "0")
    if question.type == "integer":
        return text.replace(" ", "")
    return text


def _said(problem: str) -> str:
    """The reader's reason, for a person: "failed validation: not a number" says "not a
    number"."""
    prefix = flag_reason("failed validation", "")
    return problem[len(prefix):].strip(" :") if prefix and problem.startswith(prefix) \
        else problem


def _live_conditions(question: Question, enclosing: tuple[str, ...],
                     owner: Question | None) -> tuple[ChoiceTest, ...] | None:
    tests: list[ChoiceTest] = []
    for condition in (*enclosing, question.relevant):
        if not condition:
            continue
        try:
            parts = conjuncts(parse(condition))
        except ExpressionError:
            return None
        for part in parts:
            test = choice_test(part)
            if test is None:
                return None
            tests.append(test)
    if owner is not None and not question.relevant:
        tests.append((owner.name, specify_choice(owner), True))
    return tuple(tests)


def _grids(questionnaire: Questionnaire) -> list[Grid]:
    return [item for item in expand_items(questionnaire.items) if isinstance(item, Grid)]
