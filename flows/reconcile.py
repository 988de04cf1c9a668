"""reconcile: bring an online export into the store next to the paper answers."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.reconcile.online import ImportOptions, OnlineImport
from pipeline.reconcile.steps import import_online_export
from pipeline.workspace import Workspace


@task(name="import online export", cache_policy=NO_CACHE)
def import_export(path: Path, workspace: Workspace, questionnaire_id: str | None,
                  options: ImportOptions | None) -> OnlineImport:
    return import_online_export(path, workspace, questionnaire_id, options)


@flow(name="reconcile")
def reconcile(digital: Path, workspace: Workspace, questionnaire_id: str | None = None,
              options: ImportOptions | None = None) -> OnlineImport:
    return import_export(digital, workspace, questionnaire_id, options)
