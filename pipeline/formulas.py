"""Text a spreadsheet would evaluate as a formula, made plain text (OWASP's CSV injection advice).

Answers are written by strangers: handwriting read by OCR, online free text, a recipient list, a
reviewer's typed correction. A spreadsheet that opens an export evaluates a cell whose text begins
with `=`, `+`, `-` or `@` (some also after a leading tab or carriage return, which they strip),
so such a value could run `=HYPERLINK(...)` or worse on an analyst's machine. Every writer of a
spreadsheet-readable file asks this module which cells those are:

- CSV gets a leading `'` on each of them (the mark that spreadsheets themselves use for "this is
  text"), and every text field quoted, so that a spreadsheet splitting at another separator (`;`
  in many locales) cannot start a new cell inside a value.
- XLSX keeps the value exact, in a string cell (never a formula) styled `quotePrefix`, so that
  editing the cell keeps it text.

A plain number (`-5`, `-0.5`, `+3`, `-1e3`: an optional sign, digits with an optional decimal
point, an optional exponent) is data, not a formula: it is never changed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

TEXT_MARK = "'"  # put before a value that a spreadsheet would evaluate (CSV only)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
CSV_QUOTING: Final = csv.QUOTE_NONNUMERIC  # every text field quoted; numbers (summary counts) bare


def evaluable(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula rather than a value."""
    return text.startswith(FORMULA_STARTS) and PLAIN_NUMBER.fullmatch(text) is None


def neutral_text(text: str) -> str:
    """The text as it is, or with the text mark before it if a spreadsheet would evaluate it."""
    return TEXT_MARK + text if evaluable(text) else text


def neutral_row(values: Iterable[str]) -> list[str]:
    """Each value as `neutral_text` gives it: a CSV row a spreadsheet shows as text and never
    runs."""
    return [neutral_text(value) for value in values]


def neutral_csv(rows: Iterable[Iterable[str]]) -> str:
    """CSV text of rows of text (a header first), every field quoted and none able to run as a
    formula: the lists papertwin writes beside a print file (contacts, runs, reminders)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=CSV_QUOTING)
    for row in rows:
        writer.writerow(neutral_row(row))
    return out.getvalue()


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell and column name a spreadsheet would evaluate carries the
    text mark; numbers and other values are left as they are."""
    out = frame.copy()
    for at in range(out.shape[1]):
        out.isetitem(at, _neutral_column(out.iloc[:, at]))
    out.columns = pd.Index([_neutral_value(name) for name in frame.columns])
    return out


def _neutral_column(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_object_dtype(column) or isinstance(column.dtype, pd.CategoricalDtype):
        return column.astype(object).map(_neutral_value).to_numpy()  # cell by cell
    if not pd.api.types.is_string_dtype(column):
        return column.to_numpy()
    # Whole-column string operations: a national consultation's export has millions of cells.
    values = column.to_numpy(dtype=object, copy=True)
    marked = np.array(column.str.startswith(FORMULA_STARTS, na=False), dtype=bool)
    if marked.any():
        marked[marked] = ~np.array(column[marked].str.fullmatch(PLAIN_NUMBER.pattern),
                                   dtype=bool)
        values[marked] = [TEXT_MARK + text for text in values[marked]]
    return values


def _neutral_value(value: object) -> object:
    return neutral_text(value) if isinstance(value, str) else value
