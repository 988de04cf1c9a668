"""Paper answers to questions the respondent's own route skips (`papertwin export --route`).

The online form never asks a question its `relevant` logic skips; a paper respondent can answer
it anyway (they miss a go-to, or answer everything). The dataset keeps such answers by default
and names them in `_off_route`, so an analyst can compare the channels like for like; `blank`
empties them in the dataset alone (the store keeps the reading and its review log).

Whether a question is asked is route.py's decision, the online form's own (step_asked, the step
asked_questions takes for each question), made for whole columns: each question's condition is
evaluated once per distinct combination of the answers it reads, not once per row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.errors import UsageError
from pipeline.forms.expression import ExpressionError, parse, references
from pipeline.forms.route import RouteStep, route_steps, step_asked
from pipeline.model import Questionnaire

RouteMode = Literal["keep", "flag", "blank"]
ROUTE_MODES: tuple[RouteMode, ...] = ("keep", "flag", "blank")
OFF_ROUTE_COLUMN = "_off_route"
AFTER_COLUMN = "_pages_missing"  # _off_route follows it, before any column papertwin appends
WAITING_COLUMN = "_needs_review"


def _read(condition: str) -> frozenset[str]:
    if not condition:
        return frozenset()
    try:
        return references(parse(condition))
    except ExpressionError:
        return frozenset()  # never evaluated: its question is None whatever the answers


def step_reads(step: RouteStep, names: Collection[str]) -> tuple[str, ...]:
    """The answers step_asked reads for the step: those its conditions (its own and its
    repeats') name, and its "please specify" owner's; only questions (others are unknown)."""
    read: dict[str, None] = {}
    for condition in (*step.enclosing, step.question.relevant):
        read.update(dict.fromkeys(sorted(n for n in _read(condition) if n in names)))
    if step.owner is not None and not step.question.relevant:
        read[step.owner.name] = None
    return tuple(read)


def route_keys(questionnaire: Questionnaire) -> tuple[str, ...]:
    """The questions whose answers decide who is asked what, in questionnaire order: those a
    `relevant` condition reads (a repeat copy's own) and the choice questions a "please
    specify" belongs to. No other answer changes asked_questions."""
    names = {q.name for q in questionnaire.questions}
    read = {name for step in route_steps(questionnaire) for name in step_reads(step, names)}
    return tuple(q.name for q in questionnaire.questions if q.name in read)


@dataclass
class _Column:
    """One route key's answers row by row, numbered: `values[codes[row]]` is the answer the
    conditions read, None where it is not known (waiting for a person, or given to a
    question whose asking cannot be decided)."""

    codes: np.ndarray
    values: list[str | None]

    @classmethod
    def of(cls, texts: np.ndarray, waiting: np.ndarray) -> _Column:
        codes, uniques = pd.factorize(texts)
        column = cls(codes.astype(np.int64), [str(v) for v in uniques])
        column.set(waiting, None)
        return column

    def set(self, rows: np.ndarray, value: str | None) -> None:
        """The answer of those rows (a boolean mask) is `value` from now on."""
        if not rows.any():
            return
        if value not in self.values:
            self.values.append(value)
        self.codes[rows] = self.values.index(value)


@dataclass(frozen=True)
class _Decision:
    """One question's decision for every row: `asked[codes[row]]`."""

    codes: np.ndarray
    asked: list[bool | None]

    def rows_where(self, asked: bool | None) -> np.ndarray:
        """A boolean mask of the rows whose decision is `asked`."""
        hits: np.ndarray = np.array([a is asked for a in self.asked], dtype=bool)
        rows: np.ndarray = hits[self.codes]
        return rows


def _decide(frame: pd.DataFrame, questionnaire: Questionnaire,
            today: date | None) -> dict[str, _Decision]:
    """Every question's decision for every row, as asked_questions(answered_anyway=True)
    makes it: question by question in the form's order, each question's condition evaluated
    once per distinct combination of the answers it reads (step_asked), those answers being
    already blank where their own question was not asked. Rows are never evaluated one by
    one: a national consultation has 100,000s of rows, but each condition reads few answers."""
    rows = len(frame)
    names = {q.name for q in questionnaire.questions}
    keys = set(route_keys(questionnaire))
    waiting_of = _waiting(frame, keys)
    columns: dict[str, _Column] = {}

    def column(name: str) -> _Column:
        if name not in columns:
            texts = (frame[name].astype(str).to_numpy(dtype=object) if name in frame.columns
                     else np.full(rows, "", dtype=object))
            columns[name] = _Column.of(texts, waiting_of.get(name, np.zeros(rows, dtype=bool)))
        return columns[name]

    decided: dict[str, _Decision] = {}
    for step in route_steps(questionnaire):
        reads = step_reads(step, names)
        read = [column(name) for name in reads]
        codes, first = _combinations(read, rows)
        asked: list[bool | None] = []
        for at in first:
            values = {name: value for name, c in zip(reads, read, strict=True)
                      if (value := c.values[c.codes[at]]) is not None}
            asked.append(step_asked(step, values, today))
        decision = _Decision(codes, asked)
        decided[step.question.name] = decision
        if step.question.name in keys:  # what the conditions after it read
            own = column(step.question.name)
            own.set(decision.rows_where(False), "")
            own.set(decision.rows_where(None), None)
    return decided


def _waiting(frame: pd.DataFrame, keys: Collection[str]) -> dict[str, np.ndarray]:
    """Route key -> the rows whose `_needs_review` names it: an answer not known yet."""
    rows = len(frame)
    found: dict[str, np.ndarray] = {}
    if WAITING_COLUMN not in frame.columns or not keys:
        return found
    waiting = frame[WAITING_COLUMN].astype(str).to_numpy(dtype=object)
    for at in np.flatnonzero(waiting != ""):
        for name in set(str(waiting[at]).split()) & set(keys):
            found.setdefault(name, np.zeros(rows, dtype=bool))[at] = True
    return found


def _combinations(read: Sequence[_Column], rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's combination of the columns' answers (numbered in order of first
    appearance) and the first row of each; one combination for no columns or no rows."""
    combined = np.zeros(rows, dtype=np.int64)
    for c in read:
        # renumbered after each column, so that the product never overflows
        combined, _ = pd.factorize(combined * len(c.values) + c.codes)
    if not read or not rows:
        return combined.astype(np.int64), np.zeros(1, dtype=np.int64)
    _, first = np.unique(combined, return_index=True)
    return combined.astype(np.int64), first


def asked_table(frame: pd.DataFrame, questionnaire: Questionnaire,
                today: date | None = None) -> pd.DataFrame:
    """For each row of the dataset's frame and each question (columns in questionnaire order,
    the frame's index): whether the online form asks it given that row's answers: True, False,
    or None where it cannot be evaluated (a calculation, a condition papertwin cannot read, or
    an answer it reads still waiting for a person in `_needs_review`)."""
    decided = _decide(frame, questionnaire, today)
    names = list(dict.fromkeys(q.name for q in questionnaire.questions))
    cells = np.empty((len(frame), len(names)), dtype=object)
    for j, name in enumerate(names):
        decision = decided[name]
        asked = np.empty(len(decision.asked), dtype=object)
        asked[:] = decision.asked
        cells[:, j] = asked[decision.codes]
    return pd.DataFrame(cells, index=frame.index, columns=names)


def off_route(frame: pd.DataFrame, questionnaire: Questionnaire,
              today: date | None = None) -> pd.DataFrame:
    """Boolean, the frame's index by the question columns it has: the answers (non-empty) of
    rows not online whose own earlier answers skip the question (asked is False)."""
    names = [n for n in dict.fromkeys(q.name for q in questionnaire.questions)
             if n in frame.columns]
    result = pd.DataFrame(False, index=frame.index, columns=names)
    on_paper = (frame["channel"] != "online").to_numpy()
    if not names or not on_paper.any():
        return result
    rows = frame.loc[on_paper]
    decided = _decide(rows, questionnaire, today)
    skipped = np.column_stack([decided[name].rows_where(False) for name in names])
    answered = (rows[names].astype(str) != "").to_numpy()
    result.loc[on_paper, names] = skipped & answered
    return result


def route_mode(text: str) -> RouteMode:
    """The mode named; UsageError for any other word."""
    for mode in ROUTE_MODES:
        if text == mode:
            return mode
    raise UsageError(f"--route {text!r}: choose one of {', '.join(ROUTE_MODES)}")


def mark_off_route(frame: pd.DataFrame, questionnaire: Questionnaire,
                   mode: RouteMode = "flag", today: date | None = None) -> pd.DataFrame:
    """A new frame: `flag` names each non-online row's off-route answers (off_route) in
    `_off_route`, space separated in questionnaire order, right after `_pages_missing`, and
    keeps them; `blank` also empties those cells (and their `name/choice` columns, if split
    already); `keep` returns the frame as it is, without the column."""
    mode = route_mode(mode)
    out = frame.copy()
    if mode == "keep":
        return out
    off = off_route(frame, questionnaire, today)
    names = list(off.columns)
    marks = off.to_numpy()
    named = [" ".join(_names_at(names, row)) if row.any() else "" for row in marks]
    at = (list(out.columns).index(AFTER_COLUMN) + 1 if AFTER_COLUMN in out.columns
          else len(out.columns))
    out.insert(at, OFF_ROUTE_COLUMN, named)
    if mode == "blank":
        for j, name in enumerate(names):
            if not marks[:, j].any():
                continue
            for column in (name, *_split_columns(questionnaire, name, out.columns)):
                out.loc[marks[:, j], column] = ""
    return out


def _names_at(names: Sequence[str], row: np.ndarray) -> list[str]:
    return [names[int(j)] for j in np.flatnonzero(row)]


def _split_columns(questionnaire: Questionnaire, name: str, columns: pd.Index) -> list[str]:
    """A multiple choice's `name/choice` columns, where split_multiple added them."""
    question = questionnaire.question(name)
    if question.type != "select_multiple":
        return []
    return [c for c in (f"{name}/{choice}" for choice in question.choice_names())
            if c in columns]
