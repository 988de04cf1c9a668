"""A column mapping file: which online export column holds which question, how its codes read.

For an online export whose columns are not named by question (a spreadsheet, a form tool
papertwin has no convention for), the person who knows the survey writes the correspondence down
once; papertwin never guesses it. Values are only recoded where this file says so.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import InputFileError
from pipeline.model import Questionnaire

# Targets that are not questions: the dataset's own leading columns.
ROLES = ("response_id", "submitted_at", "respondent_ref")
CSV_HEADER = ("export_column", "question", "export_value", "choice")


@dataclass(frozen=True)
class ColumnMapping:
    # online export column -> question or role
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # question -> value -> choice
    multiple_separator: str = " "  # between a multiple choice's choices in the online export
    path: Path | None = None

    def role_column(self, role: str) -> str | None:
        """The export column mapped to a role (response_id, submitted_at, respondent_ref), or
        None when no column is."""
        return next((c for c, target in self.columns.items() if target == role), None)


def read_mapping(path: Path, questionnaire: Questionnaire) -> ColumnMapping:
    """A YAML (.yaml, .yml) or CSV mapping file, checked against the questionnaire now, so a
    mistyped question or choice name is refused before any row is read."""
    if not path.is_file():
        raise InputFileError(f"mapping file {path} does not exist: check the path")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"mapping file {path} is not UTF-8 text: save it as UTF-8") from exc
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        mapping = _from_yaml(path, text)
    elif suffix == ".csv":
        mapping = _from_csv(path, text)
    else:
        raise InputFileError(f"mapping file {path}: write it as YAML (.yaml) or CSV (.csv)")
    _check(path, mapping, questionnaire)
    return mapping


def _from_yaml(path: Path, text: str) -> ColumnMapping:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputFileError(f"mapping file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("columns", {}), dict) \
            or not (data.get("columns") or data.get("values")):
        raise InputFileError(
            f"mapping file {path} needs a 'columns:' section of 'export column: question name' "
            "lines, a 'values:' section, or both (docs/online-imports.md)"
        )
    unknown = sorted(set(data) - {"columns", "values", "multiple_separator"})
    if unknown:
        raise InputFileError(f"mapping file {path}: unknown sections {', '.join(unknown)} "
                             "(known: columns, values, multiple_separator)")
    values = data.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise InputFileError(f"mapping file {path}: 'values:' maps each question name to "
                             "'export value: choice name' lines")
    return ColumnMapping(
        columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
        values={str(q): {_scalar(k): _scalar(v) for k, v in table.items()}
                for q, table in values.items()},
        multiple_separator=str(data.get("multiple_separator", " ")) or " ",
        path=path,
    )


def _scalar(value: Any) -> str:
    """YAML reads yes/no as booleans and 1 as a number; the online export holds text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _from_csv(path: Path, text: str) -> ColumnMapping:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != CSV_HEADER:
        raise InputFileError(f"mapping file {path}: the header must be {','.join(CSV_HEADER)}")
    columns: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    separator = " "
    for number, row in enumerate(reader, start=2):
        column, question = (row["export_column"] or "").strip(), (row["question"] or "").strip()
        value, choice = row["export_value"] or "", (row["choice"] or "").strip()
        if question == "multiple_separator" and not column:
            separator = value or " "
        elif column and question:
            columns[column] = question
        elif question and value and choice:
            values.setdefault(question, {})[value] = choice
        elif any((column, question, value, choice)):
            raise InputFileError(
                f"mapping file {path} line {number}: give export_column and question, or "
                "question, export_value and choice"
            )
    return ColumnMapping(columns, values, separator, path)


def _check(path: Path, mapping: ColumnMapping, questionnaire: Questionnaire) -> None:
    names = {q.name for q in questionnaire.questions}
    bad = sorted(t for t in mapping.columns.values() if t not in names and t not in ROLES)
    if bad:
        raise InputFileError(
            f"mapping file {path} maps columns to {', '.join(bad)}, which are not questions of "
            f"'{questionnaire.id}' nor {', '.join(ROLES)}"
        )
    targets = [t for t in mapping.columns.values()]
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise InputFileError(f"mapping file {path} maps more than one column to "
                             f"{', '.join(twice)}: keep one")
    for question, table in mapping.values.items():
        if question not in names:
            raise InputFileError(f"mapping file {path}: values are given for '{question}', "
                                 f"which is not a question of '{questionnaire.id}'")
        allowed = set(questionnaire.question(question).choice_names())
        wrong = sorted(c for c in table.values() if c not in allowed)
        if wrong:
            raise InputFileError(
                f"mapping file {path}: {', '.join(wrong)} not among the choices of {question} "
                f"({', '.join(sorted(allowed))})"
            )
