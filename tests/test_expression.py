"""XLSForm expressions: papertwin's evaluator against XForm semantics, on expressions people wrote.

The oracle is the online form itself. Each XLSForm in ../shared/xlsforms/forms goes through
pyxform, which writes the XForm an online platform serves: every `relevant` and `constraint`
becomes a `<bind>` whose XPath names answers by their place in the instance (`${age}` turns into
`/data/household/age`, or `../age` inside a repeat). That XPath is evaluated by elementpath's
XPath 1.0 parser against the form's own instance with answers filled in, and the XLSForm's own
text (`${age} >= 18`) by papertwin against the same answers; both must hold or fail together.

elementpath compares and computes as XPath 2.0 does in its compatibility mode (`'1.0' = 1` is
false there, `'' < 16` raises), so the oracle's comparison and arithmetic operators follow XPath
1.0 section 3.4 to the letter, and the ODK functions elementpath lacks are registered on the
oracle's parser as the ODK XForms specification defines them. Where ODK Collect and Enketo mean
something XPath 1.0 does not, ODK_READINGS says so and tells the oracle; nothing is skipped.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from copy import copy
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any, ClassVar

import elementpath
import pytest
from elementpath import XPath1Parser
from elementpath.exceptions import ElementPathError
from elementpath.xpath_nodes import XPathNode
from elementpath.xpath_tokens import XPathToken
from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from pipeline.forms.expression import (
    Binary,
    Call,
    Child,
    Expression,
    ExpressionError,
    Literal,
    Negate,
    Reference,
    Scope,
    choice_test,
    conjuncts,
    evaluate,
    holds,
    parse,
    references,
    to_string,
    unparse,
)

from .test_xlsform_corpus import CORPUS, FORMS, needs_corpus

TODAY = date(2024, 6, 15)
EPOCH = date(1970, 1, 1)
CONDITIONS = ("relevant", "constraint")
# What people type into a text question that constraints check (e-mail, phone, codes)
TYPED = ("a-b.c@example.org", "a@b", "07012345678", "0123456789", "555-123-4567", "abc12")

_PATH = r"(?:\.|(?:\.\./)+[\w.-]+(?:/[\w.-]+)*|/[\w.-]+(?:/[\w.-]+)*)"
# Where ODK Collect (JavaRosa) reads an expression otherwise than XPath 1.0 does, papertwin
# follows ODK Collect, and the oracle is told: each rule rewrites pyxform's XPath into the XPath
# 1.0 that means what ODK Collect does. (What in pyxform's XPath, rewritten as, why.)
ODK_READINGS: tuple[tuple[str, str, str], ...] = (
    (r"(?<![\w/.'-])null(?![\w/'-])", "''",
     "JavaRosa reads an empty node-set (`null`, a child no question has) as '' when it "
     "compares, so `${x} = null` holds while x is blank and `!= null` once it is answered; "
     "XPath 1.0 makes both false. Forms are written for the first: exactly one of two "
     "answered is `(${a}=null and .!=null) or (.=null and ${a}!=null)`"),
    (rf"(^|\band\b|\bor\b|(?<![\w-])\(|\bnot\()\s*({_PATH})\s*(?=$|\)|\band\b|\bor\b)",
     r"\1 (string(\2) != '') ",
     "JavaRosa unpacks a single node to its answer before taking it as true or false: "
     "`${consent} and ...` holds once consent is answered. In XPath 1.0 a node that exists "
     "is true, answered or not"),
    (rf"({_PATH})\s*(>=|<=|>|<)\s*today\(\)", r"date(\1) \2 today()",
     "a date question's answer is a typed date in JavaRosa and compares as one; XPath 1.0 "
     "reads the text 2024-06-15 as NaN, so `. >= today()` would never hold"),
)
# What neither papertwin nor an XPath 1.0 processor evaluates: (XLSForm text, why).
REFUSED_BY_BOTH: tuple[tuple[str, str], ...] = (
    ("decimal-date-time(.) > decimal-date-time(now())",
     "now() is the moment the form is filled in: there is no such moment on paper"),
    ("position(..) <= ${ch} and ${consent2} = '1'",
     "the position of a repeat's entry: paper has no entries yet (ODK's one-argument "
     "position() is not XPath 1.0's)"),
    ("position(..) < ${ch}", "as above"),
    ("${response}!=1 and ${response}!=6 and ${tot_ph}>index()",
     "SurveyCTO's index(), the repeat entry's number, is neither ODK's nor XPath's"),
    ("${response_oth}!=1 and ${response_oth}!=6 and ${tot_contacts_who_ph}>index()",
     "as above"),
    ("not(selected(${phone_response}, '1') or selected(${phone_response}, '2')) and "
     "not(selected(${response},'6')) and ${tot_ph}=index() and ${tot_contacts}=0", "as above"),
    ("not(selected(${phone_response}, '1') or selected(${phone_response}, '2')) and "
     "not(selected(${response},'6')) and ${tot_ph}=index() and ${tot_contacts}>0", "as above"),
    ("not(selected(${response_oth}, '1') or selected(${response_oth}, '6')) and "
     "${tot_contacts_who_ph}=index()", "as above"),
    ("index()<${tot_contacts} and (not(selected(${last_response},'1')) and "
     "not(selected(${last_response},'6')))", "as above"),
    ("index()>=${tot_contacts} and (not(selected(${last_response},'1')) and "
     "not(selected(${last_response},'6')))", "as above"),
)


# The corpus, as pyxform turns it into the online form


@dataclass(frozen=True)
class Field:
    """A question or group as pyxform describes it, with its place in the XForm instance."""

    name: str
    path: str
    type: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """One bind's `relevant` or `constraint`: the XLSForm's own text ("" where pyxform made the
    bind itself, as for an or_other's text) and pyxform's XPath for it."""

    form: str
    field: Field
    kind: str
    text: str
    xpath: str


@dataclass(frozen=True)
class OnlineForm:
    name: str
    fields: Mapping[str, Field]
    instance: ET.Element
    conditions: tuple[Condition, ...]


XFORMS = "{http://www.w3.org/2002/xforms}"
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"


@cache
def online_form(path: Path) -> OnlineForm:
    book, description, xform = _pyxform(path)
    root = ET.fromstring(xform)
    fields = dict(_fields(description["children"], "/" + description["name"]))
    cells = dict(_cells(book))
    texts = {key: cells.get((key[0].rsplit("/", 1)[-1], key[1]), text)
             for key, text in _texts(description["children"], "/" + description["name"])}
    binds = root.iter(f"{XFORMS}bind")
    conditions: list[Condition] = []
    for bind in binds:
        nodeset = bind.get("nodeset", "")
        name = nodeset.rsplit("/", 1)[-1]
        field = fields.setdefault(name, Field(name, nodeset, "text"))  # or_other's text
        conditions += [Condition(path.name, field, kind, texts.get((nodeset, kind), ""),
                                 xpath)
                       for kind in CONDITIONS if (xpath := bind.get(kind))]
    instance = next(root.iter(f"{XFORMS}instance"))[0]
    return OnlineForm(path.name, fields, _plain(instance), tuple(conditions))


def _pyxform(path: Path) -> tuple[DefinitionData, dict[str, Any], str]:
    """pyxform's description of the form and its XForm. What papertwin accepts and pyxform
    refuses is made acceptable for the oracle only: a row of a type pyxform does not know
    (SurveyCTO's caseid) becomes a text, and a list naming a choice twice is let through, as
    the form's own settings could say."""
    book = get_xlsform(str(path))
    for _attempt in range(10):
        try:
            description = workbook_to_json(workbook_dict=book, warnings=[],
                                           fallback_form_name=book.fallback_form_name)
            xform = create_survey_element_from_dict(description).to_xml(validate=False,
                                                                       warnings=[])
        except PyXFormError as exc:
            book = _accepted(book, str(exc))
        else:
            return book, description, xform
    raise AssertionError(f"{path.name}: pyxform refuses it still")


def _accepted(book: DefinitionData, error: str) -> DefinitionData:
    unknown = re.search(r"Unknown question type '([^']+)'", error)
    if unknown:
        label = next(k for k in book.survey_header[0] if k.lower().startswith("label"))
        survey = [{**row, "type": "text", label: row.get("name") or "x"}
                  if row.get("type") == unknown[1] else row for row in book.survey]
        return dataclasses.replace(book, survey=survey)
    if "Choice names must be unique" in error:
        settings = {**(book.settings or [{}])[0], "allow_choice_duplicates": "yes"}
        header = {**(book.settings_header or [{}])[0], "allow_choice_duplicates": None}
        return dataclasses.replace(book, settings=[settings], settings_header=[header])
    raise AssertionError(error)


def _cells(book: DefinitionData) -> Iterator[tuple[tuple[str, str], str]]:
    """The survey sheet's own `relevant` and `constraint` cells, by question name, as the
    author typed them (pyxform's description has its quotes straightened already)."""
    headers = {"relevant": "relevant", "relevance": "relevant", "bind::relevant": "relevant",
               "constraint": "constraint", "bind::constraint": "constraint"}
    for row in book.survey:
        for key, value in row.items():
            kind = headers.get(str(key).strip().lower())
            if kind and row.get("name") and str(value).strip():
                yield (str(row["name"]).strip(), kind), str(value)


def _fields(children: list[dict[str, Any]], path: str) -> Iterator[tuple[str, Field]]:
    for child in children:
        here = f"{path}/{child['name']}"
        choices = tuple(str(c["name"]) for c in child.get("choices") or ())
        yield child["name"], Field(child["name"], here, str(child.get("type", "")), choices)
        yield from _fields(child.get("children") or [], here)


def _texts(children: list[dict[str, Any]], path: str) -> Iterator[tuple[tuple[str, str], str]]:
    for child in children:
        here = f"{path}/{child['name']}"
        for kind in CONDITIONS:
            if text := (child.get("bind") or {}).get(kind):
                yield (here, kind), str(text)
        yield from _texts(child.get("children") or [], here)


def _plain(element: ET.Element) -> ET.Element:
    """The instance with plain names (XPath 1.0 `/data/age` names no namespace) and a repeat's
    template left out, so that each question is one node, as in a form just opened."""
    plain = ET.Element(element.tag.rsplit("}", 1)[-1])
    plain.extend(_plain(child) for child in element if child.get(JR_TEMPLATE) is None)
    return plain


# The oracle: XPath 1.0 (elementpath), with the ODK functions


class OdkXPathParser(XPath1Parser):
    """XPath 1.0 with ODK's functions; its own symbol table, so elementpath's stays as it is."""

    symbol_table: ClassVar[dict[str, Any]] = dict(XPath1Parser.symbol_table)


Value = list[XPathNode] | bool | float | str


def _value(token: XPathToken, context: Any) -> Value:
    """An XPath 1.0 value: a node-set, a boolean, a number or a string."""
    items = list(token.select(copy(context)))
    if all(isinstance(item, XPathNode) for item in items):
        return [item for item in items if isinstance(item, XPathNode)]
    (item,) = items
    if isinstance(item, bool):
        return item
    if isinstance(item, int | float | Decimal):
        return float(item)
    return str(item)


def _string(value: Value) -> str:
    if isinstance(value, list):
        return value[0].compat_string_value if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(value)]
        return str(int(value)) if value.is_integer() else \
            format(Decimal(repr(value)), "f").rstrip("0")
    return value


def _number(value: Value) -> float:
    """XPath 1.0 number(): only an optionally signed decimal (no exponent, no INF) is one."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        return value
    text = _string(value).strip(" \t\r\n")
    return float(text) if re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", text) else math.nan


def _boolean(value: Value) -> bool:
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return bool(value)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _compare(operator: str, left: Value, right: Value) -> bool:
    """XPath 1.0 section 3.4, one rule after the other."""
    test = _OPERATORS[operator]
    equality = operator in ("=", "!=")
    if isinstance(left, list) and isinstance(right, list):
        pairs = product((_string([n]) for n in left), (_string([n]) for n in right))
        return any(test(a, b) if equality else test(_number(a), _number(b)) for a, b in pairs)
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, bool) or isinstance(right, bool):
            return _compare(operator, _boolean(left), _boolean(right))
        nodes, other = (left, right) if isinstance(left, list) else (right, left)
        flip = nodes is right
        for node in nodes:
            mine: Value = _string([node])
            theirs: Value = other
            if isinstance(other, float) or not equality:
                mine, theirs = _number(mine), _number(other)
            if test(*((theirs, mine) if flip else (mine, theirs))):
                return True
        return False
    if equality and (isinstance(left, bool) or isinstance(right, bool)):
        return test(_boolean(left), _boolean(right))
    if equality and not (isinstance(left, float) or isinstance(right, float)):
        return test(_string(left), _string(right))
    return test(_number(left), _number(right))


def _divide(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else \
            math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _modulo(a: float, b: float) -> float:
    if b == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a):
        return math.nan
    return a if math.isinf(b) else math.fmod(a, b)  # the sign of the dividend, as Java's %


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "div": _divide, "mod": _modulo,
}


def _evaluate_comparison(self: XPathToken, context: Any = None) -> bool:
    return _compare(self.symbol, _value(self[0], context), _value(self[1], context))


def _evaluate_arithmetic(self: XPathToken, context: Any = None) -> float:
    if len(self) == 1:
        return -_number(_value(self[0], context))
    return _ARITHMETIC[self.symbol](_number(_value(self[0], context)),
                                    _number(_value(self[1], context)))


for _symbol, _evaluate in [(s, _evaluate_comparison) for s in _OPERATORS] + \
        [(s, _evaluate_arithmetic) for s in _ARITHMETIC]:
    _base = XPath1Parser.symbol_table[_symbol]
    OdkXPathParser.symbol_table[_symbol] = type(_base.__name__, (_base,),
                                                {"evaluate": _evaluate})


def _odk(name: str, arity: int | tuple[int, int | None]
         ) -> Callable[[Callable[..., Any]], None]:
    """Register an ODK function on the oracle: it is given the XPath 1.0 values of its
    arguments (or, with `lazy`, the token and context, as `if` needs)."""
    OdkXPathParser.symbol_table.pop(name, None)  # XPath's own is left to elementpath's parser

    def register(run: Callable[..., Any]) -> None:
        def evaluate(self: XPathToken, context: Any = None) -> Any:
            if getattr(run, "lazy", False):
                return run(self, context)
            return run(*(_value(argument, context) for argument in self))
        OdkXPathParser.function(name, nargs=arity).evaluate = evaluate  # type: ignore[attr-defined]
    return register


def _lazy(run: Callable[..., Any]) -> Callable[..., Any]:
    run.lazy = True  # type: ignore[attr-defined]
    return run


def _days(value: Value) -> float:
    """ODK's date as a number: days since 1970-01-01 (NaN for what is not a date)."""
    if isinstance(value, float):
        return value
    text = _string(value).strip()
    try:
        return float((date.fromisoformat(text[:10]) - EPOCH).days) if text else math.nan
    except ValueError:
        return math.nan


@_odk("selected", 2)
def _selected(answer: Value, choice: Value) -> bool:
    return f" {_string(choice).strip()} " in f" {_string(answer)} "  # JavaRosa's own test


@_odk("count-selected", 1)
def _count_selected(answer: Value) -> float:
    return float(len(_string(answer).split()))


@_odk("selected-at", 2)
def _selected_at(answer: Value, index: Value) -> str:
    picked, at = _string(answer).split(), _number(index)
    return picked[int(at)] if at.is_integer() and 0 <= at < len(picked) else ""


@_odk("if", 3)
@_lazy
def _if(self: XPathToken, context: Any) -> Value:
    return _value(self[1] if _boolean(_value(self[0], context)) else self[2], context)


@_odk("coalesce", 2)
def _coalesce(first: Value, second: Value) -> Value:
    return first if _string(first) else second


@_odk("regex", 2)
def _regex(text: Value, pattern: Value) -> bool:
    # Java's and JavaScript's patterns read a '-' next to a class escape ([\w-\.]) as itself
    java = re.sub(r"(?<=\\[wWdDsS])-|-(?=\\[wWdDsS])", r"\\-", _string(pattern))
    return re.search(java, _string(text)) is not None


@_odk("today", 0)
def _today() -> float:
    return float((TODAY - EPOCH).days)


@_odk("date", 1)
def _date(value: Value) -> float:
    return _days(value)


@_odk("boolean-from-string", 1)
def _boolean_from_string(value: Value) -> bool:
    return _string(value) in ("true", "1")


@_odk("int", 1)
def _int(value: Value) -> float:
    number = _number(value)
    return number if math.isnan(number) or math.isinf(number) else float(math.trunc(number))


@_odk("number", (0, 1))  # XPath 1.0's, not elementpath's XML Schema double ('1e3', 'INF')
@_lazy
def _to_number(self: XPathToken, context: Any) -> float:
    return _number(_value(self[0], context) if len(self) else [context.item])


OdkXPathParser.build()


@cache
def oracle(xpath: str) -> XPathToken:
    return OdkXPathParser().parse(xpath)


def xpath_holds(xpath: str, instance: ET.Element, at: str, answers: Mapping[str, str]) -> bool:
    """Whether the XPath holds at the node `at` of the instance holding these answers (by
    path); the instance is cut to the nodes on their way, which is all an expression of the
    corpus can reach."""
    tree, nodes = _cut(instance, {at, *answers})
    for path, text in answers.items():
        nodes[path].text = text
    context = elementpath.XPathContext(ET.ElementTree(tree), item=nodes[at])
    return _boolean(_value(oracle(xpath), context))


def _cut(instance: ET.Element, paths: set[str]) -> tuple[ET.Element, dict[str, ET.Element]]:
    wanted = {"/".join(p.split("/")[:n]) for p in paths for n in range(2, p.count("/") + 2)}
    nodes: dict[str, ET.Element] = {}

    def copy_of(element: ET.Element, path: str) -> ET.Element:
        here = f"{path}/{element.tag}"
        cut = nodes[here] = ET.Element(element.tag)
        cut.extend(copy_of(child, here) for child in element if f"{here}/{child.tag}" in wanted)
        return cut

    tree = copy_of(instance, "")
    missing = paths - nodes.keys()
    if missing:
        raise AssertionError(f"no node {sorted(missing)} in the XForm instance")
    return tree, nodes


# Answer sets


def literals(expression: Expression) -> Iterator[str | float]:
    if isinstance(expression, Literal):
        yield expression.value
    for part in _parts(expression):
        yield from literals(part)


def _parts(expression: Expression) -> tuple[Expression, ...]:
    if isinstance(expression, Call):
        return expression.arguments
    if isinstance(expression, Binary):
        return expression.left, expression.right
    if isinstance(expression, Negate):
        return (expression.operand,)
    return ()


def candidates(field: Field, expression: Expression, rng: random.Random) -> list[str]:
    """Answers worth trying for a question: each choice and none; numbers on either side of
    the expression's numbers; its texts and near misses; days about today."""
    found = list(literals(expression))
    numbers = {n for n in found if isinstance(n, float)} | {0.0}
    texts = {t for t in found if isinstance(t, str)}
    around = sorted({v for n in numbers for v in (n - 1, n, n + 1)})
    as_numbers = [to_string(n) for n in around] + ["-1", ""]
    days = [(TODAY + timedelta(days=d)).isoformat() for d in (-365 * 16, -1, 0, 1)]
    kind = field.type
    if kind.startswith("select all") or kind.startswith("select_multiple"):
        names = sorted(set(field.choices) | texts)
        subsets = {" ".join(rng.sample(names, k)) for k in (1, 2, 3, len(names))
                   for _ in range(3) if k <= len(names)}
        return sorted(subsets | set(names) | {""})
    if kind.startswith("select"):
        return sorted(set(field.choices) | texts | {""})
    if kind in ("integer", "range"):
        return as_numbers
    if kind == "decimal":
        return as_numbers + [to_string(n + 0.5) for n in around] + [f"{around[0]:.1f}"]
    if kind in ("date", "today"):
        return [*days, *sorted(t for t in texts if _days(t) == _days(t)), ""]
    if kind.lower() == "datetime":
        return [f"{day}T10:30:00.000+02:00" for day in days] + [""]
    misses = {f"{t}x" for t in texts} | {t.upper() for t in texts}
    return sorted(texts | misses | {"", "1.0", "other"} | set(TYPED)) + as_numbers


def answer_sets(condition: Condition, form: OnlineForm, expression: Expression
                ) -> Iterator[dict[str, str]]:
    """Seeded answers to the questions the expression reads (by path in the instance): every
    answer worth trying appears at least once, with the others' at random beside it."""
    rng = random.Random(f"{condition.form}:{condition.field.path}:{condition.kind}")
    paths = {(form.fields[name] if name else condition.field).path: name
             for name in references(expression)}
    tried = {path: candidates(form.fields[name] if name else condition.field, expression, rng)
             for path, name in paths.items()}
    rounds = max([len(values) for values in tried.values()] + [1]) + 12
    for round_ in range(rounds):
        yield {path: values[round_] if round_ < len(values) else rng.choice(values)
               for path, values in tried.items()}
    named = {to_string(v) if isinstance(v, float) else v for v in literals(expression)}
    hits = {path: [v for v in values if named & set(v.split())] or values
            for path, values in tried.items()}
    for _round in range(12):  # each question with an answer the expression names
        yield {path: rng.choice(values) for path, values in hits.items()}


# The comparison


@dataclass
class Tally:
    expressions: set[str] = dataclasses.field(default_factory=set)
    evaluations: int = 0
    refused: list[str] = dataclasses.field(default_factory=list)
    readings: set[int] = dataclasses.field(default_factory=set)
    disagreements: list[str] = dataclasses.field(default_factory=list)


@cache
def compared(path: Path) -> Tally:
    form = online_form(path)
    tally = Tally()
    for condition in form.conditions:
        _compare_condition(condition, form, tally)
    return tally


def _compare_condition(condition: Condition, form: OnlineForm, tally: Tally) -> None:
    where = f"{condition.form}: {condition.kind} of {condition.field.name}"
    texts = [t for t in (condition.text, condition.xpath) if t]  # the cell, and pyxform's XPath
    tally.expressions.add(texts[0])
    xpath = condition.xpath
    for number, (pattern, meaning, _why) in enumerate(ODK_READINGS):
        xpath, count = re.subn(pattern, meaning, xpath)
        if count:
            tally.readings.add(number)
    try:
        expressions = [parse(text) for text in texts]
        for expression in expressions:
            holds(expression, Scope({}, condition.field.name, TODAY))  # unknown functions
    except ExpressionError as exc:
        _refused(where, texts[0], xpath, str(exc), tally)
        return
    for answers in answer_sets(condition, form, expressions[0]):
        named = {path.rsplit("/", 1)[-1]: text for path, text in answers.items()}
        scope = Scope(named, condition.field.name, TODAY)
        expected = xpath_holds(xpath, form.instance, condition.field.path, answers)
        tally.evaluations += 1
        for text, expression in zip(texts, expressions, strict=True):
            try:
                got: bool | str | None = holds(expression, scope)
            except ExpressionError as exc:
                got = f"ExpressionError({exc})"
            if got is not expected:
                tally.disagreements.append(f"{where}: {text!r} with {named}: papertwin {got}, "
                                           f"XPath {expected}")


def _refused(where: str, text: str, xpath: str, message: str, tally: Tally) -> None:
    """papertwin refuses the expression: XPath must refuse it too, and papertwin must say
    where it stops making sense."""
    try:
        oracle(xpath)
    except ElementPathError:
        tally.refused.append(text)
    else:
        tally.disagreements.append(f"{where}: papertwin refuses {text!r} ({message}), "
                                   "XPath reads it")


@pytest.mark.slow
@needs_corpus
@pytest.mark.parametrize("form", FORMS, ids=lambda p: p.name)
def test_evaluator_agrees_with_xform_semantics_on_the_corpus(form: Path) -> None:
    tally = compared(form)
    assert tally.disagreements[:10] == []
    assert not set(tally.refused) - {text for text, _why in REFUSED_BY_BOTH}


@pytest.mark.slow
@needs_corpus
def test_corpus_comparison_covers_every_expression() -> None:
    tallies = [compared(form) for form in FORMS]
    expressions = set().union(*(t.expressions for t in tallies))
    evaluations = sum(t.evaluations for t in tallies)
    refused = {text for t in tallies for text in t.refused}
    readings: set[int] = set().union(*(t.readings for t in tallies))
    print(f"{len(expressions)} distinct expressions, {evaluations} evaluations compared, "
          f"{len(refused)} refused by both")
    assert len(expressions) >= 600 and evaluations >= 15000
    assert refused == {text for text, _why in REFUSED_BY_BOTH}  # no entry left over
    assert readings == set(range(len(ODK_READINGS)))  # each rule is needed


@needs_corpus
def test_typographic_quotes_read_as_pyxform_writes_them() -> None:
    """pyx_ucl_biomass.xlsx has `${any_trees} = ‘yes’`: pyxform straightens the quotes before it
    writes the XForm, so the online form asks; papertwin reads the cell the same way. The raw
    cell is no XPath (elementpath refuses it), pyxform's is."""
    form = online_form(CORPUS / "pyx_ucl_biomass.xlsx")
    (trees,) = [c for c in form.conditions if c.field.name == "trees" and c.kind == "relevant"]
    assert trees.text == "${any_trees} = ‘yes’"
    assert parse(trees.text) == parse("${any_trees} = 'yes'")
    assert trees.xpath.strip() == "/data/any_trees  = 'yes'"
    with pytest.raises(ElementPathError, match="unknown symbol"):
        oracle(" /data/any_trees  = ‘yes’")


@needs_corpus
@pytest.mark.parametrize(("text", "why"), REFUSED_BY_BOTH, ids=[t for t, _ in REFUSED_BY_BOTH])
def test_what_papertwin_cannot_evaluate_it_refuses_saying_where(text: str, why: str) -> None:
    with pytest.raises(ExpressionError) as refusal:
        holds(parse(text), Scope({}, "x", TODAY))
    assert re.search(r"now\(\)|index\(\)|'\.\.'", str(refusal.value)), str(refusal.value)


def test_an_unreadable_expression_is_refused_naming_the_column() -> None:
    with pytest.raises(ExpressionError, match=r"col(umn)? 8"):
        parse("${a} = = 'x'")
    with pytest.raises(ExpressionError, match=r"1e3"):
        parse("${a} > 1e3")  # no exponent in XPath 1.0, nor in ODK Collect


@pytest.mark.slow
@needs_corpus
def test_every_corpus_expression_survives_unparse() -> None:
    texts = {c.text or c.xpath for form in FORMS for c in online_form(form).conditions}
    read = 0
    for text in texts:
        try:
            tree = parse(text)
        except ExpressionError:
            continue
        read += 1
        assert parse(unparse(tree)) == tree, text
    assert read >= 600


# ODK's semantics, by hand. Each expected value is what ODK Collect (JavaRosa 5) gives.

ANSWERS = {"age": "", "n": "1.0", "t": "1.0", "blank": "", "yes": "yes", "m": "a b  c",
           "d": "2024-06-14", "dob": "2000-01-01", "zero": "0", "e": "a-b.c@example.org"}


def odk(text: str, **more: str) -> bool | None:
    return holds(parse(text), Scope({**ANSWERS, **more}, "n", TODAY))


def value(text: str, **more: str) -> str:
    return to_string(evaluate(parse(text), Scope({**ANSWERS, **more}, "n", TODAY)))


@pytest.mark.parametrize(("text", "expected", "why"), [
    ("${age} >= 16", False, "blank is NaN, and NaN compares false"),
    ("${age} < 16", False, "so the opposite test is false as well"),
    ("${age} = ''", True, "blank is the empty string"),
    ("${yes} = ''", False, "an answer is not"),
    ("${yes} = null", False, "null selects no node, which JavaRosa reads as ''"),
    ("${yes} != null", True, "so != null means answered (XPath 1.0 would say false)"),
    ("${blank} = null", True, "and = null means unanswered"),
    ("${blank} != null", False, "..."),
    ("null = false()", True, "no node is false beside a boolean"),
    ("${n} = 1", True, "a number on one side compares numbers: '1.0' is 1"),
    ("${t} = '1'", False, "two strings compare as strings: '1.0' is not '1'"),
    ("${yes}", True, "an answer alone is true once answered (JavaRosa unpacks the node)"),
    ("${blank}", False, "and false while blank"),
    ("not(${blank})", True, "so not() of a blank holds"),
    ("${blank} = false()", True, "a blank beside a boolean is false"),
    ("selected(${m}, 'b')", True, "a multiple answer is space-separated names"),
    ("selected(${m}, 'c')", True, "two spaces still separate"),
    ("selected(${m}, ' b ')", True, "the name is trimmed"),
    ("selected(${m}, 'd')", False, "not picked"),
    ("selected(${yes}, 'ye')", False, "a name is whole, not a prefix"),
    ("count-selected(${m}) = 3", True, "three names"),
    ("count-selected(${blank}) = 0", True, "none picked"),
    ("not(${yes} = 'yes')", False, "not() of true"),
    ("true() or false() and false()", True, "and binds tighter than or"),
    ("(true() or false()) and false()", False, "brackets first"),
    ("7 div 2 = 3.5", True, "div is division"),
    ("-7 mod 3 = -1", True, "mod keeps the dividend's sign, as Java's %"),
    ("-${n} = -1", True, "unary minus of an answer"),
    ("1 - -1 = 2", True, "unary minus after binary"),
    ("1 div 0 > 1000000", True, "Infinity"),
    ("string-length(${yes}) = 3", True, "characters"),
    ("string-length(${blank}) = 0", True, "blank is empty"),
    ("${d} < today()", True, "a date answer compares as a date: 14 June is before the 15th"),
    ("${d} = today() - 1", True, "dates count days"),
    ("${d} > '2020-01-01'", False, "a date written as a string is no number in ODK Collect"),
    ("${d} > date('2020-01-01')", True, "date() makes it one"),
    ("${d} = '2024-06-14'", True, "= compares the texts"),
    ("today() - ${dob} > 365*16", True, "24 years old"),
    ("today() - ${d} > 365*16", False, "a day old"),
    ("if(${yes} = 'yes', 1, 2) = 1", True, "if() picks the second argument"),
    ("if(${blank} = 'yes', 1, 2) = 2", True, "or the third"),
    ("coalesce(${blank}, 'x') = 'x'", True, "the first non-empty"),
    ("coalesce(${yes}, 'x') = 'yes'", True, "which may be the first"),
    ("regex(${e}, '^[\\w-\\.]+@([\\w-]+\\.)+[\\w-]{2,}$')", True,
     "a '-' beside \\w in a class is a '-', as in Java and JavaScript"),
    ("regex(${yes}, '^[\\w-\\.]+@')", False, "and the pattern still tests"),
    ("regex(${yes}, 'e')", True, "regex finds, it need not match the whole"),
    ("round(2.5) = 3", True, "halves go up"),
    ("round(-2.5) = -2", True, "up, not away from zero"),
    ("round(2.675, 2) = 2.68", True, "the number as written, not the double below it"),
    ("round(-2.675, 2) = -2.67", True, "halves up with places too"),
    ("boolean-from-string('1')", True, "'1' and 'true' are true"),
    ("int(-2.7) = -2", True, "int() cuts towards zero"),
    ("number('1e3') = 1000", False, "no exponent in a number"),
    ("'2' > '1'", True, "strings compare as numbers with < and >"),
    ("'a' < 'b'", False, "which letters are not"),
    ("${zero} = false()", False, "a text '0' is an answer (an integer question's 0 is not: "
                                 "papertwin does not know the type)"),
])
def test_odk_semantics(text: str, expected: bool, why: str) -> None:
    assert odk(text) is expected, why


def test_three_valued_logic_while_answers_are_unknown() -> None:
    unknown = Scope({"yes": "yes"}, "", TODAY)
    assert holds(parse("false() and ${later} = 'x'"), unknown) is False  # settled by false
    assert holds(parse("true() or ${later} = 'x'"), unknown) is True  # settled by true
    assert holds(parse("${later} = 'x'"), unknown) is None
    assert holds(parse("true() and ${later} = 'x'"), unknown) is None
    assert holds(parse("not(${later} = 'x')"), unknown) is None
    assert holds(parse("if(${later}, 1, 1) = 1"), unknown) is None
    assert holds(parse("${yes} = 'yes' or ${later}"), unknown) is True


def test_values() -> None:
    assert value("concat(${yes}, '-', 2)") == "yes-2"
    assert value("selected-at(${m}, 1)") == "b"
    assert value("selected-at(${m}, 5)") == ""
    assert value("today()") == "2024-06-15"
    assert value("string(0.1 + 0.2)") == "0.30000000000000004"
    assert value("1 div 0") == "Infinity"
    assert value("0 div 0") == "NaN"
    assert value("round(1.005, 2)") == "1.01"


def test_choice_test_finds_a_question_and_its_choice() -> None:
    assert choice_test(parse("${q} = 'other'")) == ("q", "other", True)
    assert choice_test(parse("'other' = ${q}")) == ("q", "other", True)
    assert choice_test(parse("${q} != 'other'")) == ("q", "other", False)
    assert choice_test(parse("selected(${q}, 'other')")) == ("q", "other", True)
    assert choice_test(parse("not(selected(${q}, 'other'))")) == ("q", "other", False)
    assert choice_test(parse("selected( /data/g/q , 'x')")) == ("q", "x", True)  # pyxform's
    assert choice_test(parse("${q} = 1")) is None  # a number is no choice name
    assert choice_test(parse("${q} = ${r}")) is None
    assert choice_test(parse("selected(${q}, 'a') and ${r} = 'b'")) is None


def test_references_and_conjuncts() -> None:
    tree = parse("selected(${q}, 'a') and (. > 3 and count-selected(../r) = 1) or ${s} = null")
    assert references(tree) == {"q", "", "r", "s"}
    assert references(parse("${a} = null")) == {"a"}  # null is no question
    both = parse("${a} = 1 and (${b} = 2 and ${c} = 3)")
    assert conjuncts(both) == (parse("${a} = 1"), parse("${b} = 2"), parse("${c} = 3"))
    assert conjuncts(parse("${a} = 1 or ${b} = 2")) == (parse("${a} = 1 or ${b} = 2"),)
    assert isinstance(parse("null"), Child) and isinstance(parse("."), Reference)


def test_unparse_brackets_where_operators_meet() -> None:
    tree = parse("(${a} or ${b}) and -(${c} - 1) < 2 div ${d}")
    assert unparse(tree) == "(${a} or ${b}) and (-(${c} - 1) < (2 div ${d}))"
    assert parse(unparse(tree)) == tree
    assert unparse(parse('"it\'s"')) == '"it\'s"'
