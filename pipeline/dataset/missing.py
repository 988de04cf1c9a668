"""Why an answer is missing: four reasons an analyst must keep apart, and their codes per tool.

An empty cell can mean the respondent was not asked (their route skipped the question), chose
not to answer, or answered where the machine could not decide, or on a page that never reached
papertwin. Counting the last two as "no answer" biases every figure made from the dataset, so
SPSS and Stata files carry a documented user-missing code for each, and the codebook lists
them. (CSV, Parquet and XLSX keep the cell empty; `_needs_review`, `_off_route` and
`_pages_missing` say the same there.)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

MissingReason = Literal["off_route", "blank", "waiting", "not_read"]


@dataclass(frozen=True)
class MissingCode:
    reason: MissingReason
    spss: int  # the user-missing value of a numeric SPSS variable
    stata: str  # the extended missing value of a numeric Stata variable (.a ... .z)
    words: str


MISSING_CODES: tuple[MissingCode, ...] = (
    MissingCode("off_route", -99, "a", "not asked: not on the respondent's route"),
    MissingCode("blank", -98, "b", "left blank"),
    MissingCode("waiting", -97, "c", "waiting for a person (the reading was not sure)"),
    MissingCode("not_read", -96, "d", "page not read: lost in the post, not scanned yet, or "
                                      "unreadable"),
)
CODE_OF: dict[MissingReason, MissingCode] = {code.reason: code for code in MISSING_CODES}
SPSS_RANGE = (min(c.spss for c in MISSING_CODES), max(c.spss for c in MISSING_CODES))


def missing_reasons(frame: pd.DataFrame, questions: Sequence[str],
                    asked: pd.DataFrame | None = None,
                    unread: Mapping[str, Collection[str]] | None = None) -> pd.DataFrame:
    """For each row and question column, why it is empty ("" where it holds an answer).

    `asked` (the route: True, False, or None where it cannot be told; offroute.asked_table) marks
    the questions a route skipped; `unread` gives, by response id, the questions on a page of
    the copy that was never identified; `_needs_review` and `_off_route` name the rest.
    """
    waiting = _named(frame, "_needs_review")
    off_route = _named(frame, "_off_route")
    lost: dict[str, set[int]] = {}
    if unread:
        for at, response_id in enumerate(frame["response_id"].astype(str)):
            for name in unread.get(response_id, ()):
                lost.setdefault(name, set()).add(at)
    reasons: dict[str, np.ndarray] = {}
    for name in questions:
        empty = (frame[name].astype(str).str.strip() == "").to_numpy()
        column = np.where(empty, "blank", "").astype(object)
        skipped = np.zeros(len(frame), dtype=bool)
        skipped[off_route.get(name, [])] = True
        if asked is not None and name in asked.columns:
            skipped |= (asked[name] == False).to_numpy(dtype=bool)  # noqa: E712
        column[skipped & empty] = "off_route"
        for reason, rows in (("waiting", waiting.get(name, [])),
                             ("not_read", sorted(lost.get(name, ())))):
            chosen = np.zeros(len(frame), dtype=bool)
            chosen[rows] = True
            column[chosen & empty] = reason
        reasons[name] = column
    return pd.DataFrame(reasons, index=frame.index, columns=list(questions), dtype=object)


def _named(frame: pd.DataFrame, column: str) -> dict[str, list[int]]:
    """Question name -> the rows (by position) whose space-separated `column` names it."""
    if column not in frame.columns:
        return {}
    named: dict[str, list[int]] = {}
    for at, text in enumerate(frame[column].astype(str)):
        for name in text.split():
            named.setdefault(name, []).append(at)
    return named
