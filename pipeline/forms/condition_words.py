"""A condition in words: "you answered ‘Yes’ to question 1 and your answer to question 4 is 16 or
more", in each printed language, from the expression's tree.

Only what can be said exactly is said: a comparison with a single-choice, multiple-choice or
number question that has a printed number, joined by `and`/`or`. Anything else (a calculation, a
date, a function of several answers) is None, and the caller prints a plain "this applies to some
people only" instead of words that could mislead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.forms.blocks import REFERENCE
from pipeline.forms.expression import (
    Binary,
    Call,
    Expression,
    ExpressionError,
    Literal,
    Reference,
    choice_test,
    parse,
)
from pipeline.forms.numbering import Number
from pipeline.forms.phrases import phrase
from pipeline.model import Grid, Question, Questionnaire, Repeat, Section, expand_items

_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
_COMPARISONS = {">": "more_than", ">=": "at_least", "<": "less_than", "<=": "at_most",
                "=": "equal_to", "!=": "other_than"}
_FILTER_KINDS: dict[type, str] = {Grid: "ask_if_many", Section: "ask_if_section"}
NUMERIC_TYPES = ("integer", "decimal", "range")


def filter_line(condition: str, lang: str, numbers: Mapping[str, Number],
                questions: Mapping[str, Question], kind: str = "ask_if") -> str:
    """The printed filter: "Answer this only if ..." (`kind` ask_if), "Answer these ..." (a
    grid's, ask_if_many), "Answer the questions in this section ..." (ask_if_section); or the
    plain fallback when the condition cannot be put in words."""
    try:
        words = describe(parse(condition), lang, numbers, questions)
    except ExpressionError:
        words = None
    if words is None:
        return phrase("ask_if_unworded", lang)
    return phrase(kind, lang, condition=words)


def describe(expression: Expression, lang: str, numbers: Mapping[str, Number],
             questions: Mapping[str, Question]) -> str | None:
    """The condition as a clause to follow "only if", or None if it cannot be said exactly."""
    return _Words(lang, numbers, questions).clause(expression)


class _Words:
    def __init__(self, lang: str, numbers: Mapping[str, Number],
                 questions: Mapping[str, Question]) -> None:
        self.lang = lang
        self.numbers = numbers
        self.questions = questions

    def clause(self, expression: Expression) -> str | None:
        if isinstance(expression, Binary) and expression.operator in ("and", "or"):
            return self._joined(expression)
        test = choice_test(expression) or self._numbered_choice(expression)
        if test is not None and test[1] and self._choice_question(test[0]):
            if self.questions[test[0]].type == "select_multiple" and not _is_selected(expression):
                return None  # `=` on a multiple choice: exactly that one ticked, and no other
            return self._choice_clause(*test)
        if isinstance(expression, Binary) and expression.operator in _COMPARISONS:
            return self._comparison(expression)
        return None

    def _joined(self, expression: Binary) -> str | None:
        operator = expression.operator
        same = self._same_question_choices(expression)
        if same is not None:
            return same
        left = self._part(expression.left, operator)
        right = self._part(expression.right, operator)
        if left is None or right is None:
            return None
        key = f"join_{operator}"
        if operator == "and" and _before_vowel(right):
            key = "join_and_vowel"  # Welsh writes "ac" before a vowel and before "na", "nad"
        return phrase(key, self.lang, a=left, b=right)

    def _part(self, expression: Expression, operator: str) -> str | None:
        inner = isinstance(expression, Binary) and expression.operator in ("and", "or") \
            and expression.operator != operator
        one_question = isinstance(expression, Binary) \
            and self._same_question_choices(expression) is not None
        text = self.clause(expression)
        return f"({text})" if inner and not one_question and text is not None else text

    def _numbered_choice(self, expression: Expression) -> tuple[str, str, bool] | None:
        """`${q} = 1` on a choice question whose choices are named 1, 2, 3: XPath compares
        the numbers, so it means the choice named 1 (or 01, or 1.0)."""
        if not isinstance(expression, Binary) or expression.operator not in ("=", "!="):
            return None
        left, right = expression.left, expression.right
        if isinstance(left, Literal):
            left, right = right, left
        if not isinstance(left, Reference) or not isinstance(right, Literal) \
                or not isinstance(right.value, float):
            return None
        question = self.questions.get(left.name)
        if question is None:
            return None
        for choice in question.choices:
            try:
                same = float(choice.name) == right.value
            except ValueError:
                continue
            if same:
                return left.name, choice.name, expression.operator == "="
        return None

    def _same_question_choices(self, expression: Binary) -> str | None:
        """`${q} = 'a' or ${q} = 'b'` as "you answered ‘A’ or ‘B’ to question n"; `!=`
        joined by `and` as "you did not answer ‘A’ or ‘B’ ..."."""
        parts = _flattened(expression, expression.operator)
        tests = [choice_test(part) or self._numbered_choice(part) for part in parts]
        if any(t is None for t in tests):
            return None
        names = {t[0] for t in tests if t}
        signs = {t[2] for t in tests if t}
        if len(names) != 1 or len(signs) != 1:
            return None
        name, positive = names.pop(), signs.pop()
        if positive != (expression.operator == "or") or not self._choice_question(name):
            return None
        if self.questions[name].type == "select_multiple" \
                and not all(_is_selected(part) for part in parts):
            return None  # `=` on a multiple choice: exactly that one ticked, and no other
        values = [t[1] for t in tests if t]
        return self._choice_clause(name, values, positive)

    def _choice_question(self, name: str) -> bool:
        question = self.questions.get(name)
        return question is not None and question.type in ("select_one", "select_multiple") \
            and self._number(name) is not None

    def _choice_clause(self, name: str, values: str | list[str], positive: bool) -> str | None:
        question = self.questions[name]
        labels = []
        for value in [values] if isinstance(values, str) else values:
            choice = next((c for c in question.choices if c.name == value), None)
            if choice is None:
                return None
            labels.append(f"\u2018{self._shown(choice.label.text(self.lang))}\u2019")
        listed = labels[0]
        for label in labels[1:]:
            listed = phrase("join_or", self.lang, a=listed, b=label)
        ticked = question.type == "select_multiple"
        key = ("cond_ticked" if ticked else "cond_answered_choice") if positive else (
            "cond_not_ticked" if ticked else "cond_not_answered_choice")
        return phrase(key, self.lang, choices=listed, n=self._number(name) or "")

    def _comparison(self, expression: Binary) -> str | None:
        operator = expression.operator
        left, right = expression.left, expression.right
        if isinstance(left, Literal):
            left, right, operator = right, left, _FLIPPED[operator]
        if not isinstance(right, Literal):
            return None
        if isinstance(left, Call) and left.function == "count-selected" \
                and len(left.arguments) == 1 and isinstance(left.arguments[0], Reference):
            name = left.arguments[0].name
            value = _number_value(right)
            if value is None or not self._choice_question(name):
                return None
            comparison = phrase(_COMPARISONS[operator], self.lang, v=value)
            return phrase("cond_count", self.lang, n=self._number(name) or "",
                          comparison=comparison)
        if not isinstance(left, Reference) or not left.name:
            return None
        question = self.questions.get(left.name)
        number = self._number(left.name)
        if question is None or number is None:
            return None
        if right.value == "" and operator in ("=", "!="):
            key = "cond_blank" if operator == "=" else "cond_answered"
            return phrase(key, self.lang, n=number)
        value = _number_value(right)
        if question.type not in NUMERIC_TYPES or value is None:
            return None
        comparison = phrase(_COMPARISONS[operator], self.lang, v=value)
        return phrase("cond_number", self.lang, n=number, comparison=comparison)

    def _shown(self, text: str) -> str:
        """A label as printed: a `${x}` in it as "(your answer to question n)"."""
        return REFERENCE.sub(lambda m: "\u2026" if (n := self._number(m[1])) is None
                              else phrase("answer_to", self.lang, n=n), text)

    def _number(self, name: str) -> str | None:
        """The printed number to name a question by; a grid row's is its grid's, with the row."""
        number = self.numbers.get(name)
        if number is not None:
            return str(number)
        question = self.questions.get(name)
        if question is None or not question.grid or question.grid not in self.numbers:
            return None
        return f"{self.numbers[question.grid]} (\u2018{question.label.text(self.lang)}\u2019)"


_AC_WORDS = frozenset(("na", "nad", "nid", "mae", "mai", "fel", "felly", "gyda", "mewn"))


def _before_vowel(text: str) -> bool:
    first = text.lstrip("(").split(" ", 1)[0].lower()
    return first[:1] in tuple("aeiouwy") or first in _AC_WORDS


def _is_selected(expression: Expression) -> bool:
    if isinstance(expression, Call) and expression.function == "not" and expression.arguments:
        expression = expression.arguments[0]
    return isinstance(expression, Call) and expression.function == "selected"


def _flattened(expression: Expression, operator: str) -> list[Expression]:
    if isinstance(expression, Binary) and expression.operator == operator:
        return _flattened(expression.left, operator) + _flattened(expression.right, operator)
    return [expression]


def _number_value(literal: Literal) -> str | None:
    """A literal as the number it compares as, written plainly (16, not 16.0)."""
    value = literal.value
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    return str(int(value)) if value.is_integer() else str(value)


def printed_filters(questionnaire: Questionnaire, numbers: Mapping[str, Number],
                    languages: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Item name -> its filter line in each printed language (once where two agree), for every
    question, grid, grid row and repeat copy that has one."""
    questions = {q.name: q for q in questionnaire.questions}
    filters: dict[str, tuple[str, ...]] = {}
    for item in expand_items(questionnaire.items):
        rows = item.rows if isinstance(item, Grid) else ()
        for one in (item, *rows):
            if isinstance(one, Question | Grid | Repeat | Section) and one.ask_if:
                texts = (filter_line(one.ask_if, lang, numbers, questions,
                                     _FILTER_KINDS.get(type(one), "ask_if")) for lang in languages)
                filters[one.name] = tuple(dict.fromkeys(texts))
    return filters
