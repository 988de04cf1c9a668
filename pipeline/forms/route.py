"""Which questions a respondent is asked: online, by the form's `relevant` logic; on paper, by the
printed go-tos and filter lines. The two must agree, and the dataset asks the first one of a
paper response ("was this answer on the respondent's route?").

Answers are the stored texts by question name ("" for blank; a multiple choice's names space
separated), as the dataset holds them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from pipeline.forms.expression import ExpressionError, Scope, holds, parse
from pipeline.model import Grid, Item, Question, Questionnaire, Repeat, Section

END = "__end__"  # a choice's route_to that sends the respondent to the end of the form


def asked_questions(questionnaire: Questionnaire, answers: Mapping[str, str],
                    today: date | None = None, unknown: Collection[str] = (),
                    answered_anyway: bool = False) -> dict[str, bool | None]:
    """Question name -> whether the online form asks it, given the response's answers: None
    where the condition cannot be evaluated (it reads a calculation, or cannot be parsed, or
    an answer in `unknown`: one not known yet, such as a paper answer waiting for a person).

    As online, a question not asked counts as blank in the conditions after it. With
    `answered_anyway` (paper, where a respondent can answer what their route skips), one
    whose asking cannot be decided counts as unknown after it, not as the answer given.
    """
    values = {q.name: answers.get(q.name, "") for q in questionnaire.questions
              if q.name not in unknown}
    result: dict[str, bool | None] = {}
    for step in route_steps(questionnaire):
        asked = step_asked(step, values, today)
        result[step.question.name] = asked
        if asked is False:
            values[step.question.name] = ""  # online, an answer to a hidden question is gone
        elif asked is None and answered_anyway:
            values.pop(step.question.name, None)  # given, but perhaps never asked
    return result


@dataclass(frozen=True)
class RouteStep:
    """A question as the online form comes to it: with the conditions of the repeats around
    it, and the choice question at its level that its "please specify" belongs to."""

    question: Question
    enclosing: tuple[str, ...] = ()
    owner: Question | None = None


def route_steps(questionnaire: Questionnaire) -> Iterator[RouteStep]:
    """Every question in the order the online form decides them (a repeat's copy by copy)."""
    yield from _steps(questionnaire.items, ())


def step_asked(step: RouteStep, values: Mapping[str, str],
               today: date | None = None) -> bool | None:
    """Whether the online form asks the step's question, given the answers known so far (a
    question absent from `values` is not known)."""
    question = step.question
    asked = _all_hold((*step.enclosing, question.relevant), values, today)
    if step.owner is not None and not question.relevant and asked is not False:
        # a template's "please specify" with no condition of its own: asked of those who
        # ticked its choice
        ticked = values.get(step.owner.name)
        asked = None if ticked is None else specify_choice(step.owner) in ticked.split()
    return asked


def specify_choice(question: Question) -> str:
    """The choice a "please specify" text belongs to: one named like "other", else the last."""
    for choice in question.choices:
        if choice.name.lower() in ("other", "other_way", "another", "else"):
            return choice.name
    return question.choices[-1].name if question.choices else ""


def _steps(items: Sequence[Item], enclosing: tuple[str, ...]) -> Iterator[RouteStep]:
    owners = {q.name: q for q in _level_questions(items)}
    for item in items:
        if isinstance(item, Repeat):
            for k in range(1, item.count + 1):
                yield from _steps(item.copy_items(k), (*enclosing, item.relevant))
            continue
        questions = item.rows if isinstance(item, Grid) else (
            (item,) if isinstance(item, Question) else ())
        for question in questions:
            yield RouteStep(question, enclosing, owners.get(question.other_of))


def _level_questions(items: Sequence[Item]) -> Iterator[Question]:
    for item in items:
        if isinstance(item, Question):
            yield item
        elif isinstance(item, Grid):
            yield from item.rows


def _all_hold(conditions: Sequence[str], values: Mapping[str, str],
              today: date | None) -> bool | None:
    """Three-valued `and` of the conditions ("" holds)."""
    unknown = False
    for condition in conditions:
        if not condition:
            continue
        try:
            value = holds(parse(condition), Scope(values, today=today))
        except ExpressionError:
            value = None
        if value is False:
            return False
        unknown = unknown or value is None
    return None if unknown else True


def printed_route(questionnaire: Questionnaire, intended: Mapping[str, str],
                  today: date | None = None) -> dict[str, str]:
    """The answers a respondent writes who follows the printed instructions: each question's
    `intended` answer where the go-tos and "Answer this only if" lines lead them to it, and ""
    where they send them past it. `questionnaire` is the routed one, as the layout holds it."""
    walk = _Walk(intended, today, {q.name: q for q in questionnaire.questions})
    walk.level(questionnaire.items)
    return walk.given


@dataclass
class _Walk:
    intended: Mapping[str, str]
    today: date | None
    owners: Mapping[str, Question]  # every question by name, for a "please specify"'s
    given: dict[str, str] = field(default_factory=dict)  # every question passed so far

    def level(self, items: Sequence[Item]) -> None:
        """One level's items in print order; a go-to never leaves the level (a repeat's copy)."""
        jump = ""
        section = ""  # the filter of the section heading last passed
        for item in items:
            if isinstance(item, Section):
                section = item.ask_if
                continue
            if not isinstance(item, Question | Grid | Repeat):
                continue
            if isinstance(item, Question) and item.other_of:  # on its choice's line
                if not self._answers(item):
                    self.given[item.name] = ""
                continue
            if (jump and item.name != jump) or not self._follows(section):
                self._skip(item)
                continue
            jump = ""
            if isinstance(item, Question):
                if self._answers(item):
                    jump = self._route_of(item)
                else:
                    self.given[item.name] = ""
            elif isinstance(item, Grid):
                if not self._follows(item.ask_if):
                    self._skip(item)
                    continue
                for row in item.rows:
                    self.given[row.name] = self.intended.get(row.name, "") \
                        if self._follows(row.ask_if) else ""
            elif not self._follows(item.ask_if):
                self._skip(item)
            else:
                for k in range(1, item.count + 1):
                    self.level(item.copy_items(k))

    def _answers(self, question: Question) -> bool:
        """Whether they answer it, and if so, record the answer."""
        if question.other_of:
            # written on the line of its choice: only by those who ticked that choice
            if not self._ticks_choice_of(question):
                return False
        elif not self._follows(question.ask_if):
            return False
        self.given[question.name] = self.intended.get(question.name, "")
        return True

    def _ticks_choice_of(self, specify: Question) -> bool:
        if specify.relevant:
            return self._follows(specify.relevant)
        owner = self.owners.get(specify.other_of)
        ticked = self.given.get(specify.other_of, "").split()
        return owner is not None and specify_choice(owner) in ticked

    def _route_of(self, question: Question) -> str:
        if question.type != "select_one":
            return ""
        answer = self.given.get(question.name, "")
        return next((c.route_to for c in question.choices if c.name == answer), "")

    def _follows(self, condition: str) -> bool:
        """Whether a filter line lets them in: what they cannot yet know (an answer further on,
        a calculation) does not stop them."""
        if not condition:
            return True
        try:
            value = holds(parse(condition), Scope(self.given, today=self.today))
        except ExpressionError:
            return True
        return value is not False

    def _skip(self, item: Question | Grid | Repeat) -> None:
        if isinstance(item, Question):
            self.given[item.name] = ""
        elif isinstance(item, Grid):
            self.given.update(dict.fromkeys((r.name for r in item.rows), ""))
        else:
            for k in range(1, item.count + 1):
                for inner in item.copy_items(k):
                    if isinstance(inner, Question | Grid | Repeat):
                        self._skip(inner)
