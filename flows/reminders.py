"""reminders: a letter and a fresh copy for every addressed copy that has not come back, as a
flow run, as `papertwin reminders` does (pipeline/reminders.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.reminders import ReminderRun, send_reminders
from pipeline.workspace import Workspace


@task(name="print reminders", cache_policy=NO_CACHE)
def print_reminders(workspace: Workspace, after: date, out_dir: Path,
                    questionnaire_id: str | None) -> ReminderRun:
    return send_reminders(workspace, after, out_dir, questionnaire_id)


@flow(name="reminders")
def reminders(workspace: Workspace, after: date, out_dir: Path,
              questionnaire_id: str | None = None) -> ReminderRun:
    """Reminders for the addressed copies posted (or last reminded) on or before `after` that
    have no response on any channel, into `out_dir`; each recorded with its round."""
    return print_reminders(workspace, after, out_dir, questionnaire_id)
