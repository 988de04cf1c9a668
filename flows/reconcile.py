"""reconcile: bring an online export into the store next to the paper answers."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.export import write_dataset
from flows.report import publish_tracking, track_returns
from pipeline import online
from pipeline.dataset import ExportOptions, ExportSummary
from pipeline.online import ImportOptions, OnlineImport
from pipeline.workspace import Workspace


@task(name="import online export", cache_policy=NO_CACHE)
def import_online_export(path: Path, workspace: Workspace, questionnaire_id: str | None,
                         options: ImportOptions | None) -> OnlineImport:
    return online.import_online_export(path, workspace, questionnaire_id, options)


@flow(name="reconcile")
def reconcile(digital: Path, workspace: Workspace, questionnaire_id: str | None = None,
              options: ImportOptions | None = None) -> OnlineImport:
    """The online export merged in; the mailing's tracking, with the online returns it
    brought, published as artifacts (flows/report.py)."""
    imported = import_online_export(digital, workspace, questionnaire_id, options)
    publish_tracking(track_returns(workspace, None, questionnaire_id).tracking)
    return imported


@flow(name="reconcile_and_export")
def reconcile_and_export(digital: Path, workspace: Workspace, out: Path, fmt: str = "csv",
                         questionnaire_id: str | None = None,
                         import_options: ImportOptions | None = None,
                         export_options: ExportOptions | None = None) -> ExportSummary:
    """The online export merged in, then the unified dataset written (the export_dataset
    flow's task): what an analyst runs at the end of a consultation, or on a schedule while
    it runs."""
    import_online_export(digital, workspace, questionnaire_id, import_options)
    publish_tracking(track_returns(workspace, None, questionnaire_id).tracking)
    return write_dataset(workspace, out, fmt, questionnaire_id, export_options)
