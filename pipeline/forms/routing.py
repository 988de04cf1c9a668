"""Printed routing: the online form's `relevant` logic as instructions a person can follow.

Online, a question is hidden unless its condition holds (a group's condition holding for all it
holds). On paper the respondent is told instead, in two ways, and only ever what is exactly true:

- "→ Go to question N" beside a choice, where that choice certainly skips a run of questions
  (each condition, evaluated with that choice and the run's questions left blank, is false); N is
  the first question that is not certainly skipped.
- "Answer this only if ..." above a question (`ask_if`), for the part of its condition that the
  go-tos do not already enforce: that part is proved by trying every combination of the
  single-choice answers it reads, so a condition the go-tos cover prints nothing more.

Routing is worked out per level: the questionnaire's items, then each repeat's items (one copy,
whose go-tos never leave it). `asked_questions` (pipeline/forms/route.py) evaluates the same
conditions on a response's answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import product

from pipeline.forms.condition_words import describe
from pipeline.forms.expression import (
    Expression,
    ExpressionError,
    Scope,
    all_of,
    choice_test,
    conjuncts,
    holds,
    parse,
    references,
    unparse,
)
from pipeline.forms.numbering import question_numbers
from pipeline.forms.route import END
from pipeline.model import (
    Grid,
    Item,
    Question,
    Questionnaire,
    Repeat,
    Section,
    expand_items,
)

_COPY = re.compile(r"\[\d+\]")  # member[2]/age -> member/age: a warning per template item
MAX_COMBINATIONS = 4096  # answers tried when proving a condition is enforced by go-tos


@dataclass(frozen=True)
class _Unit:
    """Something a respondent answers or skips as a whole: a question, a grid or a repeat."""

    index: int  # position among the level's items
    name: str
    answers: tuple[str, ...]  # the answer names it holds at this level
    condition: Expression | None  # its whole condition, None for "always asked"
    parts: tuple[Expression, ...]  # the conjuncts to enforce on paper (a grid's shared ones)


@dataclass(frozen=True)
class _Run:
    """Where a choice sends the respondent: past `skipped`, on to `target`."""

    skipped: frozenset[str]
    target: str


def apply_routing(questionnaire: Questionnaire) -> tuple[Questionnaire, list[str]]:
    """The questionnaire with go-tos on choices and `ask_if` filters, and warnings naming each
    condition that could not be put in words."""
    warnings: list[str] = []
    level = _Level(warnings, "")
    routed = replace(questionnaire, items=tuple(level.route(list(questionnaire.items))))
    return routed, warnings + _unworded(routed)


def _unworded(questionnaire: Questionnaire) -> list[str]:
    """A warning for each filter line that cannot be put in words, once per template item."""
    numbers = question_numbers(questionnaire)
    questions = {q.name: q for q in questionnaire.questions}
    warned: dict[str, str] = {}
    for item in expand_items(questionnaire.items):
        rows = item.rows if isinstance(item, Grid) else ()
        for one in (item, *rows):
            if not isinstance(one, Question | Grid | Repeat | Section) or not one.ask_if:
                continue
            name = _COPY.sub("", one.name)
            if name in warned:
                continue
            try:
                words = describe(parse(one.ask_if), "en", numbers, questions)
            except ExpressionError:
                words = None
            if words is None:
                kind = type(one).__name__.lower()
                warned[name] = (f"{kind} {name}: the online form asks it only if "
                                f"{_COPY.sub('', one.ask_if)}, which papertwin cannot put in "
                                "words; printed with a filter line that says it applies to some "
                                "people only")
    return list(warned.values())


@dataclass(frozen=True)
class _Level:
    warnings: list[str]
    repeat: str  # the repeat whose copy these items are, "" for the questionnaire's own

    def route(self, items: list[Item]) -> list[Item]:
        items = _link_specify(items)
        units = [unit for index, item in enumerate(items) if (unit := self._unit(index, item))]
        runs = self._runs(items, units)
        filters: dict[str, tuple[Expression, ...]] = {}
        for unit in units:
            filters[unit.name] = tuple(part for part in unit.parts
                                       if not self._enforced(part, unit, items, runs, filters))
        out = _section_filters([self._routed_item(item, runs, filters) for item in items],
                               runs)
        return [replace(item, items=tuple(self._inner(item).route(list(item.items))))
                if isinstance(item, Repeat) else item for item in out]

    def _inner(self, repeat: Repeat) -> _Level:
        return _Level(self.warnings, repeat.name)

    def _unit(self, index: int, item: Item) -> _Unit | None:
        if isinstance(item, Question) and not item.other_of:
            return self._conditioned(index, item.name, (item.name,), (item.relevant,), "question")
        if isinstance(item, Grid):
            return self._conditioned(index, item.name, tuple(r.name for r in item.rows),
                                     tuple(r.relevant for r in item.rows), "grid")
        if isinstance(item, Repeat):
            return self._conditioned(index, item.name, (), (item.relevant,), "repeat")
        return None

    def _conditioned(self, index: int, name: str, answers: tuple[str, ...],
                     texts: tuple[str, ...], kind: str) -> _Unit:
        """A unit with the conjuncts its members all share (a grid row's own are its own)."""
        parsed: list[tuple[Expression, ...]] = []
        for text in texts:
            if not text:
                parsed.append(())
                continue
            try:
                parsed.append(conjuncts(parse(text)))
            except ExpressionError as error:
                self.warnings.append(f"{kind} {name}: {error}; printed with a filter line that "
                                     "says it applies to some people only")
                return _Unit(index, name, answers, None, ())
        shared = tuple(p for p in parsed[0] if all(p in other for other in parsed[1:]))
        return _Unit(index, name, answers, all_of(shared), shared)

    def _runs(self, items: list[Item], units: list[_Unit]) -> dict[tuple[str, str], _Run]:
        """For each choice of each single-choice question, the questions it certainly skips."""
        runs: dict[tuple[str, str], _Run] = {}
        for unit in units:
            item = items[unit.index]
            if not isinstance(item, Question) or item.type != "select_one":
                continue
            later = [u for u in units if u.index > unit.index]
            for choice in item.choices:
                run = _run(item.name, choice.name, later)
                if run.skipped and not (run.target == END and self.repeat):
                    runs[(item.name, choice.name)] = run
        return runs

    def _enforced(self, part: Expression, unit: _Unit, items: list[Item],
                  runs: Mapping[tuple[str, str], _Run],
                  filters: Mapping[str, tuple[Expression, ...]]) -> bool:
        """Whether the go-tos alone keep everyone for whom `part` is false away from `unit`:
        tried on every combination of the single-choice answers it reads."""
        domains: list[tuple[str, ...]] = []
        names = sorted(references(part))
        size = 1
        for name in names:
            owner = _owner(items, name)
            if owner is None or owner[0] >= unit.index or owner[1].type != "select_one":
                return False
            values = owner[1].choice_names()
            if self._may_be_blank(owner[1], unit, runs, filters):
                values = (*values, "")
            domains.append(values)
            size *= len(values)
            if size > MAX_COMBINATIONS:
                return False
        if not names:
            return False
        for values in product(*domains):
            answers = dict(zip(names, values, strict=True))
            result = holds(part, Scope(answers))
            if result is None:
                return False
            if result:
                continue
            skipped = any(unit.name in runs[(name, value)].skipped
                          for name, value in answers.items() if (name, value) in runs)
            if not skipped:
                return False
        return True

    def _may_be_blank(self, question: Question, unit: _Unit,
                      runs: Mapping[tuple[str, str], _Run],
                      filters: Mapping[str, tuple[Expression, ...]]) -> bool:
        """Whether `question` can be left unasked while `unit` is still reached: it has a
        condition, and a filter line or a go-to can pass it without passing `unit`."""
        if not question.relevant:
            return False
        if filters.get(question.name):
            return True
        return any(question.name in run.skipped and unit.name not in run.skipped
                   for run in runs.values())

    def _routed_item(self, item: Item, runs: Mapping[tuple[str, str], _Run],
                     filters: Mapping[str, tuple[Expression, ...]]) -> Item:
        if isinstance(item, Question) and item.is_choice:
            choices = tuple(replace(c, route_to=c.route_to or runs[(item.name, c.name)].target)
                            if (item.name, c.name) in runs else c for c in item.choices)
            item = replace(item, choices=choices)
        if isinstance(item, Question | Repeat):
            return replace(item, ask_if=self._ask_if(item, filters))
        if isinstance(item, Grid):
            shared = filters.get(item.name, ())
            rows = tuple(replace(row, ask_if=self._row_filter(item, row)) for row in item.rows)
            return replace(item, rows=rows, ask_if=self._printed(shared))
        return item

    def _ask_if(self, item: Question | Repeat, filters: Mapping[str, tuple[Expression, ...]]
                ) -> str:
        if isinstance(item, Question) and item.other_of:
            return ""
        if item.name not in filters:
            return ""
        parts = filters[item.name]
        if not parts and item.relevant:
            try:
                parse(item.relevant)
            except ExpressionError:
                return item.relevant  # unreadable: printed as "applies to some people only"
        return self._printed(parts)

    def _row_filter(self, grid: Grid, row: Question) -> str:
        """A grid row's own conditions, beyond those all its rows share."""
        try:
            mine = conjuncts(parse(row.relevant)) if row.relevant else ()
            shared = [conjuncts(parse(r.relevant)) if r.relevant else () for r in grid.rows]
        except ExpressionError:
            return row.relevant
        own = tuple(p for p in mine if not all(p in other for other in shared))
        return self._printed(own)

    def _printed(self, parts: Sequence[Expression]) -> str:
        condition = all_of(parts)
        return "" if condition is None else unparse(condition)


def _section_filters(items: list[Item], runs: Mapping[tuple[str, str], _Run]) -> list[Item]:
    """A filter that every question of a section shares printed once, under its heading.

    Only where no go-to from outside the section lands after its first question: a respondent
    sent into the middle of a section would not read the heading's filter.
    """
    out = list(items)
    sources = {item.name: index for index, item in enumerate(items)}
    starts = [index for index, item in enumerate(items) if isinstance(item, Section)]
    for start, end in zip(starts, [*starts[1:], len(items)][:len(starts)], strict=True):
        span = [(index, unit) for index in range(start + 1, end)
                if (unit := _unit_of(items[index])) is not None]
        shared = {unit.ask_if for _, unit in span}
        if len(span) < 2 or len(shared) != 1 or not (condition := shared.pop()):
            continue
        inside = {unit.name for _, unit in span[1:]}
        if any(run.target in inside and not start < sources[question] < end
               for (question, _), run in runs.items()):
            continue
        section = items[start]
        if isinstance(section, Section):
            out[start] = replace(section, ask_if=condition)
            for index, unit in span:
                out[index] = replace(unit, ask_if="")
    return out


def _unit_of(item: Item) -> Question | Grid | Repeat | None:
    """The item as something answered or skipped whole ("please specify" goes with its choice)."""
    if isinstance(item, Grid | Repeat) or (isinstance(item, Question) and not item.other_of):
        return item
    return None


def _run(question: str, choice: str, later: list[_Unit]) -> _Run:
    """The units right after `question` that ticking `choice` certainly skips: each one's
    condition false with that answer and the skipped ones blank (as the online form has them)."""
    answers = {question: choice}
    skipped: list[str] = []
    for unit in later:
        if unit.condition is None or holds(unit.condition, Scope(answers)) is not False:
            return _Run(frozenset(skipped), unit.name)
        skipped.append(unit.name)
        answers.update(dict.fromkeys(unit.answers, ""))
    return _Run(frozenset(skipped), END)


def _owner(items: list[Item], name: str) -> tuple[int, Question] | None:
    """The position and question of an answer named at this level, if it is one a go-to can
    come from (not a grid row, not a "please specify")."""
    for index, item in enumerate(items):
        if isinstance(item, Question) and item.name == name and not item.other_of:
            return index, item
    return None


def _link_specify(items: list[Item]) -> list[Item]:
    """A text asked only when one choice of the question just above it is ticked (its other
    conditions, if any, that question's own: a choice ticked was asked) is its "please
    specify", printed on that choice's line."""
    linked = list(items)
    for index, item in enumerate(items):
        previous = items[index - 1] if index else None
        if not isinstance(item, Question) or item.type != "text" or item.other_of \
                or not isinstance(previous, Question) or not previous.is_choice \
                or not item.relevant:
            continue
        try:
            own = conjuncts(parse(item.relevant))
            before = conjuncts(parse(previous.relevant)) if previous.relevant else ()
        except ExpressionError:
            continue
        tests = [p for p in own if p not in before]
        test = choice_test(tests[0]) if len(tests) == 1 else None
        if test and test[0] == previous.name and test[2]:
            linked[index] = replace(item, other_of=previous.name)
    return linked
