"""What each column of the dataset means, and how each question was answered per channel.

The codebook lets an analyst use the dataset without the questionnaire: name, label, type,
choices (name = label) and which channels asked the question. The summary counts answers per
question, channel and value, so paper and online can be compared at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from pipeline.model import Questionnaire

CHANNELS = ("paper", "online")


CODEBOOK_COLUMNS = ["question", "label", "type", "choices", "channels", "column"]


def codebook(questionnaire: Questionnaire, online_columns: frozenset[str],
             online_only: tuple[str, ...] = (), columns: Mapping[str, str] | None = None,
             metadata: Sequence[tuple[str, str]] = ()) -> pd.DataFrame:
    """One row per question column, saying which channels asked it: every question of the
    questionnaire is printed on paper; online, those the export has a column for. `column` is
    its name in the dataset: the question's, or the online export's (`columns`: question ->
    dataset column, `papertwin export --columns online`). Then a row per metadata column of the
    online tool's (`metadata`: column, what it holds), which no question is."""
    named = columns or {}
    rows = []
    for question in questionnaire.questions:
        asked = "paper, online" if question.name in online_columns else "paper"
        rows.append({
            "question": question.name,
            "label": question.label.text(),
            "type": question.type,
            "choices": "; ".join(f"{c.name} = {c.label.text()}" for c in question.choices),
            "channels": asked,
            "column": named.get(question.name, question.name),
        })
    for name in online_only:
        rows.append({"question": name, "label": "", "type": "", "choices": "",
                     "channels": "online", "column": named.get(name, name)})
    for column, meaning in metadata:
        rows.append({"question": "", "label": meaning, "type": "metadata", "choices": "",
                     "channels": "online", "column": column})
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)


def summary(questionnaire: Questionnaire, frame: pd.DataFrame) -> pd.DataFrame:
    """Counts per question, channel and value; a multiple choice counts each choice named, and
    free text counts answered and unanswered only. An empty answer that waits for a person (an
    undecided reading, a page never identified) is counted as waiting, never as blank."""
    rows: list[dict[str, object]] = []
    by_channel = {channel: frame[frame["channel"] == channel] for channel in CHANNELS}
    waiting_rows = _waiting_rows(frame)
    for question in questionnaire.questions:
        if question.name not in frame.columns:
            continue
        for channel in CHANNELS:
            values = by_channel[channel][question.name]
            if values.empty:
                continue
            waiting = (values == "") & values.index.isin(waiting_rows.get(question.name, []))
            blank = int((values == "").sum()) - int(waiting.sum())
            if question.is_choice:
                named = values[values != ""]
                if question.type == "select_multiple":
                    named = named.str.split().explode()
                counts = named.value_counts()
                for choice in question.choice_names():
                    rows.append(_row(question.name, channel, choice, int(counts.get(choice, 0))))
                for other in sorted(set(counts.index) - set(question.choice_names())):
                    rows.append(_row(question.name, channel, f"{other} (not a choice)",
                                     int(counts[other])))
            else:
                rows.append(_row(question.name, channel, "(answered)", len(values) - blank))
            rows.append(_row(question.name, channel, "(blank)", blank))
            if waiting.any():
                rows.append(_row(question.name, channel, "(waiting for a person)",
                                 int(waiting.sum())))
    return pd.DataFrame(rows, columns=["question", "channel", "value", "count"])


def _waiting_rows(frame: pd.DataFrame) -> dict[str, list[object]]:
    """Question name -> the rows whose _needs_review names it (few: found once, not per
    question)."""
    if "_needs_review" not in frame.columns:
        return {}
    named = frame["_needs_review"].str.split().explode().dropna()
    return {str(name): list(rows) for name, rows in named.groupby(named).groups.items()}


def _row(question: str, channel: str, value: str, count: int) -> dict[str, object]:
    return {"question": question, "channel": channel, "value": value, "count": count}
