"""Comparing a dataset with the simulator's ground truth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.errors import InputFileError
from pipeline.model import Questionnaire
from pipeline.textdistance import edit_distance

TRUTH_SCHEMA = "papertwin.truth/1"


@dataclass(frozen=True)
class TruthComparison:
    responses_expected: int
    responses_found: int
    choices: int  # choice questions compared
    choices_right: int
    choices_flagged: int  # left empty and sent to a person
    choices_wrong: int  # given and wrong, or given blank while marked and not flagged
    text_chars: int
    text_errors: int  # edit distance summed over text answers

    @property
    def text_cer(self) -> float:
        """Character error rate of the text answers: edit distance per character of truth (0.0
        when there was no text)."""
        return self.text_errors / self.text_chars if self.text_chars else 0.0


def read_truth(path: Path) -> dict[str, Any]:
    """The simulator's truth file (papertwin.truth/1) as written; InputFileError when it cannot
    be read or is not of that schema."""
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(f"ground truth {path} cannot be read: {exc}") from exc
    if truth.get("schema") != TRUTH_SCHEMA:
        raise InputFileError(f"ground truth {path} is not {TRUTH_SCHEMA}")
    return dict(truth)


def truth_value(answer: Any) -> str:
    """A ground-truth answer coded as the dataset codes it."""
    if answer is None:
        return ""
    if isinstance(answer, list):
        return " ".join(answer)
    return str(answer)


def compare_with_truth(frame: pd.DataFrame, truth: dict[str, Any],
                       questionnaire: Questionnaire) -> TruthComparison:
    """How the dataset's paper responses agree with the truth: choice answers right, flagged for
    a person or wrong, and text errors as edit distance. A response missing from `frame` counts
    as not found, not as wrong."""
    paper = frame[frame["channel"] == "paper"].set_index("respondent_ref")
    found = choices = right = flagged = wrong = chars = errors = 0
    for response in truth["responses"]:
        serial = response["serial"]
        if serial not in paper.index:
            continue
        found += 1
        row = paper.loc[serial]
        review = set(str(row["_needs_review"]).split())
        for question in questionnaire.questions:
            expected = truth_value(response["answers"].get(question.name))
            got = str(row[question.name])
            if question.type == "text":
                chars += len(expected)
                errors += edit_distance(" ".join(got.split()), expected)
                continue
            choices += 1
            if question.type == "select_multiple":
                same = set(got.split()) == set(expected.split())
            else:
                same = got == expected
            if same and question.name not in review:
                right += 1
            elif question.name in review:
                flagged += 1
            else:
                wrong += 1
    return TruthComparison(len(truth["responses"]), found, choices, right, flagged, wrong,
                           chars, errors)
