"""What an XLSForm `constraint` says about the answer's shape: its numeric bounds and the regular
expressions it is matched against.

Paper cannot check an answer as a phone does, but the constraint tells how many digit cells a
number needs (`. <= 110`: three) and whether a text is a postcode (`regex(., '^[A-Z]{1,2}...')`).
The expression is tokenised and parsed (comparisons, `and`, `or`, `not`, function calls,
parentheses), never pattern-matched; only what bounds the answer is kept: comparisons of the
answer itself (`.`, or `${name}` naming the question) with a number, joined by `and` at the top.
What the parser does not know leaves the bounds unknown, so the form prints its defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

TOKEN = re.compile(r"""\s*(?:
    (?P<ref>\$\{\s*[^{}\s]+\s*\})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op><=|>=|!=|=|<|>|\(|\)|,|\+|-|\*)
  | (?P<self>\.(?![\w.]))
  | (?P<name>[A-Za-z_][\w:.-]*)
)""", re.VERBOSE)
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
        if self.low is not None and (value < self.low or (value == self.low
                                                          and not self.low_inclusive)):
            return False
        return self.high is None or not (value > self.high or (value == self.high
                                                               and not self.high_inclusive))


@dataclass(frozen=True)
class Constraint:
    """What papertwin uses of a constraint: the answer's bounds, the numbers compared with it
    (as written, so `35.0` says one decimal place), and the patterns `regex()` matches it to."""

    bounds: Bounds = Bounds()
    numbers: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()


class _Token(NamedTuple):
    kind: str
    text: str


class _Unparsed(Exception):
    """Syntax this small parser does not follow (arithmetic, paths): no bounds are known."""


@dataclass(frozen=True)
class _Leaf:
    kind: str  # self (.), ref (${name}), number, string
    text: str = ""


@dataclass(frozen=True)
class _Compare:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Join:
    op: str  # and, or
    parts: tuple[_Node, ...]


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


_Node = _Leaf | _Compare | _Join | _Call
SELF = _Leaf("self")


def read_constraint(text: str, name: str = "") -> Constraint:
    """The bounds and patterns of a constraint on the question `name` (empty: none known)."""
    try:
        tokens = _tokens(text)
        node, rest = _expression(tokens, 0)
        if rest != len(tokens):
            raise _Unparsed(text)
    except _Unparsed:
        return Constraint()
    terms = node.parts if isinstance(node, _Join) and node.op == "and" else (node,)
    compared = [found for term in terms if (found := _compared(term, name)) is not None]
    bounds = Bounds()
    try:
        for op, number in compared:
            bounds = _narrowed(bounds, op, Decimal(number))
    except InvalidOperation:
        return Constraint()
    return Constraint(bounds, tuple(number for _, number in compared),
                      tuple(_patterns(node, name)))


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position, end = 0, len(text.rstrip())
    while position < end:
        match = TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise _Unparsed(text)
        tokens.append(_Token(match.lastgroup, match[match.lastgroup]))
        position = match.end()
    return tokens


def _joined(op: str, tokens: list[_Token], at: int, part: _Parser) -> tuple[_Node, int]:
    """part (op part)*: an `or` of conjunctions, or an `and` of comparisons."""
    node, at = part(tokens, at)
    parts = [node]
    while at < len(tokens) and tokens[at] == _Token("name", op):
        node, at = part(tokens, at + 1)
        parts.append(node)
    return (_Join(op, tuple(parts)) if len(parts) > 1 else parts[0]), at


def _expression(tokens: list[_Token], at: int) -> tuple[_Node, int]:
    """expression := conjunction ("or" conjunction)*"""
    return _joined("or", tokens, at, _conjunction)


def _conjunction(tokens: list[_Token], at: int) -> tuple[_Node, int]:
    """conjunction := comparison ("and" comparison)*"""
    return _joined("and", tokens, at, _comparison)


def _comparison(tokens: list[_Token], at: int) -> tuple[_Node, int]:
    """comparison := operand (("<" | "<=" | ">" | ">=" | "=" | "!=") operand)?"""
    left, at = _operand(tokens, at)
    if at < len(tokens) and tokens[at].kind == "op" and tokens[at].text in (*COMPARISONS, "!="):
        right, after = _operand(tokens, at + 1)
        return _Compare(tokens[at].text, left, right), after
    return left, at


def _operand(tokens: list[_Token], at: int) -> tuple[_Node, int]:
    """operand := "." | ${name} | number | -number | string | name "(" arguments ")"
    | "(" expression ")" """
    if at >= len(tokens):
        raise _Unparsed("the expression ends too soon")
    token = tokens[at]
    if token == _Token("op", "("):
        node, at = _expression(tokens, at + 1)
        return node, _expect(tokens, at, ")")
    if token == _Token("op", "-") and at + 1 < len(tokens) and tokens[at + 1].kind == "number":
        return _Leaf("number", f"-{tokens[at + 1].text}"), at + 2
    if token.kind == "name" and tokens[at + 1:at + 2] == [_Token("op", "(")]:
        args: list[_Node] = []
        at += 2
        while tokens[at:at + 1] != [_Token("op", ")")]:
            if args:
                at = _expect(tokens, at, ",")
            arg, at = _expression(tokens, at)
            args.append(arg)
        return _Call(token.text, tuple(args)), at + 1
    if token.kind == "ref":
        return _Leaf("ref", token.text[2:-1].strip()), at + 1
    if token.kind == "string":
        return _Leaf("string", token.text[1:-1]), at + 1
    if token.kind in ("self", "number"):
        return _Leaf(token.kind, token.text), at + 1
    raise _Unparsed(token.text)  # arithmetic, a path, a keyword out of place


_Parser = Callable[[list[_Token], int], tuple[_Node, int]]


def _expect(tokens: list[_Token], at: int, op: str) -> int:
    if tokens[at:at + 1] != [_Token("op", op)]:
        raise _Unparsed(f"expected {op}")
    return at + 1


def _is_answer(node: _Node, name: str) -> bool:
    return isinstance(node, _Leaf) and (node.kind == "self" or (
        node.kind == "ref" and node.text in (name, "self")))


def _compared(node: _Node, name: str) -> tuple[str, str] | None:
    """(operator, number) for `answer op number` (or `number op answer`, turned round)."""
    if not isinstance(node, _Compare) or node.op not in COMPARISONS:
        return None
    if _is_answer(node.left, name) and isinstance(node.right, _Leaf) \
            and node.right.kind == "number":
        return node.op, node.right.text
    if _is_answer(node.right, name) and isinstance(node.left, _Leaf) \
            and node.left.kind == "number":
        return FLIPPED[node.op], node.left.text
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


def _patterns(node: _Node, name: str) -> list[str]:
    """The pattern of every `regex(answer, 'pattern')` anywhere in the expression."""
    if isinstance(node, _Call):
        own = ([node.args[1].text] if node.name == "regex" and len(node.args) == 2
               and _is_answer(node.args[0], name) and isinstance(node.args[1], _Leaf)
               and node.args[1].kind == "string" else [])
        return own + [p for arg in node.args for p in _patterns(arg, name)]
    if isinstance(node, _Join):
        return [p for part in node.parts for p in _patterns(part, name)]
    if isinstance(node, _Compare):
        return _patterns(node.left, name) + _patterns(node.right, name)
    return []
