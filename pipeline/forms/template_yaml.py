"""papertwin's own YAML template format (docs/template-format.md)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import TemplateError
from pipeline.forms.answer_shapes import shaped
from pipeline.forms.checks import check_questionnaire
from pipeline.forms.limits import DEFAULT_LIMITS, TemplateLimits, read_limited
from pipeline.forms.logo import logo_paths
from pipeline.model import (
    CHARSETS,
    QUESTION_TYPES,
    Choice,
    Grid,
    Item,
    Label,
    Note,
    PrintSettings,
    Question,
    Questionnaire,
    QuestionType,
    ReturnInfo,
    Section,
)

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# A choice's name is a code, and online surveys often number them (1 = Very poor ... 5).
CHOICE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
TEMPLATE_KEYS = {"id", "version", "title", "languages", "intro", "organisation", "returns",
                 "sender", "logo", "duplex", "choice_lists", "items", "questions"}
RETURNS_KEYS = {"address", "closing_date", "helpline"}
QUESTION_KEYS = {"name", "type", "label", "hint", "choices", "lines", "cells", "charset",
                 "other_of", "relevant", "horizontal", "constraint"}
GRID_KEYS = {"grid", "label", "hint", "choices", "rows", "multiple"}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML was built with it


def load_template(path: Path, limits: TemplateLimits = DEFAULT_LIMITS) -> Questionnaire:
    """Read a YAML template; every problem is a TemplateError naming the file and the place."""
    data = read_limited(path, limits.file_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"template {path} is not valid YAML: {_first_line(exc)}") from exc
    return parse_template(_safe_yaml(text, f"template {path}", limits), source=str(path),
                          path=path)


def _safe_yaml(text: str, source: str, limits: TemplateLimits) -> Any:
    """The document's data, refused before it is built when its aliases would multiply it.

    An alias repeats a whole part of the document without repeating its text, so a few lines can
    stand for billions of values (the YAML form of a zip bomb); they are counted as if written out.
    """
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        values = _values(node, source)
        if values > limits.cells:
            raise TemplateError(
                f"{source}: its aliases (*name) stand for {values:,} values; papertwin reads at "
                f"most {limits.cells:,} values in a template (cells limit): write the repeated "
                "parts once, for example as a list in choice_lists")
        return loader.construct_document(node)
    except (yaml.YAMLError, RecursionError) as exc:
        raise TemplateError(f"{source} is not valid YAML: {_first_line(exc)}") from exc
    finally:
        loader.dispose()


def _values(root: yaml.Node, source: str) -> int:
    """Scalars, lists and mappings in the document as written out, each alias in full."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            open_nodes.discard(id(node))
            continue
        if id(node) in open_nodes:
            raise TemplateError(f"{source}: an alias (*name) refers to a part of the template "
                                "that contains it: a template cannot contain itself")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def parse_template(data: Any, source: str = "<template>",
                   path: Path | None = None) -> Questionnaire:
    """The questionnaire in a template's data; `path` is the file, which a logo is beside."""
    if not isinstance(data, dict):
        raise TemplateError(f"template {source}: expected a mapping with id, title and items")
    unknown = set(data) - TEMPLATE_KEYS
    if unknown:
        raise TemplateError(f"template {source}: unknown keys {sorted(unknown)}")
    for key in ("id", "title"):
        if key not in data:
            raise TemplateError(f"template {source}: missing required key '{key}'")
    raw_items = data.get("items", data.get("questions"))
    if raw_items is None:
        raise TemplateError(f"template {source}: missing required key 'items'")
    form_id = str(data["id"])
    if not NAME_PATTERN.match(form_id):
        raise TemplateError(f"template {source}: id '{form_id}' must be letters, digits, _ . -")
    languages = data.get("languages") or ["en"]
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise TemplateError(f"template {source}: 'languages' must be a list of language codes")
    lang = languages[0]
    if not isinstance(raw_items, list) or not raw_items:
        raise TemplateError(f"template {source}: 'items' must be a non-empty list")
    lists = data.get("choice_lists") or {}
    if not isinstance(lists, dict):
        raise TemplateError(f"template {source}: 'choice_lists' must map list names to choices")
    parser = _ItemParser(source, lang, lists)
    items = tuple(parser.item(raw, i + 1) for i, raw in enumerate(raw_items))
    returns = data.get("returns") or {}
    if not isinstance(returns, dict):
        raise TemplateError(f"template {source}: 'returns' must be a mapping")
    unknown = set(returns) - RETURNS_KEYS
    if unknown:
        raise TemplateError(f"template {source}: returns: unknown keys {sorted(unknown)} (it "
                            f"takes {', '.join(sorted(RETURNS_KEYS))})")
    duplex = data.get("duplex", False)
    if not isinstance(duplex, bool):
        raise TemplateError(f"template {source}: 'duplex' must be true or false")
    logo = _label(data.get("logo"), lang, f"{source}: logo")
    questionnaire = Questionnaire(
        id=form_id,
        version=str(data.get("version", "1")),
        title=_label(data["title"], lang, f"{source}: title"),
        items=items,
        languages=tuple(languages),
        intro=_label(data.get("intro"), lang, f"{source}: intro"),
        organisation=_label(data.get("organisation"), lang, f"{source}: organisation"),
        returns=ReturnInfo(
            address=_label(returns.get("address"), lang, f"{source}: returns.address"),
            closing_date=_label(returns.get("closing_date"), lang,
                                f"{source}: returns.closing_date"),
            helpline=_label(returns.get("helpline"), lang, f"{source}: returns.helpline"),
        ),
        sender=_label(data.get("sender"), lang, f"{source}: sender"),
        printing=PrintSettings(
            logo=logo_paths(logo, path or Path(source), "logo") if logo else logo,
            duplex=duplex),
    )
    check_questionnaire(questionnaire, source)
    return questionnaire


class _ItemParser:
    def __init__(self, source: str, lang: str, lists: dict[str, Any]) -> None:
        self.source, self.lang, self.lists = source, lang, lists
        self.named: dict[str, tuple[Choice, ...]] = {}

    def item(self, data: Any, number: int) -> Item:
        where = f"template {self.source}: item {number}"
        if not isinstance(data, dict):
            raise TemplateError(f"{where}: expected a mapping")
        if "section" in data:
            return Section(str(data.get("name", f"section_{number}")),
                           _label(data["section"], self.lang, where))
        if "note" in data:
            return Note(str(data.get("name", f"note_{number}")),
                        _label(data["note"], self.lang, where))
        if "grid" in data:
            return self.grid(data, where)
        return self.question(data, where)

    def grid(self, data: dict[str, Any], where: str) -> Grid:
        unknown = set(data) - GRID_KEYS
        if unknown:
            raise TemplateError(f"{where}: unknown keys {sorted(unknown)}")
        name = _name(data["grid"], where)
        where = f"{where} ({name})"
        choices = self.choices(data.get("choices"), where)
        rows_raw = data.get("rows")
        if not isinstance(rows_raw, list) or not rows_raw:
            raise TemplateError(f"{where}: a grid needs a list of rows, each with name and label")
        qtype: QuestionType = "select_multiple" if data.get("multiple") else "select_one"
        rows = []
        for row in rows_raw:
            if not isinstance(row, dict) or "name" not in row or "label" not in row:
                raise TemplateError(f"{where}: each row needs 'name' and 'label'")
            rows.append(Question(name=_name(row["name"], where), type=qtype,
                                 label=_label(row["label"], self.lang, where), choices=choices,
                                 grid=name))
        return Grid(name=name, label=_label(data.get("label"), self.lang, where), choices=choices,
                    rows=tuple(rows), hint=_label(data.get("hint"), self.lang, where),
                    multiple=bool(data.get("multiple")))

    def question(self, data: dict[str, Any], where: str) -> Question:
        unknown = set(data) - QUESTION_KEYS
        if unknown:
            raise TemplateError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("name", "type", "label"):
            if key not in data:
                raise TemplateError(f"{where}: missing required key '{key}'")
        name = _name(data["name"], where)
        where = f"{where} ({name})"
        qtype = data["type"]
        if qtype not in QUESTION_TYPES:
            raise TemplateError(
                f"{where}: type '{qtype}' is not one of {', '.join(QUESTION_TYPES)}")
        choices: tuple[Choice, ...] = ()
        if qtype in ("select_one", "select_multiple"):
            choices = self.choices(data.get("choices"), where)
        lines = data.get("lines", 4)
        if not isinstance(lines, int) or not 1 <= lines <= 40:
            raise TemplateError(f"{where}: 'lines' must be a whole number 1-40")
        default = {"integer": 6, "decimal": 8, "date": 8}.get(qtype, 0)
        given = data.get("cells")
        if given is not None and (not isinstance(given, int) or not 0 <= given <= 40):
            raise TemplateError(f"{where}: 'cells' must be a whole number 0-40")
        charset = data.get("charset", "digits" if qtype in ("integer", "decimal", "date")
                           else "any")
        if charset not in CHARSETS:
            raise TemplateError(f"{where}: 'charset' must be one of {', '.join(CHARSETS)}")
        question = Question(
            name=name, type=qtype, label=_label(data["label"], self.lang, where),
            hint=_label(data.get("hint"), self.lang, where), choices=choices, lines=lines,
            charset=charset, other_of=str(data.get("other_of", "")),
            relevant=str(data.get("relevant", "")), constraint=str(data.get("constraint", "")),
            horizontal=bool(data.get("horizontal")),
        )
        if qtype in ("text", "integer", "decimal"):
            return shaped(question, given, default, where)
        return replace(question, cells=default if given is None else given)

    def choices(self, raw: Any, where: str) -> tuple[Choice, ...]:
        if isinstance(raw, str):
            if raw not in self.lists:
                raise TemplateError(f"{where}: no choice list named '{raw}' in choice_lists")
            if raw not in self.named:  # read once: a long list shared by many questions
                self.named[raw] = self.own_choices(self.lists[raw], where)
            return self.named[raw]
        return self.own_choices(raw, where)

    def own_choices(self, raw: Any, where: str) -> tuple[Choice, ...]:
        if not isinstance(raw, list) or len(raw) < 2:
            raise TemplateError(f"{where}: needs a list of at least 2 choices")
        choices = []
        for entry in raw:
            if not (isinstance(entry, dict) and "name" in entry and "label" in entry):
                raise TemplateError(f"{where}: each choice needs 'name' and 'label'")
            name = str(entry["name"])
            if not CHOICE_NAME_PATTERN.match(name):
                raise TemplateError(f"{where}: choice name '{name}' must be letters, digits, "
                                    "'_', '.' or '-', with no spaces")
            choices.append(Choice(name, _label(entry["label"], self.lang, where)))
        if len({c.name for c in choices}) != len(choices):
            raise TemplateError(f"{where}: duplicate choice names")
        return tuple(choices)


def _name(value: Any, where: str) -> str:
    name = str(value)
    if not NAME_PATTERN.match(name):
        raise TemplateError(f"{where}: name '{name}' must be letters, digits, _ . -")
    return name


def _label(value: Any, lang: str, where: str) -> Label:
    if value is None or isinstance(value, str | int | float | date):
        return Label.of(None if value is None else _text(value), lang)
    if isinstance(value, dict):
        return Label.of({str(k): _text(v) for k, v in value.items()}, lang)
    raise TemplateError(f"{where}: a label is text, or a mapping of language code to text")


def _text(value: Any) -> str:
    """A scalar as text; an unquoted date (closing_date: 2027-03-31) as its ISO form."""
    return (value.isoformat() if isinstance(value, date) else str(value)).strip()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
