"""Letters in the unified dataset: one row each, channel `letter`, the text in `_letter_text`.

A letter answers no question box by box, so its question columns are empty; the analysts'
qualitative coding reads `_letter_text` (a person's latest correction, else the text read).
`respondent_ref` is the serial a reviewer linked it to ("" otherwise), `_source` names its
scanned pages as paper pages are named ("<file> p<page>", joined by "; "), and `_confidence` is
the lowest of its pages' reading confidences (1.00 once a person corrected the text).
`_letter_text` is the last column (after `_off_route`), there only when the questionnaire has
letters, so a dataset without letters keeps its columns.
"""

from __future__ import annotations

import pandas as pd

from pipeline.model import Questionnaire
from pipeline.store.letters import Letter, letters
from pipeline.store.store import Store

CHANNEL = "letter"
LETTER_TEXT = "_letter_text"


def letter_rows(store: Store, questionnaire: Questionnaire,
                columns: list[str]) -> pd.DataFrame:
    """The questionnaire's letters as dataset rows in `columns` plus LETTER_TEXT, oldest first;
    an empty table when it has none."""
    found = letters(store, [questionnaire.id])
    return pd.DataFrame([_row(letter) for letter in found],
                        columns=[*columns, LETTER_TEXT], dtype=object).fillna("").astype(str)


def _row(letter: Letter) -> dict[str, str]:
    response = letter.response
    return {
        "response_id": response.response_id,
        "channel": CHANNEL,
        "submitted_at": response.created_at,
        "respondent_ref": response.serial,
        "_needs_review": "",
        "_confidence": f"{letter.confidence:.2f}",
        "_source": "; ".join(page.source for page in letter.pages),
        "_pages_missing": "",
        LETTER_TEXT: letter.text,
    }


def with_letters(frame: pd.DataFrame, store: Store, questionnaire: Questionnaire) -> pd.DataFrame:
    """The dataset with the questionnaire's letters after its other rows (unchanged when there
    are none)."""
    rows = letter_rows(store, questionnaire, list(frame.columns))
    if rows.empty:
        return frame
    # The last column: the export puts _off_route after _pages_missing, before it.
    return pd.concat([frame.assign(**{LETTER_TEXT: ""}), rows], ignore_index=True)
