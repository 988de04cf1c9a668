"""What an XLSForm `constraint` says about the answer's shape: its numeric bounds and the regular
expressions it is matched against.

Paper cannot check an answer as a phone does, but the constraint tells how many digit cells a
number needs (`. <= 110`: three) and whether a text is a postcode (`regex(., '^[A-Z]{1,2}...')`).
The constraint is parsed with the XLSForm expression grammar (expression.py), never
pattern-matched; only what bounds the answer is kept: comparisons of the answer itself (`.`, or
`${name}` naming the question) with a number, joined by `and` at the top. A constraint that does
not parse leaves the bounds unknown, so the form prints its defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pipeline.forms.expression import (
    Binary,
    Call,
    Expression,
    ExpressionError,
    Literal,
    Negate,
    Reference,
    conjuncts,
    parse,
    subexpressions,
)

COMPARISONS = ("<", "<=", ">", ">=", "=")
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


@dataclass(frozen=True)
class Bounds:
    """The interval the answer must lie in; None where the constraint sets no limit."""

    low: Decimal | None = None
    low_inclusive: bool = True
    high: Decimal | None = None
    high_inclusive: bool = True

    def holds(self, value: Decimal) -> bool:
        """Whether a number is within the bounds; an unknown end bounds nothing."""
        if self.low is not None and (value < self.low or (value == self.low
                                                          and not self.low_inclusive)):
            return False
        return self.high is None or not (value > self.high or (value == self.high
                                                               and not self.high_inclusive))

    def said(self) -> str:
        """The bounds in words, for the person keying or reviewing: "from 16 to 110",
        "at most 110", "more than 0"."""
        low = None if self.low is None else (
            f"{'at least' if self.low_inclusive else 'more than'} {self.low}")
        high = None if self.high is None else (
            f"{'at most' if self.high_inclusive else 'less than'} {self.high}")
        if low and high and self.low_inclusive and self.high_inclusive:
            return f"from {self.low} to {self.high}"
        return " and ".join(part for part in (low, high) if part) or "no limit"


@dataclass(frozen=True)
class Constraint:
    """What papertwin uses of a constraint: the answer's bounds, the numbers compared with it
    (as written, so `35.0` says one decimal place), and the patterns `regex()` matches it to."""

    bounds: Bounds = Bounds()
    numbers: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


def read_constraint(text: str, name: str = "") -> Constraint:
    """The bounds and patterns of a constraint on the question `name` (empty: none known)."""
    try:
        expression = parse(text)
    except ExpressionError:
        return Constraint()
    compared = [found for term in conjuncts(expression)
                if (found := _compared(term, name)) is not None]
    bounds = Bounds()
    try:
        for op, number in compared:
            bounds = _narrowed(bounds, op, Decimal(number))
    except InvalidOperation:
        return Constraint()
    return Constraint(bounds, tuple(number for _, number in compared),
                      tuple(_patterns(expression, name)))


def _is_answer(expression: Expression, name: str) -> bool:
    return isinstance(expression, Reference) and expression.name in ("", name, "self")


def _compared(expression: Expression, name: str) -> tuple[str, str] | None:
    """(operator, number as written) for `answer op number` (`number op answer` turned round;
    a negative number, `-1`, is a negated literal)."""
    if not isinstance(expression, Binary) or expression.operator not in COMPARISONS:
        return None
    left, right, op = expression.left, expression.right, expression.operator
    if not _is_answer(left, name):
        left, right, op = right, left, FLIPPED[op]
    number = _number(right)
    return (op, number) if _is_answer(left, name) and number is not None else None


def _number(expression: Expression) -> str | None:
    if isinstance(expression, Negate):
        inner = _number(expression.operand)
        return None if inner is None else f"-{inner}"
    if isinstance(expression, Literal) and isinstance(expression.value, float):
        return expression.written or str(expression.value)
    return None


def _narrowed(bounds: Bounds, op: str, number: Decimal) -> Bounds:
    """The bounds once `answer op number` also holds."""
    low, low_in, high, high_in = (bounds.low, bounds.low_inclusive, bounds.high,
                                  bounds.high_inclusive)
    if op in (">", ">=", "=") and (low is None or number > low or (number == low and op == ">")):
        low, low_in = number, op != ">"
    if op in ("<", "<=", "=") and (high is None or number < high
                                   or (number == high and op == "<")):
        high, high_in = number, op != "<"
    return Bounds(low, low_in, high, high_in)


def _patterns(expression: Expression, name: str) -> Iterator[str]:
    """The pattern of every `regex(answer, 'pattern')` anywhere in the expression."""
    for part in subexpressions(expression):
        if isinstance(part, Call) and part.function == "regex" and len(part.arguments) == 2:
            answer, pattern = part.arguments
            if _is_answer(answer, name) and isinstance(pattern, Literal) \
                    and isinstance(pattern.value, str):
                yield pattern.value
