"""watch_inbox: one pass over a watched inbox folder, and the loop that repeats it.

A pass finds the files that have stopped growing, ingests them through the ingest_batch flow
(as a subflow: the batch shows in the Prefect UI with its own artifacts), and only then moves
each to processed/ or quarantine/. The same flow is served as a deployment on an interval.
"""

# No `from __future__ import annotations` here: a served run loads this flow in a new process,
# where Prefect validates its parameters against annotations it must not resolve from strings.
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL
from prefect.types.entrypoint import EntrypointType

from flows.ingest import ingest_flow
from pipeline.errors import UsageError
from pipeline.ingest.batch import BatchSummary
from pipeline.ingest.inbox import (
    DEFAULT_SETTLE,
    Filed,
    InboxPass,
    check_inbox,
    file_away,
    inbox_lock,
    look,
    settled_files,
)
from pipeline.ingest.report import markdown_code
from pipeline.programs import check_programs
from pipeline.read.page import ReaderSettings
from pipeline.scan.intake import MAX_PAGES_PER_FILE
from pipeline.terminal import shown
from pipeline.workspace import Workspace


@task(name="check inbox", cache_policy=NO_CACHE)
def check(inbox: Path, workspace: Workspace) -> Path:
    """The inbox is usable, and the programs a batch needs are there: each pass is a batch,
    and a watcher runs for weeks; ingest_batch trusts this check and makes none of its own."""
    check_programs()
    return check_inbox(inbox, workspace)


@task(name="find settled files", cache_policy=NO_CACHE)
def find_settled(inbox: Path, settle: float) -> list[Path]:
    return settled_files(inbox, settle)


@task(name="file away", cache_policy=NO_CACHE)
def move_files(files: list[Path], summary: BatchSummary, inbox: Path,
               workspace: Workspace) -> list[Filed]:
    return file_away(files, summary, inbox, workspace)


@flow(name="watch_inbox")
def watch_inbox(inbox: Path, workspace: Workspace, settle: float = DEFAULT_SETTLE,
                settings: ReaderSettings | None = None,
                dask_address: str | None = None,
                max_pages: int = MAX_PAGES_PER_FILE) -> InboxPass:
    """One pass; the inbox is held for the whole pass so that two watchers never share a file."""
    folder = check(inbox, workspace)
    with inbox_lock(folder) as held:
        if not held:
            return InboxPass(busy=True)
        files = find_settled(folder, settle)
        if not files:
            return InboxPass()
        # The subflow gets objects this flow has typed already. Validating them again fails in
        # a served run's process, where Prefect cannot resolve ingest_batch's annotations.
        summary = ingest_flow(dask_address, validate_parameters=False)(files, workspace, settings,
                                                                      max_pages)
        return InboxPass(summary, tuple(move_files(files, summary, folder, workspace)))


def watch_loop(inbox: Path, workspace: Workspace, interval: float, settle: float,
               settings: ReaderSettings | None, once: bool,
               report: Callable[[InboxPass], None], dask_address: str | None = None,
               max_pages: int = MAX_PAGES_PER_FILE) -> None:
    """Run a pass every interval until interrupted (or once). Between drops no flow runs: a
    pass starts only when the inbox holds a file, so the UI is not filled with empty runs."""
    while True:
        if once or look(check_inbox(inbox, workspace)):
            report(watch_inbox(inbox, workspace, settle, settings, dask_address, max_pages))
        if once:
            return
        time.sleep(interval)


def serve_arguments(inbox: Path, workspace: Workspace, interval: float, settle: float,
                    settings: ReaderSettings | None,
                    dask_address: str | None = None,
                    max_pages: int = MAX_PAGES_PER_FILE) -> dict[str, Any]:
    """What `papertwin watch --serve` gives Prefect: one run at a time, on an interval."""
    parameters: dict[str, Any] = {"inbox": str(inbox), "workspace": {"root": str(workspace.root)},
                                  "settle": settle, "max_pages": max_pages}
    if dask_address:
        parameters["dask_address"] = dask_address
    if settings is not None:
        parameters["settings"] = {
            "dpi": settings.dpi, "review_below": settings.review_below,
            "ocr_timeout": settings.ocr_timeout, "audit_share": settings.audit_share,
            "user_words": list(settings.user_words)}
    return {"name": f"watch-{shown(inbox.name) or 'inbox'}", "interval": interval,
            "parameters": parameters, "limit": 1,
            # Runs import the flow as flows.watch (installed with papertwin), whatever the
            # folder the server was started from, and resolve its annotations there.
            "entrypoint_type": EntrypointType.MODULE_PATH,
            "description": f"ingests the scan files dropped into {markdown_code(str(inbox))}"}


def serve_inbox(inbox: Path, workspace: Workspace, interval: float, settle: float,
                settings: ReaderSettings | None, dask_address: str | None = None,
                max_pages: int = MAX_PAGES_PER_FILE) -> None:
    """Serve the watcher as a deployment: Prefect's scheduler starts a pass every interval.
    Only a Prefect server schedules runs: the temporary one of a single command does not."""
    if not PREFECT_API_URL.value():
        raise UsageError(
            "--serve needs a Prefect server to schedule the passes: start one with `prefect "
            "server start` and point papertwin at it with `prefect config set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api` (or run without --serve)")
    watch_inbox.serve(**serve_arguments(inbox, workspace, interval, settle, settings,
                                        dask_address, max_pages))
