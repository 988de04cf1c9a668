"""ingest_batch: scan files in, page results in the store, a summary out.

Pages are read in chunks by a task runner: local threads, or the workers of an existing Dask
cluster (run_ingest's dask_address); the flow alone writes to the store, one file at a time.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import Flow, Task, flow, task, unmapped
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.errors import (
    NotWritableError,
    ProgramFailedError,
    StoreNotWritableError,
)
from pipeline.ingest.batch import (
    BatchPlan,
    BatchSummary,
    FileReading,
    PageChunk,
    chunk_not_read,
    join_chunks,
    plan_batch,
    read_chunk_cached,
    stop_batch_in,
    stop_unplanned_batch_in,
    store_reading,
    summarise_batch,
)
from pipeline.ingest.report import batch_markdown, outcome_rows
from pipeline.read.page import ReaderSettings
from pipeline.records import Layout
from pipeline.scan.intake import MAX_PAGES_PER_FILE
from pipeline.store.engine import is_store_locked
from pipeline.store.store import Store, now_iso
from pipeline.workspace import Workspace

READ_WORKERS = 2
# Seconds before each retry of a crashed program or a locked database.
RETRY_DELAYS: list[float] = [1, 5, 15]


def worth_retrying(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry what may pass on a second try (a program that crashed or timed out, a database
    briefly locked by another writer), never a bad file or a bug, which would fail again."""
    try:
        state.result()
    except ProgramFailedError:
        return True
    except Exception as exc:
        return is_store_locked(exc)
    return False


@task(name="plan batch", cache_policy=NO_CACHE)
def plan(paths: list[Path], workspace: Workspace, max_pages: int, store: Store) -> BatchPlan:
    return plan_batch(paths, workspace, max_pages, store)


@task(name="read pages", cache_policy=NO_CACHE, retries=len(RETRY_DELAYS),
      retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=worth_retrying)
def read(chunk: PageChunk, layouts: dict[str, Layout], settings: ReaderSettings,
         workspace: Workspace) -> FileReading:
    return read_chunk_cached(chunk, layouts, settings, workspace)


@task(name="store results", cache_policy=NO_CACHE, retries=len(RETRY_DELAYS),
      retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=worth_retrying)
def store(reading: FileReading, batch_id: int, workspace: Workspace,
          held: Store) -> FileReading:
    return store_reading(reading, batch_id, workspace, held)


@task(name="summarise batch", cache_policy=NO_CACHE)
def summarise(batch: BatchPlan, readings: list[FileReading], workspace: Workspace,
              held: Store) -> BatchSummary:
    return summarise_batch(batch, readings, workspace, held)


@flow(name="ingest_batch",
      task_runner=ThreadPoolTaskRunner(max_workers=READ_WORKERS))  # type: ignore[arg-type]
def ingest_batch(paths: list[Path], workspace: Workspace,
                 settings: ReaderSettings | None = None,
                 max_pages: int = MAX_PAGES_PER_FILE) -> BatchSummary:
    """Pages are read in chunks in parallel; the flow alone writes, one file at a time.

    Its caller checks the programs once before it starts (check_can_ingest, a watch pass)."""
    settings = settings or ReaderSettings()
    since = now_iso()
    with Store.open(workspace.store_url) as held:  # once for the whole batch
        try:
            batch = plan(paths, workspace, max_pages, held)
        except BaseException as exc:
            stop_unplanned_batch_in(workspace, paths, since, exc)
            raise
        try:
            return _read_and_store(batch, settings, workspace, held)
        except BaseException as exc:
            # Called directly, not as a task: it must run even while the flow is interrupted.
            stop_batch_in(workspace, batch.batch_id, exc, held)
            raise


def _read_and_store(batch: BatchPlan, settings: ReaderSettings, workspace: Workspace,
                    held: Store) -> BatchSummary:
    progress = create_progress_artifact(
        0.0, description=f"batch {batch.batch_id}: share of page chunks read and stored")
    if not isinstance(progress, UUID):  # a sync flow gets the id, never a coroutine
        raise TypeError(f"unexpected progress artifact id {progress!r}")
    futures = read.map(batch.chunks, unmapped(batch.layouts), unmapped(settings),
                       unmapped(workspace))
    chunks = list(zip(batch.chunks, futures, strict=True))
    stored: list[FileReading] = []
    done = 0
    for _, group in groupby(chunks, key=lambda pair: pair[0].archived.sha256):
        readings: list[FileReading] = []
        for chunk, future in group:
            readings.append(_reading_of(chunk, future))
            done += 1
            update_progress_artifact(progress, 100.0 * done / len(chunks))
        stored.append(store(join_chunks(readings, batch.layouts, settings), batch.batch_id,
                            workspace, held))
    update_progress_artifact(progress, 100.0)
    summary = summarise(batch, stored, workspace, held)
    create_table_artifact(outcome_rows(summary), key="ingest-pages-by-outcome",
                          description=f"batch {summary.batch_id}: pages by outcome")
    create_markdown_artifact(batch_markdown(summary), key="ingest-batch-summary",
                             description=f"batch {summary.batch_id}: summary")
    return summary


def _reading_of(chunk: PageChunk, future: PrefectFuture[FileReading]) -> FileReading:
    """The chunk's reading, or, when every try failed, its failure recorded against the file."""
    future.wait()
    if future.state.is_completed():
        return future.result()
    error = future.state.result(raise_on_failure=False)
    if isinstance(error, NotWritableError | StoreNotWritableError):
        raise error  # the workspace, not the file: every later chunk would fail the same way
    return chunk_not_read(chunk, error if isinstance(error, BaseException)
                          else RuntimeError(str(error)))


def run_ingest(paths: list[Path], workspace: Workspace, settings: ReaderSettings | None = None,
               dask_address: str | None = None,
               max_pages: int = MAX_PAGES_PER_FILE) -> BatchSummary:
    """The ingest flow, its page reading on the Dask cluster at dask_address when one is given
    (every worker needs papertwin, tesseract and the workspace's archive at the same path)."""
    return ingest_flow(dask_address)(paths, workspace, settings, max_pages)


def ingest_flow(dask_address: str | None = None,
                validate_parameters: bool = True) -> Flow[..., BatchSummary]:
    """ingest_batch as it runs: its page reading on the Dask cluster at dask_address if given."""
    if not dask_address:
        return ingest_batch.with_options(validate_parameters=validate_parameters)
    from prefect_dask.task_runners import DaskTaskRunner

    return ingest_batch.with_options(task_runner=DaskTaskRunner(address=dask_address),  # type: ignore[arg-type]
                                     validate_parameters=validate_parameters)
