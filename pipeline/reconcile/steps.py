"""The reconcile and export steps as the flows and the command line call them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.forms.registry import registered_layouts
from pipeline.reconcile.dataset import build_dataset, pick_questionnaire
from pipeline.reconcile.export import write_dataset
from pipeline.reconcile.online import OnlineImport, read_online_export
from pipeline.store.store import Store
from pipeline.workspace import Workspace


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    rows: int
    by_channel: dict[str, int]
    needs_review: int  # responses with at least one question awaiting a person
    questions: int


def import_online_export(path: Path, workspace: Workspace,
                         questionnaire_id: str | None = None) -> OnlineImport:
    questionnaire = pick_questionnaire(registered_layouts(workspace), questionnaire_id)
    imported = read_online_export(path, questionnaire)
    store = Store.open(workspace.store_url)
    try:
        store.replace_online(questionnaire.id, imported.rows)
    finally:
        store.close()
    return imported


def export_dataset(workspace: Workspace, out: Path, fmt: str = "csv",
                   questionnaire_id: str | None = None) -> ExportSummary:
    layouts = registered_layouts(workspace)
    questionnaire = pick_questionnaire(layouts, questionnaire_id)
    store = Store.open(workspace.store_url)
    try:
        frame = build_dataset(store, layouts, questionnaire)
    finally:
        store.close()
    write_dataset(frame, out, fmt)
    counts = frame["channel"].value_counts().to_dict()
    return ExportSummary(
        path=out,
        rows=len(frame),
        by_channel={str(k): int(v) for k, v in counts.items()},
        needs_review=int((frame["_needs_review"] != "").sum()),
        questions=len(questionnaire.questions),
    )
