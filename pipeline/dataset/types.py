"""What type each column of the dataset is, and the dataset with its columns of those types.

The dataset is built as text, as an online export holds it, so that paper and online values
compare as they are. Written out, an analyst needs numbers as numbers and dates as dates: each
question's column takes the type its form gives it (XLSForm's types), the same for every
channel. Times are first brought to one format (ISO 8601 with the offset from UTC): papertwin's
own, ODK's (`2025-04-02T10:07:49.000+01:00`), Kobo's (`2025-04-02T09:07:49`, UTC) and
LimeSurvey's (`2025-04-02 09:07:49`) alike.

A value that does not fit its column's type (an online answer "about 40" to an integer
question) is never dropped: that column stays text in the typed dataset, and the export says
which column and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from pipeline.errors import UsageError
from pipeline.model import Question, Questionnaire

ColumnKind = Literal["text", "integer", "decimal", "date", "time", "datetime", "choice",
                     "choices", "split", "confidence"]
# How each kind is held in a typed table (pandas dtype, or the Python type of its cells).
TYPED_AS: dict[ColumnKind, str] = {
    "text": "text", "integer": "Int64", "decimal": "Float64", "date": "date",
    "time": "text (ISO 8601)", "datetime": "timestamp (UTC)", "choice": "Int64 or text",
    "choices": "text", "split": "Int64 (0/1)", "confidence": "Float64",
}
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class TypedDataset:
    """The typed table, each column's kind, and the columns left as text, with the reason."""

    frame: pd.DataFrame
    kinds: dict[str, ColumnKind]
    kept_as_text: dict[str, str]  # column -> why it is text in spite of its question's type

    def renamed(self, frame: pd.DataFrame, short_names: Mapping[str, str]) -> TypedDataset:
        """The same data under other column names (`frame`, columns.online_names of this one's;
        `short_names`: new name -> old), columns it adds being text."""
        kinds: dict[str, ColumnKind] = {c: self.kinds.get(short_names.get(c, c), "text")
                                        for c in frame.columns}
        kept = {next((c for c, s in short_names.items() if s == old), old): why
                for old, why in self.kept_as_text.items()}
        return TypedDataset(frame, kinds, kept)


def question_kind(question: Question) -> ColumnKind:
    """The kind of a question's column, from its type and, for choices, its codes."""
    if question.type in ("integer", "decimal", "date", "time", "datetime"):
        return question.type
    if question.type in ("select_one", "range", "acknowledge"):
        return "choice"
    if question.type == "select_multiple":
        return "choices"
    return "text"


def integer_codes(question: Question) -> bool:
    """Whether a choice question's codes are all whole numbers (ODK's `1`, `2`, `99`), kept as
    numbers in typed files, as the online platforms' own typed exports keep them."""
    names = question.choice_names()
    return bool(names) and all(_is_integer(n) for n in names)


def column_kinds(columns: Sequence[str], questionnaire: Questionnaire) -> dict[str, ColumnKind]:
    """Every column's kind: the leading and provenance columns', each question's, and a
    multiple choice's 0/1 columns (`name/choice`)."""
    by_name = {q.name: q for q in questionnaire.questions}
    kinds: dict[str, ColumnKind] = {}
    for column in columns:
        if column == "submitted_at":
            kinds[column] = "datetime"
        elif column == "_confidence":
            kinds[column] = "confidence"
        elif column in by_name:
            kinds[column] = question_kind(by_name[column])
        elif split_owner(column, by_name) is not None:
            kinds[column] = "split"
        else:
            kinds[column] = "text"
    return kinds


def split_owner(column: str, by_name: Mapping[str, Question]) -> Question | None:
    """The multiple-choice question of a 0/1 column (`routes/bus`), if it is one."""
    if "/" not in column:
        return None
    head = column.rsplit("/", 1)[0]
    question = by_name.get(head)
    return question if question is not None and question.type == "select_multiple" else None


def timezone_named(name: str) -> tzinfo:
    """The consultation's time zone (`--timezone Europe/London`): paper has no zone of its own."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"--timezone {name}: not a time zone name (such as UTC or "
                         "Europe/London)") from exc


def normalised(frame: pd.DataFrame, questionnaire: Questionnaire,
               zone: tzinfo = UTC) -> pd.DataFrame:
    """The text dataset with every time in one format: `submitted_at` in UTC, datetime answers
    with their offset (a time without one is in `zone`, the consultation's), time answers
    `HH:MM:SS` with an offset when one was given, dates `YYYY-MM-DD`. A value that is not a
    time stays as it is (typing then keeps its column text and says why)."""
    out = frame.copy()
    kinds = column_kinds(list(frame.columns), questionnaire)
    for column, kind in kinds.items():
        if kind == "datetime":
            out[column] = _mapped(frame[column].astype(str),
                                  partial(_timestamp_text, zone=zone,
                                          utc=column == "submitted_at"))
        elif kind == "date":
            out[column] = _mapped(frame[column].astype(str), _date_text)
        elif kind == "time":
            out[column] = _mapped(frame[column].astype(str), _time_text)
    return out


def _mapped(values: pd.Series, convert: Callable[[str], str]) -> pd.Series:
    """Each distinct value converted once (100,000 online rows share few dates)."""
    table = {v: (convert(v) if v else v) for v in pd.unique(values)}
    return values.map(table).astype(values.dtype)


def parse_timestamp(text: str, zone: tzinfo = UTC) -> datetime | None:
    """An exported time of any platform: ISO 8601 with `T` or a space, `Z`, an offset or
    none (then in `zone`), fractions of a second dropped; None if it is not one."""
    cleaned = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if not cleaned:
        return None
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.replace(microsecond=0)


def _timestamp_text(text: str, zone: tzinfo, utc: bool) -> str:
    moment = parse_timestamp(text, zone)
    if moment is None:
        return text
    return (moment.astimezone(UTC) if utc else moment).isoformat()


def _date_text(text: str) -> str:
    """A date, also as a spreadsheet export gives one (`2025-04-02T00:00:00`)."""
    cleaned = text.strip()
    try:
        return date.fromisoformat(cleaned[:10]).isoformat() if (
            len(cleaned) == 10 or cleaned[10:].strip("T 0:.") == "") else text
    except ValueError:
        return text


def _time_text(text: str) -> str:
    """`HH:MM:SS`, with the offset when the platform gave one (ODK: `14:30:00.000+01:00`)."""
    cleaned = text.strip().replace("Z", "+00:00")
    try:
        moment = time.fromisoformat(cleaned)
    except ValueError:
        return text
    return moment.replace(microsecond=0).isoformat()


def typed_dataset(frame: pd.DataFrame, questionnaire: Questionnaire,
                  zone: tzinfo = UTC,
                  short_names: Mapping[str, str] | None = None) -> TypedDataset:
    """The (normalised) text dataset with each column of its kind's type; blanks are missing
    (NA, None). A column holding a value its type cannot is kept as text, with the reason.
    `short_names` gives the question of a column named otherwise (a repeat table's `age`)."""
    short_of = dict(short_names or {})
    shorts = {c: short_of.get(c, c) for c in frame.columns}
    short_kinds = column_kinds(list(shorts.values()), questionnaire)
    kinds = {c: short_kinds[short] for c, short in shorts.items()}
    by_name = {q.name: q for q in questionnaire.questions}
    columns: dict[str, pd.Series] = {}
    kept: dict[str, str] = {}
    for column in frame.columns:
        kind = kinds[column]
        values = frame[column].astype(str)
        if kind == "choice" and not integer_codes(by_name[shorts[column]]):
            kind = "text"
        converted, problem = _typed(values, kind, zone)
        if problem:
            kept[column] = problem
            kinds[column] = "text"
        columns[column] = converted
    return TypedDataset(pd.DataFrame(columns, index=frame.index), kinds, kept)


def _typed(values: pd.Series, kind: ColumnKind, zone: tzinfo) -> tuple[pd.Series, str]:
    """The column converted, or as text with why it could not be."""
    blank = values.str.strip() == ""
    if kind in ("integer", "choice", "split"):
        numbers = pd.to_numeric(values.where(~blank, None), errors="coerce")
        bad = ~blank & (numbers.isna() | (numbers % 1 != 0))
        if bad.any():
            return values, _problem(values[bad], "whole numbers")
        return numbers.astype("Int64"), ""
    if kind in ("decimal", "confidence"):
        numbers = pd.to_numeric(values.where(~blank, None), errors="coerce")
        bad = ~blank & numbers.isna()
        if bad.any():
            return values, _problem(values[bad], "numbers")
        return numbers.astype("Float64"), ""
    if kind == "date":
        table = {v: _date_or_none(v) for v in pd.unique(values[~blank])}
        bad = ~blank & values.map(lambda v: table.get(v, 0) is None)
        if bad.any():
            return values, _problem(values[bad], "dates (YYYY-MM-DD)")
        return pd.Series([table.get(v) for v in values],
                         index=values.index, dtype=object), ""
    if kind == "datetime":
        stamps = {v: parse_timestamp(v, zone) for v in pd.unique(values[~blank])}
        bad = ~blank & values.map(lambda v: v in stamps and stamps[v] is None)
        if bad.any():
            return values, _problem(values[bad], "times (ISO 8601)")
        utc = pd.Series([_utc(stamps.get(v)) for v in values], index=values.index, dtype=object)
        return pd.to_datetime(utc, utc=True, format="ISO8601"), ""
    return values.where(~blank, None) if kind == "time" else values, ""


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(_date_text(text))
    except ValueError:
        return None


def _problem(bad: pd.Series, wanted: str) -> str:
    """Why a column stays text: how many values are not of its type, and the first few."""
    examples = ", ".join(repr(v) for v in pd.unique(bad)[:3])
    return f"{len(bad)} value(s) are not {wanted}, such as {examples}: kept as text"


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True
