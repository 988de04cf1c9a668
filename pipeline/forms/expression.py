"""XLSForm expressions (`relevant`, `constraint`): parsed as XPath 1.0 and evaluated as ODK does.

The printed route must be the online route, so a condition is never pattern-matched: it is
parsed with a grammar (lark) into a tree and evaluated with XPath 1.0's conversions and the ODK
functions (`selected`, `count-selected`, `today`, ...). Evaluation is three-valued: an answer
that is not known yet (missing from the answers given) makes what depends on it unknown, while
`false and unknown` is still false. Routing uses that to decide which questions a choice
certainly skips; with every answer given it is the online form's own decision. Where ODK Collect
(JavaRosa) and XPath 1.0 part (an empty node-set, a lone answer taken as true or false, a date
answer compared), papertwin does what ODK Collect does, and says so where it does it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Final

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, VisitError

from pipeline.errors import TemplateError

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr | or_expr "or" and_expr -> or_
?and_expr: eq_expr | and_expr "and" eq_expr -> and_
?eq_expr: rel_expr | eq_expr EQ_OP rel_expr -> compare
?rel_expr: add_expr | rel_expr REL_OP add_expr -> compare
?add_expr: mul_expr | add_expr "+" mul_expr -> add | add_expr "-" mul_expr -> subtract
?mul_expr: unary_expr | mul_expr MUL_OP unary_expr -> multiply
?unary_expr: union_expr | "-" unary_expr -> negate
?union_expr: primary | union_expr "|" primary -> union
?primary: REFERENCE -> reference
        | PATH -> path
        | NAME -> child
        | "." -> this
        | STRING -> string
        | NUMBER -> number
        | FUNCTION "(" [or_expr ("," or_expr)*] ")" -> call
        | "(" or_expr ")"
REFERENCE: /\$\{[^}\s]+\}/
STRING: /'[^']*'/ | /"[^"]*"/
NUMBER: /[0-9]+(\.[0-9]*)?|\.[0-9]+/
EQ_OP: "=" | "!="
REL_OP: "<=" | ">=" | "<" | ">"
MUL_OP: "*" | "div" | "mod"
FUNCTION.2: /[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?(?=\s*\()/
NAME: /[A-Za-z_][\w.-]*/
PATH: /(\/|\.\.\/)([A-Za-z_][\w.-]*|\.\.)(\/([A-Za-z_][\w.-]*|\.\.))*|\.\./
%import common.WS
%ignore WS
"""


class ExpressionError(TemplateError):
    """An expression papertwin cannot parse, or a function it cannot evaluate."""


# The tree


@dataclass(frozen=True)
class Literal:
    value: str | float
    written: str = field(default="", compare=False)  # a number as written: "35.0", not 35


@dataclass(frozen=True)
class Reference:
    """An answer: `${name}`, or a path whose last step names the question (as pyxform writes
    `${name}` into the XForm); `.` is the question the expression belongs to (`name` "")."""

    name: str


@dataclass(frozen=True)
class Child:
    """A relative path such as `null`: on a question, which has no children, it selects no
    node at all. ODK Collect (JavaRosa) reads an empty node-set as "" wherever it compares, so
    that `${x} = null` holds when x is unanswered and `${x} != null` when it is answered (XPath
    1.0 makes both false); forms are written for that reading."""

    name: str


@dataclass(frozen=True)
class Call:
    function: str
    arguments: tuple[Expression, ...]


@dataclass(frozen=True)
class Binary:
    operator: str  # or and = != < <= > >= + - * div mod |
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Negate:
    operand: Expression


Expression = Literal | Reference | Child | Call | Binary | Negate


@v_args(inline=True)
class _ToTree(Transformer[Token, Expression]):
    def or_(self, left: Expression, right: Expression) -> Expression:
        return Binary("or", left, right)

    def and_(self, left: Expression, right: Expression) -> Expression:
        return Binary("and", left, right)

    def compare(self, left: Expression, operator: Token, right: Expression) -> Expression:
        return Binary(str(operator), left, right)

    def add(self, left: Expression, right: Expression) -> Expression:
        return Binary("+", left, right)

    def subtract(self, left: Expression, right: Expression) -> Expression:
        return Binary("-", left, right)

    def multiply(self, left: Expression, operator: Token, right: Expression) -> Expression:
        return Binary(str(operator), left, right)

    def negate(self, operand: Expression) -> Expression:
        return Negate(operand)

    def union(self, left: Expression, right: Expression) -> Expression:
        return Binary("|", left, right)

    def reference(self, token: Token) -> Expression:
        return Reference(str(token)[2:-1])

    def path(self, token: Token) -> Expression:
        last = str(token).rstrip("/").rsplit("/", 1)[-1]
        if last in ("..", "."):
            raise ExpressionError(f"the path '{token}' names no question")
        return Reference(last)

    def child(self, token: Token) -> Expression:
        return Child(str(token))

    def this(self) -> Expression:
        return Reference("")

    def string(self, token: Token) -> Expression:
        return Literal(str(token)[1:-1])

    def number(self, token: Token) -> Expression:
        return Literal(float(token), str(token))

    def call(self, name: Token, *arguments: Expression | None) -> Expression:
        return Call(str(name), tuple(a for a in arguments if a is not None))


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=True)


# pyxform straightens typographic quotes in every cell before it writes the XForm, so that
# `${q} = ‘yes’` is `${q} = 'yes'` in the online form: papertwin reads the cell as it does.
_SMART_QUOTES: Final = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"',
                                      "\u201d": '"'})


@lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """The expression's tree; ExpressionError says where the text stops making sense."""
    try:
        return _ToTree().transform(_parser().parse(text.translate(_SMART_QUOTES)))
    except VisitError as error:
        if isinstance(error.orig_exc, ExpressionError):
            raise error.orig_exc from None
        raise ExpressionError(f"'{text}' is not an expression papertwin can read") from error
    except LarkError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ExpressionError(f"'{text}' is not an expression papertwin can read ({first})") \
            from None


def references(expression: Expression) -> frozenset[str]:
    """The answers an expression reads (`.` as "")."""
    return frozenset(e.name for e in subexpressions(expression) if isinstance(e, Reference))


def subexpressions(expression: Expression) -> Iterator[Expression]:
    """The expression and every expression inside it, outermost first."""
    yield expression
    if isinstance(expression, Call):
        for argument in expression.arguments:
            yield from subexpressions(argument)
    elif isinstance(expression, Binary):
        yield from subexpressions(expression.left)
        yield from subexpressions(expression.right)
    elif isinstance(expression, Negate):
        yield from subexpressions(expression.operand)


def conjuncts(expression: Expression) -> tuple[Expression, ...]:
    """`a and (b and c)` as (a, b, c): the conditions that must all hold."""
    if isinstance(expression, Binary) and expression.operator == "and":
        return conjuncts(expression.left) + conjuncts(expression.right)
    return (expression,)


def all_of(parts: Sequence[Expression]) -> Expression | None:
    """The conjunction of the parts (None for none: no condition)."""
    if not parts:
        return None
    result = parts[0]
    for part in parts[1:]:
        result = Binary("and", result, part)
    return result


def unparse(expression: Expression) -> str:
    """The expression as XLSForm text, fully bracketed where an operator meets another."""
    if isinstance(expression, Literal):
        if isinstance(expression.value, float):
            return _number_text(expression.value)
        quote = "'" if "'" not in expression.value else '"'
        return f"{quote}{expression.value}{quote}"
    if isinstance(expression, Reference):
        return f"${{{expression.name}}}" if expression.name else "."
    if isinstance(expression, Child):
        return expression.name
    if isinstance(expression, Call):
        return f"{expression.function}({', '.join(unparse(a) for a in expression.arguments)})"
    if isinstance(expression, Negate):
        return f"-{_bracketed(expression.operand)}"
    return f"{_bracketed(expression.left)} {expression.operator} {_bracketed(expression.right)}"


def _bracketed(expression: Expression) -> str:
    text = unparse(expression)
    return f"({text})" if isinstance(expression, Binary) else text


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def choice_test(expression: Expression) -> tuple[str, str, bool] | None:
    """(question, choice, True) for `${q} = 'v'` or `selected(${q}, 'v')`; False when negated
    (`!=`, `not(...)`); None for anything else. Used to find "please specify" questions."""
    negated = False
    if isinstance(expression, Call) and expression.function == "not" \
            and len(expression.arguments) == 1:
        expression, negated = expression.arguments[0], True
    if isinstance(expression, Call) and expression.function == "selected" \
            and len(expression.arguments) == 2:
        question, value = expression.arguments
        if isinstance(question, Reference) and isinstance(value, Literal) \
                and isinstance(value.value, str) and question.name:
            return question.name, value.value, not negated
    if isinstance(expression, Binary) and expression.operator in ("=", "!=") and not negated:
        sides = (expression.left, expression.right)
        refs = [s for s in sides if isinstance(s, Reference) and s.name]
        texts = [s for s in sides if isinstance(s, Literal) and isinstance(s.value, str)]
        if len(refs) == 1 and len(texts) == 1:
            return refs[0].name, str(texts[0].value), expression.operator == "="
    return None


# Evaluation


class _Nothing:
    """An empty node-set: reads as "" (as JavaRosa unpacks it), NaN and false."""

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Final = _Nothing()


class _Unknown:
    """An answer not known yet, and whatever depends on it."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


@dataclass(frozen=True)
class Answer:
    """An answer as XPath sees it: a node whose string value is the stored text."""

    text: str


@dataclass(frozen=True)
class Day:
    """A date, as ODK's `today()` and `date()` give it: counted in days from 1970-01-01."""

    days: float

    @property
    def text(self) -> str:
        """The date as ISO text (2026-11-30); a time of day is dropped."""
        whole = math.floor(self.days)
        return (date(1970, 1, 1) + timedelta(days=whole)).isoformat()


Value = str | float | bool | Answer | Day | _Nothing | _Unknown
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
                   r"(Z|[+-]\d{2}:?\d{2})?)?\s*$")
_XPATH_NUMBER = re.compile(r"^\s*-?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$")


@dataclass(frozen=True)
class Scope:
    """What an expression is evaluated against: the answers known (question name -> stored
    text, "" for unanswered), the question `.` means, and the day `today()` is."""

    answers: Mapping[str, str]
    current: str = ""
    today: date | None = None


def evaluate(expression: Expression, scope: Scope) -> Value:
    """The expression's value; UNKNOWN where it depends on an answer the scope does not hold."""
    if isinstance(expression, Literal):
        return expression.value
    if isinstance(expression, Reference):
        name = expression.name or scope.current
        value = scope.answers.get(name)
        return UNKNOWN if value is None else Answer(value)
    if isinstance(expression, Child):
        return NOTHING
    if isinstance(expression, Negate):
        operand = evaluate(expression.operand, scope)
        return UNKNOWN if operand is UNKNOWN else -to_number(operand)
    if isinstance(expression, Binary):
        return _binary(expression, scope)
    return _call(expression, scope)


def holds(expression: Expression, scope: Scope) -> bool | None:
    """Whether a condition holds: True, False, or None while it depends on unknown answers."""
    value = evaluate(expression, scope)
    return None if isinstance(value, _Unknown) else to_boolean(value)


def to_string(value: Value) -> str:
    """XPath's string(), as ODK Collect converts: an answer's stored text, a date as ISO text, an
    empty node-set as "", a number without a needless ".0"."""
    if isinstance(value, Answer):
        return value.text
    if isinstance(value, Day):
        return value.text
    if isinstance(value, _Nothing):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return _number_text(value)
    return str(value)


def to_number(value: Value) -> float:
    """XPath's number(), with ODK's dates: an answer that is a date (or date-time) counts its
    days, as a date question's typed answer does in ODK Collect; a date written as a string
    ('2020-01-01') is not a number there, and is NaN here too: `date('2020-01-01')` is one."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, Day):
        return value.days
    text = to_string(value)
    if _XPATH_NUMBER.match(text):
        return float(text)
    day = _days(text) if isinstance(value, Answer) else None
    return math.nan if day is None else day


def _date_number(value: Value) -> float:
    """A value as days since 1970-01-01, as ODK's date functions read it: a date text too."""
    if isinstance(value, Answer | str):
        day = _days(to_string(value))
        if day is not None:
            return day
    return to_number(value)


def to_boolean(value: Value) -> bool:
    """XPath's boolean(), except that an answer is true only when it is not blank, as in ODK
    Collect."""
    if isinstance(value, Answer):
        # ODK Collect (JavaRosa) unpacks a single node to its answer: `${consent}` holds when
        # consent is answered. XPath 1.0 would make it true whenever the node exists.
        return bool(value.text)
    if isinstance(value, Day):
        return True
    if isinstance(value, _Nothing):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return bool(value)


def _days(text: str) -> float | None:
    match = _DATE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, _zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0))
    except ValueError:
        return None
    return (moment - datetime(1970, 1, 1)).total_seconds() / 86400


def _binary(expression: Binary, scope: Scope) -> Value:
    operator = expression.operator
    if operator in ("and", "or"):
        decisive = operator == "or"  # the value that settles it alone
        left = holds(expression.left, scope)
        if left is decisive:
            return decisive
        right = holds(expression.right, scope)
        if right is decisive:
            return decisive
        return UNKNOWN if left is None or right is None else not decisive
    left_value = evaluate(expression.left, scope)
    right_value = evaluate(expression.right, scope)
    if isinstance(left_value, _Unknown) or isinstance(right_value, _Unknown):
        return UNKNOWN
    if operator in ("=", "!="):
        equal = _equal(left_value, right_value)
        return equal if operator == "=" else not equal
    if operator in ("<", "<=", ">", ">="):
        return _COMPARE[operator](to_number(left_value), to_number(right_value))
    if operator == "|":
        raise ExpressionError("a union of node-sets ('|') is not an answer papertwin can read")
    return _ARITHMETIC[operator](to_number(left_value), to_number(right_value))


def _equal(left: Value, right: Value) -> bool:
    """XPath 1.0 `=`: a boolean on either side compares booleans, else a number compares
    numbers, else strings; a date compares as days, as ODK does."""
    if isinstance(left, bool) or isinstance(right, bool):
        return to_boolean(left) == to_boolean(right)
    if isinstance(left, float | Day) or isinstance(right, float | Day):
        return to_number(left) == to_number(right)
    return to_string(left) == to_string(right)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _divide(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def _modulo(a: float, b: float) -> float:
    return math.nan if b == 0 or math.isinf(a) else math.fmod(a, b)


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "div": _divide, "mod": _modulo,
}


def _call(call: Call, scope: Scope) -> Value:
    name = call.function
    if name == "if":
        _arity(call, 3)
        test = holds(call.arguments[0], scope)
        if test is None:
            return UNKNOWN
        return evaluate(call.arguments[1 if test else 2], scope)
    if name == "coalesce":
        _arity(call, 2)
        first = evaluate(call.arguments[0], scope)
        if isinstance(first, _Unknown):
            return UNKNOWN
        return first if to_string(first) else evaluate(call.arguments[1], scope)
    function = _FUNCTIONS.get(name)
    if function is None:
        raise ExpressionError(f"the function {name}() is not one papertwin can evaluate")
    low, high = function.arity
    if not low <= len(call.arguments) <= (high if high >= 0 else len(call.arguments)):
        raise ExpressionError(f"{name}() takes {low}{'' if high == low else '+'} arguments, "
                              f"not {len(call.arguments)}")
    values = [evaluate(argument, scope) for argument in call.arguments]
    if any(isinstance(value, _Unknown) for value in values):
        return UNKNOWN
    if name == "today":
        return Day(float(((scope.today or date.today()) - date(1970, 1, 1)).days))
    return function.run(values)


def _arity(call: Call, count: int) -> None:
    if len(call.arguments) != count:
        raise ExpressionError(f"{call.function}() takes {count} arguments, "
                              f"not {len(call.arguments)}")


@dataclass(frozen=True)
class _Function:
    arity: tuple[int, int]  # least and most arguments; -1: any number
    run: Callable[[list[Value]], Value]


def _selected(values: list[Value]) -> Value:
    # JavaRosa's test, which the ODK specification's "an item of the space-separated list"
    # agrees with for every choice name (a name has no space in it)
    return f" {to_string(values[1]).strip()} " in f" {to_string(values[0])} "


def _selected_at(values: list[Value]) -> Value:
    picked = to_string(values[0]).split()
    index = to_number(values[1])
    return picked[int(index)] if 0 <= index < len(picked) and index.is_integer() else ""


def _rounded(number: float, places: int = 0) -> float:
    """XPath's round(): halves go up (round(-2.5) is -2); with places, ODK's, which rounds the
    number as written (round(2.675, 2) is 2.68, though the double is a little less)."""
    if math.isnan(number) or math.isinf(number):
        return number
    shifted = Decimal(repr(number)).scaleb(places) + Decimal("0.5")
    return float(shifted.to_integral_value(rounding=ROUND_FLOOR).scaleb(-places))


def _round(values: list[Value]) -> Value:
    places = to_number(values[1]) if len(values) > 1 else 0.0
    if not math.isfinite(places):
        return math.nan
    return _rounded(to_number(values[0]), int(places))


def _int(values: list[Value]) -> Value:
    number = to_number(values[0])
    return number if math.isnan(number) or math.isinf(number) else float(math.trunc(number))


def _date(values: list[Value]) -> Value:
    value = values[0]
    if isinstance(value, Day):
        return value
    number = _date_number(value)
    return Day(number) if not math.isnan(number) else ""


# Java (ODK Collect) and JavaScript (Enketo) read a '-' beside a class escape in a character
# class as itself (`[\w-\.]`: a word character, '-' or '.'); Python refuses the range.
_LITERAL_DASH: Final = re.compile(r"(?<=\\[wWdDsS])-(?=[^\]])|(?<=[^\[\\])-(?=\\[wWdDsS])")


def _java_pattern(pattern: str) -> str:
    """The pattern with each '-' that Java would read as itself written `\\-` inside a class."""
    parts = re.split(r"(\\.|\[(?:\\.|[^\]\\])*\])", pattern)
    return "".join(_LITERAL_DASH.sub(r"\\-", part) if part.startswith("[") else part
                   for part in parts)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A `regex()` pattern as ODK Collect reads it: Java's literal '-' beside a class escape,
    and an inline `(?i)` anywhere (Python takes it only at the start)."""
    flags = re.IGNORECASE if "(?i)" in pattern else 0
    try:
        return re.compile(_java_pattern(pattern.replace("(?i)", "")), flags)
    except re.error as error:
        raise ExpressionError(f"regex({pattern!r}) is not a pattern: {error}") from None


def _regex(values: list[Value]) -> Value:
    return compile_pattern(to_string(values[1])).search(to_string(values[0])) is not None


def _substring(values: list[Value]) -> Value:
    text = to_string(values[0])
    start = _rounded(to_number(values[1]))
    end = start + _rounded(to_number(values[2])) if len(values) > 2 else math.inf
    return "".join(ch for at, ch in enumerate(text, start=1) if start <= at < end)


def _translate(values: list[Value]) -> Value:
    text, source, target = (to_string(v) for v in values)
    table: dict[str, str | None] = {}
    for at, ch in enumerate(source):
        table.setdefault(ch, target[at] if at < len(target) else None)
    return "".join(table.get(ch, ch) or "" for ch in text)


def _minmax(pick: Callable[[list[float]], float]) -> Callable[[list[Value]], Value]:
    def run(values: list[Value]) -> Value:
        numbers = [to_number(v) for v in values]
        return math.nan if any(math.isnan(n) for n in numbers) or not numbers else pick(numbers)
    return run


_FUNCTIONS: dict[str, _Function] = {
    "selected": _Function((2, 2), _selected),
    "count-selected": _Function((1, 1), lambda v: float(len(to_string(v[0]).split()))),
    "selected-at": _Function((2, 2), _selected_at),
    "not": _Function((1, 1), lambda v: not to_boolean(v[0])),
    "true": _Function((0, 0), lambda v: True),
    "false": _Function((0, 0), lambda v: False),
    "boolean": _Function((1, 1), lambda v: to_boolean(v[0])),
    "boolean-from-string": _Function((1, 1), lambda v: to_string(v[0]) in ("true", "1")),
    "number": _Function((1, 1), lambda v: to_number(v[0])),
    "string": _Function((1, 1), lambda v: to_string(v[0])),
    "string-length": _Function((1, 1), lambda v: float(len(to_string(v[0])))),
    "normalize-space": _Function((1, 1), lambda v: " ".join(to_string(v[0]).split())),
    "concat": _Function((0, -1), lambda v: "".join(to_string(x) for x in v)),
    "join": _Function((1, -1), lambda v: to_string(v[0]).join(to_string(x) for x in v[1:])),
    "contains": _Function((2, 2), lambda v: to_string(v[1]) in to_string(v[0])),
    "starts-with": _Function((2, 2), lambda v: to_string(v[0]).startswith(to_string(v[1]))),
    "ends-with": _Function((2, 2), lambda v: to_string(v[0]).endswith(to_string(v[1]))),
    "substring-before": _Function(
        (2, 2), lambda v: to_string(v[0]).partition(to_string(v[1]))[0]
        if to_string(v[1]) in to_string(v[0]) else ""),
    "substring-after": _Function(
        (2, 2), lambda v: to_string(v[0]).partition(to_string(v[1]))[2]
        if to_string(v[1]) in to_string(v[0]) else ""),
    "substr": _Function((2, 3), lambda v: to_string(v[0])[int(to_number(v[1])):(
        int(to_number(v[2])) if len(v) > 2 else None)]),
    "substring": _Function((2, 3), _substring),
    "translate": _Function((3, 3), _translate),
    "regex": _Function((2, 2), _regex),
    "round": _Function((1, 2), _round),
    "int": _Function((1, 1), _int),
    "floor": _Function((1, 1), lambda v: float(math.floor(n)) if math.isfinite(
        n := to_number(v[0])) else n),
    "ceiling": _Function((1, 1), lambda v: float(math.ceil(n)) if math.isfinite(
        n := to_number(v[0])) else n),
    "abs": _Function((1, 1), lambda v: abs(to_number(v[0]))),
    "pow": _Function((2, 2), lambda v: math.pow(to_number(v[0]), to_number(v[1]))),
    "min": _Function((1, -1), _minmax(min)),
    "max": _Function((1, -1), _minmax(max)),
    "sum": _Function((1, 1), lambda v: to_number(v[0])),
    "today": _Function((0, 0), lambda v: UNKNOWN),  # evaluated in _call, which knows the day
    "date": _Function((1, 1), _date),
    "decimal-date": _Function((1, 1), lambda v: _date_number(v[0])),
    "decimal-date-time": _Function((1, 1), lambda v: _date_number(v[0])),
}
FUNCTIONS: Final = frozenset(_FUNCTIONS) | {"if", "coalesce"}
