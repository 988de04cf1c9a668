"""The unified dataset: one row per response, paper and online, in the online survey's columns."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import pandas as pd

from pipeline.errors import WorkspaceError
from pipeline.forms.manifest import Layout
from pipeline.model import Questionnaire
from pipeline.store.store import PaperAnswer, Store

LEADING_COLUMNS = ("response_id", "channel", "submitted_at", "respondent_ref")
PROVENANCE_COLUMNS = ("_needs_review", "_confidence", "_source")


def dataset_columns(questionnaire: Questionnaire) -> list[str]:
    return [*LEADING_COLUMNS, *(q.name for q in questionnaire.questions), *PROVENANCE_COLUMNS]


def pick_questionnaire(layouts: dict[str, Layout], questionnaire_id: str | None) -> Questionnaire:
    """The one questionnaire registered, or the one named; its newest version wins."""
    by_id: dict[str, Questionnaire] = {}
    for layout in layouts.values():
        by_id[layout.questionnaire.id] = layout.questionnaire
    if not by_id:
        raise WorkspaceError("no form is registered in this workspace: run 'papertwin forms build'")
    if questionnaire_id is None:
        if len(by_id) > 1:
            raise WorkspaceError(
                f"this workspace holds several questionnaires ({', '.join(sorted(by_id))}): "
                "name one with --form"
            )
        return next(iter(by_id.values()))
    if questionnaire_id not in by_id:
        raise WorkspaceError(
            f"questionnaire '{questionnaire_id}' is not registered here "
            f"(registered: {', '.join(sorted(by_id))})"
        )
    return by_id[questionnaire_id]


def build_dataset(store: Store, layouts: dict[str, Layout],
                  questionnaire: Questionnaire) -> pd.DataFrame:
    form_keys = [k for k, layout in layouts.items()
                 if layout.questionnaire.id == questionnaire.id]
    records = _paper_records(store.paper_answers(form_keys), questionnaire)
    for row in store.online_rows(questionnaire.id):
        record = {
            "response_id": row.response_id,
            "channel": "online",
            "submitted_at": row.submitted_at,
            "respondent_ref": row.respondent_ref,
            "_needs_review": "",
            "_confidence": "",
            "_source": row.source,
        }
        record.update({q.name: row.answers.get(q.name, "") for q in questionnaire.questions})
        records.append(record)
    return pd.DataFrame(records, columns=dataset_columns(questionnaire), dtype=str).fillna("")


def _merge_continued(group: list[PaperAnswer]) -> dict[str, PaperAnswer]:
    """One answer per question: a text that continues over pages is joined in page order."""
    merged: dict[str, PaperAnswer] = {}
    for answer in sorted(group, key=lambda a: a.page):
        first = merged.get(answer.question)
        if first is None:
            merged[answer.question] = answer
            continue
        merged[answer.question] = replace(
            first,
            value=" ".join(v for v in (first.value, answer.value) if v),
            confidence=min(first.confidence, answer.confidence),
            needs_review=first.needs_review or answer.needs_review,
            reason="; ".join(r for r in (first.reason, answer.reason) if r),
        )
    return merged


def _paper_records(
    answers: list[PaperAnswer], questionnaire: Questionnaire
) -> list[dict[str, str]]:
    grouped: dict[tuple[str, str], list[PaperAnswer]] = defaultdict(list)
    for answer in answers:
        grouped[(answer.form_key, answer.serial)].append(answer)
    records = []
    for (form_key, serial), group in sorted(grouped.items(), key=lambda item: item[0][::-1]):
        by_question = _merge_continued(group)
        review = [q.name for q in questionnaire.questions
                  if q.name in by_question and by_question[q.name].needs_review]
        sources = list(dict.fromkeys(a.source for a in sorted(group, key=lambda a: a.page)))
        record = {
            "response_id": f"paper-{form_key}-{serial}",
            "channel": "paper",
            "submitted_at": max(a.read_at for a in group),
            "respondent_ref": serial,
            "_needs_review": " ".join(review),
            "_confidence": f"{min(a.confidence for a in group):.2f}",
            "_source": "; ".join(sources),
        }
        record.update({q.name: by_question[q.name].value if q.name in by_question else ""
                       for q in questionnaire.questions})
        records.append(record)
    return records
