"""export_dataset: write the unified dataset as a flow run, as `papertwin export` does.

Its one task, write_dataset, is also the last of reconcile_and_export (flows/reconcile.py), so a
dataset written on a schedule and one written by hand show as the same task in Prefect's UI.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline import dataset
from pipeline.dataset import ExportOptions, ExportSummary
from pipeline.workspace import Workspace


@task(name="write dataset", cache_policy=NO_CACHE)
def write_dataset(workspace: Workspace, out: Path, fmt: str, questionnaire_id: str | None,
                  options: ExportOptions | None) -> ExportSummary:
    return dataset.export_dataset(workspace, out, fmt, questionnaire_id, options)


@flow(name="export_dataset")
def export_dataset(workspace: Workspace, out: Path, fmt: str = "csv",
                   questionnaire_id: str | None = None,
                   options: ExportOptions | None = None) -> ExportSummary:
    """The unified dataset, its codebook and summary written to `out` from what the store holds
    now, dual-channel pairs resolved by a person's decision or else `options.dual_policy`."""
    return write_dataset(workspace, out, fmt, questionnaire_id, options)
