"""papertwin's own YAML template format (docs/template-format.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import TemplateError
from pipeline.model import QUESTION_TYPES, Choice, Question, Questionnaire, ReturnInfo

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
TEMPLATE_KEYS = {"id", "version", "title", "intro", "organisation", "returns", "questions"}
QUESTION_KEYS = {"name", "type", "label", "hint", "choices", "lines"}


def load_template(path: Path) -> Questionnaire:
    """Read a YAML template; every problem is a TemplateError naming the file and the place."""
    if not path.exists():
        raise TemplateError(f"template {path} does not exist: check the path")
    if not path.is_file():
        raise TemplateError(f"template {path} is not a file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TemplateError(f"template {path} is not valid YAML: {_first_line(exc)}") from exc
    return parse_template(data, source=str(path))


def parse_template(data: Any, source: str = "<template>") -> Questionnaire:
    if not isinstance(data, dict):
        raise TemplateError(f"template {source}: expected a mapping with id, title and questions")
    unknown = set(data) - TEMPLATE_KEYS
    if unknown:
        raise TemplateError(f"template {source}: unknown keys {sorted(unknown)}")
    for key in ("id", "title", "questions"):
        if key not in data:
            raise TemplateError(f"template {source}: missing required key '{key}'")
    form_id = str(data["id"])
    if not NAME_PATTERN.match(form_id):
        raise TemplateError(f"template {source}: id '{form_id}' must be letters, digits, _ . -")
    raw_questions = data["questions"]
    if not isinstance(raw_questions, list) or not raw_questions:
        raise TemplateError(f"template {source}: 'questions' must be a non-empty list")
    questions = tuple(
        _parse_question(q, f"{source}: question {i + 1}") for i, q in enumerate(raw_questions)
    )
    names = [q.name for q in questions]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TemplateError(f"template {source}: duplicate question names {duplicates}")
    returns = data.get("returns") or {}
    if not isinstance(returns, dict):
        raise TemplateError(f"template {source}: 'returns' must be a mapping")
    return Questionnaire(
        id=form_id,
        version=str(data.get("version", "1")),
        title=str(data["title"]),
        intro=str(data.get("intro", "")).strip(),
        organisation=str(data.get("organisation", "")),
        returns=ReturnInfo(
            address=str(returns.get("address", "")).strip(),
            closing_date=str(returns.get("closing_date", "")),
            helpline=str(returns.get("helpline", "")),
        ),
        questions=questions,
    )


def _parse_question(data: Any, where: str) -> Question:
    if not isinstance(data, dict):
        raise TemplateError(f"template {where}: expected a mapping")
    unknown = set(data) - QUESTION_KEYS
    if unknown:
        raise TemplateError(f"template {where}: unknown keys {sorted(unknown)}")
    for key in ("name", "type", "label"):
        if key not in data:
            raise TemplateError(f"template {where}: missing required key '{key}'")
    name = str(data["name"])
    if not NAME_PATTERN.match(name):
        raise TemplateError(f"template {where}: name '{name}' must be letters, digits, _ . -")
    qtype = data["type"]
    if qtype not in QUESTION_TYPES:
        raise TemplateError(
            f"template {where} ({name}): type '{qtype}' is not one of {', '.join(QUESTION_TYPES)}"
        )
    choices: tuple[Choice, ...] = ()
    if qtype in ("select_one", "select_multiple"):
        raw = data.get("choices")
        if not isinstance(raw, list) or len(raw) < 2:
            raise TemplateError(f"template {where} ({name}): needs a list of at least 2 choices")
        choices = tuple(_parse_choice(c, f"{where} ({name})") for c in raw)
        cnames = [c.name for c in choices]
        if len(set(cnames)) != len(cnames):
            raise TemplateError(f"template {where} ({name}): duplicate choice names")
    lines = data.get("lines", 4)
    if not isinstance(lines, int) or not 1 <= lines <= 30:
        raise TemplateError(f"template {where} ({name}): 'lines' must be a whole number 1-30")
    return Question(
        name=name,
        type=qtype,
        label=str(data["label"]).strip(),
        hint=str(data.get("hint", "")).strip(),
        choices=choices,
        lines=lines,
    )


def _parse_choice(data: Any, where: str) -> Choice:
    if isinstance(data, dict) and "name" in data and "label" in data:
        name = str(data["name"])
        if not NAME_PATTERN.match(name) or " " in name:
            raise TemplateError(f"template {where}: choice name '{name}' must have no spaces")
        return Choice(name=name, label=str(data["label"]))
    raise TemplateError(f"template {where}: each choice needs 'name' and 'label'")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
