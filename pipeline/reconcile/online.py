"""Reading an online survey export whose columns are named by question, as DESIGN.md sets out.

Values are kept as exported: a value that is not one of the questionnaire's choices is reported,
never silently recoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import InputFileError
from pipeline.model import Questionnaire
from pipeline.store.store import OnlineRow

RESPONSE_ID_COLUMNS = ("response_id", "KEY", "instanceID", "meta-instanceID", "_uuid")
SUBMITTED_COLUMNS = ("submitted_at", "SubmissionDate", "_submission_time", "end")
REFERENCE_COLUMNS = ("respondent_ref",)


@dataclass(frozen=True)
class InvalidValue:
    row: int  # 1-based data row
    question: str
    value: str


@dataclass(frozen=True)
class OnlineImport:
    rows: tuple[OnlineRow, ...]
    matched: tuple[str, ...]  # question columns found
    missing: tuple[str, ...]  # questions with no column in the export
    extra: tuple[str, ...]  # columns that are neither questions nor known metadata
    invalid: tuple[InvalidValue, ...]
    id_column: str


def read_online_export(path: Path, questionnaire: Questionnaire) -> OnlineImport:
    if not path.is_file():
        raise InputFileError(f"online export {path} does not exist: check the path")
    if path.suffix.lower() != ".csv":
        raise InputFileError(f"online export {path}: papertwin reads CSV exports (.csv)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFileError(f"online export {path} is not a readable CSV file: {exc}") from exc
    columns = list(frame.columns)
    id_column = _first_present(columns, RESPONSE_ID_COLUMNS)
    if id_column is None:
        raise InputFileError(
            f"online export {path} has no response id column "
            f"(one of {', '.join(RESPONSE_ID_COLUMNS)}): add one so rows can be told apart"
        )
    submitted_column = _first_present(columns, SUBMITTED_COLUMNS)
    reference_column = _first_present(columns, REFERENCE_COLUMNS)
    names = [q.name for q in questionnaire.questions]
    matched = tuple(n for n in names if n in columns)
    if not matched:
        raise InputFileError(
            f"online export {path} has none of the questionnaire's question columns "
            f"({', '.join(names)}): is it the export of survey '{questionnaire.id}'?"
        )
    known = set(names) | {id_column, submitted_column, reference_column}
    extra = tuple(c for c in columns if c not in known)

    ids = frame[id_column].tolist()
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated or "" in ids:
        raise InputFileError(
            f"online export {path}: response ids must be present and unique "
            f"(repeated: {', '.join(duplicated[:5]) or 'none'}; empty: {'' in ids})"
        )
    rows: list[OnlineRow] = []
    invalid: list[InvalidValue] = []
    for number, record in enumerate(frame.to_dict(orient="records"), start=1):
        answers = {name: str(record[name]).strip() for name in matched}
        for name, value in answers.items():
            question = questionnaire.question(name)
            allowed = set(question.choice_names())
            if not allowed or not value:
                continue
            tokens = value.split() if question.type == "select_multiple" else [value]
            if any(token not in allowed for token in tokens):
                invalid.append(InvalidValue(number, name, value))
        rows.append(OnlineRow(
            response_id=str(record[id_column]),
            submitted_at=str(record[submitted_column]) if submitted_column else "",
            respondent_ref=str(record[reference_column]) if reference_column else "",
            answers=answers,
            source=f"{path.name} row {number}",
        ))
    missing = tuple(n for n in names if n not in columns)
    return OnlineImport(tuple(rows), matched, missing, extra, tuple(invalid), id_column)


def _first_present(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in columns), None)
