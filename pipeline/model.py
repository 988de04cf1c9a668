"""The questionnaire model every template source (YAML, XLSForm, queXML) is turned into.

Question and choice `name`s are the column names and codes of the online survey, so paper and online
answers land in the same columns. Type names follow XLSForm. Every printed text is a `Label`: one
text per language code, so one model prints in English, in Welsh, or in both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

QuestionType = Literal["select_one", "select_multiple", "text", "integer", "decimal", "date",
                       "time", "datetime", "rank", "range", "acknowledge"]
QUESTION_TYPES: tuple[QuestionType, ...] = (
    "select_one", "select_multiple", "text", "integer", "decimal", "date",
    "time", "datetime", "rank", "range", "acknowledge",
)
# Answered by ticking boxes, one answer (a choice's name) or several: read as tick boxes.
CHOICE_TYPES: tuple[QuestionType, ...] = ("select_one", "select_multiple", "range", "acknowledge")
# Answered in character cells, one digit or letter per cell.
CELL_TYPES: tuple[QuestionType, ...] = ("integer", "decimal", "date", "time", "datetime")
ACKNOWLEDGED = "OK"  # the value ODK gives an acknowledge question that was acknowledged
Charset = Literal["any", "digits", "capitals", "alphanumeric"]
CHARSETS: tuple[Charset, ...] = ("any", "digits", "capitals", "alphanumeric")
# What an answer in cells is, beyond its type: "postcode" prints outward and inward code apart
# and is read back as a UK postcode (pipeline/postcode.py).
Shape = Literal["", "postcode"]
SHAPES: tuple[Shape, ...] = ("", "postcode")
# The new types (time ... acknowledge) added type names, not fields, so kept model 2.
# 3: repeats (items of kind "repeat"). A questionnaire without one is still written as model 2,
# as before, so that its form key (a hash over it) stays the same; 2 and 1 load unchanged.
# Translatable postal texts (returns, sender) kept the number: a text in the first language alone
# is still saved as plain text, and a text by language is a mapping, as labels are.
MODEL_VERSION = 3
DEFAULT_REPEAT_COUNT = 4  # copies printed of a repeat that says nothing else (template-format.md)
_REFERENCE = re.compile(r"\$\{([\w.-]+)\}")


@dataclass(frozen=True)
class Label:
    """A printed text in one or more languages; `text(lang)` falls back to the first given."""

    texts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, value: str | Mapping[str, str] | Label | None, default_lang: str = "en") -> Label:
        """A label from a template's value: plain text (in `default_lang`), a mapping of language
        to text (blank texts dropped), a Label as it is, or None for no label."""
        if value is None:
            return cls()
        if isinstance(value, Label):
            return value
        if isinstance(value, str):
            return cls(((default_lang, value),)) if value else cls()
        return cls(tuple((str(k), str(v)) for k, v in value.items() if str(v).strip()))

    def text(self, lang: str | None = None) -> str:
        """The text in `lang`, else in the label's first language; "" for an empty label."""
        for code, value in self.texts:
            if code == lang:
                return value
        return self.texts[0][1] if self.texts else ""

    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.texts)

    def __bool__(self) -> bool:
        return bool(self.texts)

    def to_json(self) -> dict[str, str]:
        """Language -> text, as the layout manifest stores a label."""
        return dict(self.texts)


@dataclass(frozen=True)
class Choice:
    name: str
    label: Label
    route_to: str = ""  # name of the question to go to when this choice is ticked


@dataclass(frozen=True)
class Question:
    name: str
    type: QuestionType
    label: Label
    hint: Label = field(default_factory=Label)
    choices: tuple[Choice, ...] = ()
    lines: int = 4  # long text: height of the writing area, in lines
    cells: int = 0  # text/integer/decimal: write one character per cell when > 0
    charset: Charset = "any"  # what the cells may hold
    shape: Shape = ""  # what the cells hold beyond the type: a postcode
    decimals: int = 2  # decimal in cells: how many of them are after the printed point
    constraint: str = ""  # the online survey's constraint on the answer, kept as given
    grid: str = ""  # name of the grid (rows sharing one scale) this question is a row of
    other_of: str = ""  # a "please specify" text: the choice question it belongs to
    relevant: str = ""  # the online survey's condition for asking this question, kept as given
    horizontal: bool = False  # choices in one row (yes/no, short scales)
    ask_if: str = ""  # the part of `relevant` printed as "Answer this only if ..." (routing.py)

    def choice_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.choices)

    @property
    def is_choice(self) -> bool:
        """Whether the answer is ticked in boxes: single or multiple choice, a range or an
        acknowledgement."""
        return self.type in CHOICE_TYPES

    @property
    def uses_cells(self) -> bool:
        """Whether the answer is written one character per cell (numbers, dates, times, or cells
        the template asks for); a rank's cells are its own."""
        return self.type != "rank" and (self.cells > 0 or self.type in CELL_TYPES)

    @property
    def rank_digits(self) -> int:
        """Cells beside each choice of a rank question: one digit, or two past nine choices."""
        return 1 if len(self.choices) <= 9 else 2


@dataclass(frozen=True)
class Section:
    """A heading that starts a part of the questionnaire."""

    name: str
    label: Label
    # "Answer the questions in this section only if ...": holds for every question up to the
    # next heading, which then print no filter of their own (routing.py)
    ask_if: str = ""


@dataclass(frozen=True)
class Note:
    """Printed text that asks nothing: an explanation or an instruction."""

    name: str
    label: Label


@dataclass(frozen=True)
class Grid:
    """Questions printed as rows of one table, all answered on the same scale."""

    name: str
    label: Label
    choices: tuple[Choice, ...]
    rows: tuple[Question, ...]
    hint: Label = field(default_factory=Label)
    multiple: bool = False
    ask_if: str = ""  # printed as "Answer these only if ...": what its rows' conditions share


@dataclass(frozen=True)
class Repeat:
    """Items asked once for each member of a list (people, visits, plots), printed `count` times.

    `items` are one copy's items as the template names them; `copy_items(k)` gives copy k's with
    instance names (`member[2]/age`), which is what is printed, read, stored and exported, so
    that each copy's answers are columns of their own.
    """

    name: str
    label: Label
    items: tuple[Item, ...]
    count: int = DEFAULT_REPEAT_COUNT
    hint: Label = field(default_factory=Label)
    table: bool = False  # one table row per copy, when its questions are few and short
    relevant: str = ""  # the online survey's condition for asking the repeat at all
    ask_if: str = ""  # the part of `relevant` printed above it as "Answer this only if ..."

    def copy_prefix(self, k: int) -> str:
        """What copy k's instance names start with (a nested repeat's name holds its parent's)."""
        return f"{self.name}[{k}]/"

    def copy_items(self, k: int) -> tuple[Item, ...]:
        """Copy k (from 1) of the items: names, links and conditions moved to that copy.

        A `${x}` naming an item of this repeat means this copy's x, as it does online.
        """
        inner = self.copy_prefix(k)
        own = frozenset(_own_names(self.items))
        return tuple(_in_copy(item, inner, own) for item in self.items)


Item = Section | Note | Question | Grid | Repeat


def _own_names(items: tuple[Item, ...]) -> Iterator[str]:
    """The names a repeat's items give at its own level (a nested repeat's insides excluded)."""
    for item in items:
        yield item.name
        if isinstance(item, Grid):
            yield from (row.name for row in item.rows)


def _moved(text: str, prefix: str, own: frozenset[str]) -> str:
    return _REFERENCE.sub(
        lambda m: f"${{{prefix}{m[1]}}}" if m[1] in own else m[0], text) if text else text


def _label_moved(label: Label, prefix: str, own: frozenset[str]) -> Label:
    """A label's `${x}` (printed as "your answer to question 5a") moved to the copy, too."""
    if not any("${" in text for _, text in label.texts):
        return label
    return Label(tuple((lang, _moved(text, prefix, own)) for lang, text in label.texts))


def _question_in_copy(q: Question, prefix: str, own: frozenset[str]) -> Question:
    return replace(
        q, name=prefix + q.name, label=_label_moved(q.label, prefix, own),
        hint=_label_moved(q.hint, prefix, own),
        grid=prefix + q.grid if q.grid in own else q.grid,
        other_of=prefix + q.other_of if q.other_of in own else q.other_of,
        relevant=_moved(q.relevant, prefix, own), ask_if=_moved(q.ask_if, prefix, own),
        constraint=_moved(q.constraint, prefix, own),
        choices=tuple(replace(c, route_to=prefix + c.route_to) if c.route_to in own else c
                      for c in q.choices))


def _in_copy(item: Item, prefix: str, own: frozenset[str]) -> Item:
    if isinstance(item, Question):
        return _question_in_copy(item, prefix, own)
    if isinstance(item, Grid):
        return replace(item, name=prefix + item.name, ask_if=_moved(item.ask_if, prefix, own),
                       rows=tuple(_question_in_copy(r, prefix, own) for r in item.rows))
    if isinstance(item, Repeat):
        # its own copies take their prefix when expanded; conditions on this level move now,
        # unless the nested repeat has an item of the same name, which it means instead
        outer = own - frozenset(_own_names(item.items))
        return replace(item, name=prefix + item.name, relevant=_moved(item.relevant, prefix, own),
                       ask_if=_moved(item.ask_if, prefix, own),
                       items=tuple(_references_moved(i, prefix, outer) for i in item.items))
    if isinstance(item, Section):
        return replace(item, name=prefix + item.name, label=_label_moved(item.label, prefix, own),
                       ask_if=_moved(item.ask_if, prefix, own))
    return replace(item, name=prefix + item.name, label=_label_moved(item.label, prefix, own))


def _references_moved(item: Item, prefix: str, own: frozenset[str]) -> Item:
    """An item of a nested repeat, its conditions on the enclosing copy's items moved there."""
    if isinstance(item, Question):
        return replace(item, relevant=_moved(item.relevant, prefix, own),
                       ask_if=_moved(item.ask_if, prefix, own))
    if isinstance(item, Grid):
        return replace(item, ask_if=_moved(item.ask_if, prefix, own),
                       rows=tuple(replace(r, relevant=_moved(r.relevant, prefix, own),
                                          ask_if=_moved(r.ask_if, prefix, own))
                                  for r in item.rows))
    if isinstance(item, Repeat):
        outer = own - frozenset(_own_names(item.items))
        return replace(item, relevant=_moved(item.relevant, prefix, own),
                       ask_if=_moved(item.ask_if, prefix, own),
                       items=tuple(_references_moved(i, prefix, outer) for i in item.items))
    if isinstance(item, Section):
        return replace(item, ask_if=_moved(item.ask_if, prefix, own))
    return item


def printed_size(items: tuple[Item, ...]) -> int:
    """How many questions (a grid's rows), notes and headings print, a repeat's once per copy:
    counted without expanding the copies, so that a form too large is refused before it is."""
    return sum(1 + item.count * printed_size(item.items) if isinstance(item, Repeat)
               else len(item.rows) if isinstance(item, Grid) else 1 for item in items)


# One step of an instance name, a repeat and a copy: `member[2]/`.
_INSTANCE_STEP = re.compile(r"([^/\[\]]+)\[(\d+)\]/")


def instance_path(name: str) -> tuple[tuple[tuple[str, int], ...], str]:
    """The (repeat, copy) steps of an instance name and the name within the copy:
    `visit[1]/plot[2]/area` is ((visit, 1), (plot, 2)) and `area`; a name outside any repeat
    has no steps. The steps are the repeats' names in the template, outermost first."""
    steps: list[tuple[str, int]] = []
    at = 0
    while (found := _INSTANCE_STEP.match(name, at)) is not None:
        steps.append((found[1], int(found[2])))
        at = found.end()
    return tuple(steps), name[at:]


def repeat_paths(items: tuple[Item, ...]) -> Iterator[tuple[tuple[str, ...], Repeat]]:
    """Every repeat, as the template names it, with the names of the repeats around it and
    its own (`("visit", "plot")`); each before the repeats inside it."""
    def walk(within: tuple[Item, ...], outer: tuple[str, ...],
             ) -> Iterator[tuple[tuple[str, ...], Repeat]]:
        for item in within:
            if isinstance(item, Repeat):
                yield (*outer, item.name), item
                yield from walk(item.items, (*outer, item.name))
    return walk(items, ())


def expand_items(items: tuple[Item, ...]) -> Iterator[Item]:
    """Every item as printed: a repeat, then each of its copies' items (nested ones expanded)."""
    for item in items:
        yield item
        if isinstance(item, Repeat):
            for k in range(1, item.count + 1):
                yield from expand_items(item.copy_items(k))


@dataclass(frozen=True)
class ReturnInfo:
    """Where and by when the paper copy goes back, printed on the form and its cover letter.

    Each is a `Label`, so a bilingual form can give its Freepost address or its closing date in
    each language; `address` holds one printed line per line of text.
    """

    address: Label = field(default_factory=Label)
    closing_date: Label = field(default_factory=Label)  # as printed, or an ISO date (2027-03-31)
    helpline: Label = field(default_factory=Label)


@dataclass(frozen=True)
class PrintSettings:
    """How copies are printed, not what a page says: kept out of the saved model (to_dict), so
    the form key of a form does not depend on where its logo lives or on the printer."""

    logo: Label = field(default_factory=Label)  # path of a PNG or JPEG per language
    duplex: bool = False  # printed double-sided: each addressed copy padded to whole sheets


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: Label
    items: tuple[Item, ...]
    languages: tuple[str, ...] = ("en",)
    intro: Label = field(default_factory=Label)
    organisation: Label = field(default_factory=Label)
    returns: ReturnInfo = field(default_factory=ReturnInfo)
    sender: Label = field(default_factory=Label)  # who signs the cover letter, and their role
    printing: PrintSettings = field(default_factory=PrintSettings)

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every question that makes a dataset column, grid rows included, in order; a repeat's
        once per printed copy, under its instance name (`member[2]/age`)."""
        return tuple(self._iter_questions())

    def _iter_questions(self) -> Iterator[Question]:
        for item in expand_items(self.items):
            if isinstance(item, Question):
                yield item
            elif isinstance(item, Grid):
                yield from item.rows

    @cached_property
    def _by_name(self) -> dict[str, Question]:
        return {q.name: q for q in reversed(self.questions)}  # the first of a name wins

    def question(self, name: str) -> Question:
        """The question of that name; KeyError when the questionnaire has none."""
        return self._by_name[name]

    def to_dict(self) -> dict[str, Any]:
        """The model as saved in layout.json and hashed into the form key.

        A postal text given in the first language only is written as plain text, as before
        they could be translated, so that such a form keeps its key; `sender` only when given.
        """
        lang = self.languages[0]
        data: dict[str, Any] = {
            "model": MODEL_VERSION if any(isinstance(i, Repeat) for i in self.items) else 2,
            "id": self.id,
            "version": self.version,
            "languages": list(self.languages),
            "title": self.title.to_json(),
            "intro": self.intro.to_json(),
            "organisation": self.organisation.to_json(),
            "returns": {
                "address": _plain_or_json(self.returns.address, lang),
                "closing_date": _plain_or_json(self.returns.closing_date, lang),
                "helpline": _plain_or_json(self.returns.helpline, lang),
            },
            "items": [_item_to_dict(item) for item in self.items],
        }
        if self.sender:
            data["sender"] = _plain_or_json(self.sender, lang)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Questionnaire:
        """The questionnaire `to_dict` wrote, as a layout manifest holds it; papertwin 0.1's flat
        list of single-language questions is read too."""
        languages = tuple(data.get("languages") or ("en",))
        lang = languages[0]
        returns = data.get("returns") or {}
        # Model 1 (papertwin 0.1) had a flat "questions" list of single-language labels.
        raw_items = data["items"] if "items" in data else data["questions"]
        return cls(
            id=str(data["id"]),
            version=str(data["version"]),
            title=Label.of(data["title"], lang),
            items=tuple(_item_from_dict(i, lang) for i in raw_items),
            languages=languages,
            intro=Label.of(data.get("intro"), lang),
            organisation=Label.of(data.get("organisation"), lang),
            returns=ReturnInfo(
                address=Label.of(returns.get("address"), lang),
                closing_date=Label.of(returns.get("closing_date"), lang),
                helpline=Label.of(returns.get("helpline"), lang),
            ),
            sender=Label.of(data.get("sender"), lang),
        )


def _plain_or_json(label: Label, lang: str) -> str | dict[str, str]:
    """A text in the first language alone as plain text, as saved before postal texts could be
    translated (and as older models load); texts in other or several languages by language."""
    if not label:
        return ""
    if label.languages() == (lang,):
        return label.text(lang)
    return label.to_json()


def _choice_to_dict(choice: Choice) -> dict[str, Any]:
    data: dict[str, Any] = {"name": choice.name, "label": choice.label.to_json()}
    if choice.route_to:
        data["route_to"] = choice.route_to
    return data


def _question_to_dict(q: Question) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "question", "name": q.name, "type": q.type,
                            "label": q.label.to_json()}
    optional: dict[str, Any] = {
        "hint": q.hint.to_json() if q.hint else None,
        "choices": [_choice_to_dict(c) for c in q.choices] or None,
        "lines": q.lines if q.type == "text" and not q.cells else None,
        "cells": q.cells or None,
        "charset": q.charset if q.charset != "any" else None,
        "shape": q.shape or None,
        "decimals": q.decimals if q.type == "decimal" and q.decimals != 2 else None,
        "constraint": q.constraint or None,
        "grid": q.grid or None,
        "other_of": q.other_of or None,
        "relevant": q.relevant or None,
        "horizontal": q.horizontal or None,
        "ask_if": q.ask_if or None,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    return data


def _item_to_dict(item: Item) -> dict[str, Any]:
    if isinstance(item, Repeat):
        data: dict[str, Any] = {
            "kind": "repeat", "name": item.name, "label": item.label.to_json(),
            "hint": item.hint.to_json(), "count": item.count, "table": item.table}
        if item.relevant:
            data["relevant"] = item.relevant
        if item.ask_if:
            data["ask_if"] = item.ask_if
        return {**data, "items": [_item_to_dict(i) for i in item.items]}
    if isinstance(item, Question):
        return _question_to_dict(item)
    if isinstance(item, Grid):
        grid: dict[str, Any] = {
            "kind": "grid", "name": item.name, "label": item.label.to_json(),
            "hint": item.hint.to_json(), "multiple": item.multiple,
            "choices": [_choice_to_dict(c) for c in item.choices],
            "rows": [_question_to_dict(r) for r in item.rows]}
        if item.ask_if:
            grid["ask_if"] = item.ask_if
        return grid
    kind = "section" if isinstance(item, Section) else "note"
    data = {"kind": kind, "name": item.name, "label": item.label.to_json()}
    if isinstance(item, Section) and item.ask_if:
        data["ask_if"] = item.ask_if
    return data


def _choices_from(data: Any, lang: str) -> tuple[Choice, ...]:
    return tuple(Choice(str(c["name"]), Label.of(c["label"], lang), str(c.get("route_to", "")))
                 for c in data or ())


def _question_from_dict(data: Mapping[str, Any], lang: str) -> Question:
    return Question(
        name=str(data["name"]),
        type=data["type"],
        label=Label.of(data["label"], lang),
        hint=Label.of(data.get("hint"), lang),
        choices=_choices_from(data.get("choices"), lang),
        lines=int(data.get("lines", 4)),
        cells=int(data.get("cells", 0)),
        charset=data.get("charset", "any"),
        shape=data.get("shape", ""),
        decimals=int(data.get("decimals", 2)),
        constraint=str(data.get("constraint", "")),
        grid=str(data.get("grid", "")),
        other_of=str(data.get("other_of", "")),
        relevant=str(data.get("relevant", "")),
        horizontal=bool(data.get("horizontal", False)),
        ask_if=str(data.get("ask_if", "")),
    )


def _item_from_dict(data: Mapping[str, Any], lang: str) -> Item:
    kind = data.get("kind", "question")
    if kind == "question":
        return _question_from_dict(data, lang)
    if kind == "grid":
        return Grid(name=str(data["name"]), label=Label.of(data["label"], lang),
                    choices=_choices_from(data["choices"], lang),
                    rows=tuple(_question_from_dict(r, lang) for r in data["rows"]),
                    hint=Label.of(data.get("hint"), lang), multiple=bool(data.get("multiple")),
                    ask_if=str(data.get("ask_if", "")))
    if kind == "repeat":
        return Repeat(name=str(data["name"]), label=Label.of(data["label"], lang),
                      items=tuple(_item_from_dict(i, lang) for i in data["items"]),
                      count=int(data["count"]), hint=Label.of(data.get("hint"), lang),
                      table=bool(data.get("table")), relevant=str(data.get("relevant", "")),
                      ask_if=str(data.get("ask_if", "")))
    if kind == "section":
        return Section(str(data["name"]), Label.of(data["label"], lang),
                       str(data.get("ask_if", "")))
    if kind == "note":
        return Note(str(data["name"]), Label.of(data["label"], lang))
    raise ValueError(f"unknown item kind {kind!r}")
