"""The dataset as an SPSS (.sav) or Stata (.dta) file, with its labels and missing-value codes.

What analysts in those tools expect of a survey file: a variable label (the question as
printed, in the language asked for), value labels on every choice question, names the tool
accepts (names.py), and the four reasons an answer is missing kept apart as user-missing codes
(missing.py). Stata labels only whole numbers, so a choice question whose codes are words
(`yes`, `bus`) is numbered 1, 2, ... in the order the form lists its choices, in both files
alike; the codebook gives each number's code. Written through pyreadstat, whole or not at all.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from pipeline.dataset.missing import CODE_OF, MISSING_CODES, SPSS_RANGE
from pipeline.dataset.names import StatsTool, tool_names
from pipeline.dataset.types import ColumnKind, TypedDataset, integer_codes, split_owner
from pipeline.errors import NotWritableError
from pipeline.fsutil import atomic_write_bytes, make_folder
from pipeline.model import Question, Questionnaire

NUMERIC_KINDS: frozenset[ColumnKind] = frozenset({"integer", "decimal", "choice", "split",
                                                  "confidence"})
# Longest texts each tool keeps (bytes for SPSS, characters for Stata).
LABEL_LIMITS: dict[StatsTool, tuple[int, int, int]] = {  # variable, value, file label
    "sav": (255, 120, 64), "dta": (80, 32000, 80)}
SELECTED_LABELS = {0.0: "not selected", 1.0: "selected"}


@dataclass(frozen=True)
class StatsTable:
    """The table pyreadstat writes, and everything the codebook says about it."""

    tool: StatsTool
    frame: pd.DataFrame  # columns named for the tool
    names: dict[str, str]  # dataset column -> the tool's name
    labels: dict[str, str | None]  # tool name -> variable label
    value_labels: dict[str, dict[float, str]]  # tool name -> value -> label
    numbered: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> code -> number
    with_missing_codes: frozenset[str] = frozenset()  # dataset columns that carry the codes
    file_label: str = ""
    measures: dict[str, str] = field(default_factory=dict)  # tool name -> SPSS measurement level
    formats: dict[str, str] = field(default_factory=dict)  # tool name -> SPSS print format


def choice_numbers(frame: pd.DataFrame, questionnaire: Questionnaire,
                   short_names: Mapping[str, str] | None = None) -> dict[str, dict[str, int]]:
    """Question name -> word code -> the number SPSS and Stata files hold, for every choice
    question whose codes are words: 1, 2, ... in the form's order, then any other value the
    dataset holds (an online answer that is no choice of the paper form), sorted. `short_names`
    gives the question of a column named otherwise (a repeat table's `age`)."""
    by_name = {q.name: q for q in questionnaire.questions}
    numbers: dict[str, dict[str, int]] = {}
    for column in frame.columns:
        question = by_name.get((short_names or {}).get(column, column))
        if question is None or question.type not in (
                "select_one", "range", "acknowledge") or integer_codes(question):
            continue
        codes = {c.name: i for i, c in enumerate(question.choices, start=1)}
        held = {str(v) for v in pd.unique(frame[column].astype(str)) if str(v)}
        for other in sorted(held - set(codes)):
            codes[other] = len(codes) + 1
        numbers[question.name] = codes
    return numbers


def stats_table(typed: TypedDataset, questionnaire: Questionnaire, tool: StatsTool,
                reasons: pd.DataFrame | None, lang: str | None = None,
                descriptions: Mapping[str, str] | None = None,
                numbers: Mapping[str, Mapping[str, int]] | None = None,
                short_names: Mapping[str, str] | None = None) -> StatsTable:
    """The typed dataset made a file of `tool`: names, labels, numbered choices, and each empty
    answer of a number or choice question given its reason's code (`reasons`:
    missing.missing_reasons of the same rows, by question name; `short_names`: the question
    name of a column the online export named otherwise)."""
    by_name = {q.name: q for q in questionnaire.questions}
    names = tool_names(list(typed.frame.columns), tool)
    variable_limit, value_limit, file_limit = LABEL_LIMITS[tool]
    columns: dict[str, pd.Series] = {}
    labels: dict[str, str | None] = {}
    value_labels: dict[str, dict[float, str]] = {}
    numbered = {k: dict(v) for k, v in (numbers or {}).items()}
    measures: dict[str, str] = {}
    formats: dict[str, str] = {}
    short_of = dict(short_names or {})
    coded: set[str] = set()
    for column in typed.frame.columns:
        kind = typed.kinds[column]
        name = names[column]
        values = typed.frame[column]
        short = short_of.get(column, column)
        question = by_name.get(short) or split_owner(short, by_name)
        text = question.label.text(lang) if question is not None else ""
        if question is not None and short != question.name:
            text = f"{text}: {_choice_label(question, short.rsplit('/', 1)[1], lang)}"
        labels[name] = _clipped(text or (descriptions or {}).get(column, ""), variable_limit, tool)
        if kind in NUMERIC_KINDS:
            held, labelled = _numeric(values, kind, question, lang,
                                      numbered.get(short, {}))
            owner = question.name if question is not None else ""
            if reasons is not None and owner in reasons.columns and kind != "confidence":
                held = _with_codes(held, reasons[owner], tool)
                coded.add(column)
                if tool == "sav":
                    labelled = {**labelled, **{float(c.spss): c.words for c in MISSING_CODES}}
            if labelled:
                value_labels[name] = {k: _clipped(v, value_limit, tool)
                                      for k, v in labelled.items()}
            columns[name] = held
            measures[name] = "scale" if kind in ("integer", "decimal", "confidence") \
                else "nominal"
            if kind in ("integer", "choice", "split"):
                formats[name] = "F8.0"  # whole numbers, shown without decimals
        elif kind == "date":
            columns[name] = values.astype(object).where(values.notna(), None)
        elif kind == "datetime":
            columns[name] = values.dt.tz_convert(UTC).dt.tz_localize(None)
        else:
            columns[name] = values.astype(object).where(values.notna(), "").astype(str)
    title = questionnaire.title.text(lang)
    return StatsTable(tool, pd.DataFrame(columns, index=typed.frame.index), names, labels,
                      value_labels, numbered, frozenset(coded),
                      _clipped(title, file_limit, tool), measures, formats)


def _choice_label(question: Question, choice: str, lang: str | None) -> str:
    return next((c.label.text(lang) for c in question.choices if c.name == choice), choice)


def _numeric(values: pd.Series, kind: ColumnKind, question: Question | None,
             lang: str | None, codes: Mapping[str, int]) -> tuple[pd.Series, dict[float, str]]:
    """Numbers (float, NaN for empty) and their value labels; word codes numbered by `codes`
    (choice_numbers)."""
    if kind == "split":
        return _floats(values), dict(SELECTED_LABELS)
    if kind != "choice" or question is None:
        return _floats(values), {}
    labels = {c.name: c.label.text(lang) for c in question.choices}
    if integer_codes(question):
        return _floats(values), {float(code): text for code, text in labels.items()}
    numbered = {float(n): labels.get(code, f"{code} (not a choice of the paper form)")
                for code, n in codes.items()}
    numbers = values.map(lambda v: float(codes[v]) if isinstance(v, str) and v in codes
                         else np.nan)
    return numbers.astype(float), numbered


def _floats(values: pd.Series) -> pd.Series:
    return values.astype("Float64").astype(float)


def _with_codes(numbers: pd.Series, reasons: pd.Series, tool: StatsTool) -> pd.Series:
    """Empty cells given their reason's code: SPSS's number, Stata's letter (`.a`)."""
    if tool == "sav":
        spss = reasons.map(lambda r: float(CODE_OF[r].spss) if r else np.nan)
        return numbers.where(numbers.notna(), spss)
    letters = reasons.map(lambda r: CODE_OF[r].stata if r else np.nan)
    out = numbers.astype(object)
    empty = numbers.isna() & letters.notna()
    out[empty] = letters[empty]
    return out


def _clipped(text: str, limit: int, tool: StatsTool) -> str:
    """A label cut to what the tool keeps (the codebook has it whole)."""
    if tool == "sav":
        raw = text.encode("utf-8")
        if len(raw) <= limit:
            return text
        return raw[:limit - 3].decode("utf-8", "ignore") + "…"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def write_stats(table: StatsTable, path: Path) -> None:
    """The file, written beside its destination and moved there whole."""
    codes = sorted(table.names[c] for c in table.with_missing_codes)
    make_folder(path.parent)
    try:
        with tempfile.TemporaryDirectory(prefix=".papertwin-", dir=path.parent) as scratch:
            staged = Path(scratch) / f"dataset.{table.tool}"
            if table.tool == "sav":
                pyreadstat.write_sav(
                    table.frame, staged, file_label=table.file_label,
                    column_labels=table.labels, variable_value_labels=table.value_labels,
                    missing_ranges={n: [{"lo": SPSS_RANGE[0], "hi": SPSS_RANGE[1]}]
                                    for n in codes},
                    note=[f"{c.spss} = {c.words}" for c in MISSING_CODES],
                    variable_measure=table.measures, variable_format=table.formats)
            else:
                pyreadstat.write_dta(
                    table.frame, staged, file_label=table.file_label,
                    column_labels=table.labels, variable_value_labels=table.value_labels,
                    missing_user_values={n: [c.stata for c in MISSING_CODES] for n in codes})
            atomic_write_bytes(path, staged.read_bytes())
    except pyreadstat.ReadstatError as exc:
        raise NotWritableError(f"cannot write {path}: {exc}") from exc
