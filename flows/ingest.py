"""ingest_batch: scan files in, page results in the store, a summary out."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.batch import (
    BatchPlan,
    BatchSummary,
    FileReading,
    PageChunk,
    join_chunks,
    plan_batch,
    read_chunk,
    store_reading,
    summarise_batch,
)
from pipeline.forms.manifest import Layout
from pipeline.read.page import ReaderSettings
from pipeline.workspace import Workspace

READ_WORKERS = 2


@task(name="plan batch", cache_policy=NO_CACHE)
def plan(paths: list[Path], workspace: Workspace) -> BatchPlan:
    return plan_batch(paths, workspace)


@task(name="read pages", cache_policy=NO_CACHE)
def read(chunk: PageChunk, layouts: dict[str, Layout], settings: ReaderSettings) -> FileReading:
    return read_chunk(chunk, layouts, settings)


@task(name="store results", cache_policy=NO_CACHE)
def store(reading: FileReading, batch_id: int, workspace: Workspace) -> FileReading:
    return store_reading(reading, batch_id, workspace)


@task(name="summarise batch", cache_policy=NO_CACHE)
def summarise(batch: BatchPlan, readings: list[FileReading], workspace: Workspace) -> BatchSummary:
    return summarise_batch(batch, readings, workspace)


@flow(name="ingest_batch",
      task_runner=ThreadPoolTaskRunner(max_workers=READ_WORKERS))  # type: ignore[arg-type]
def ingest_batch(paths: list[Path], workspace: Workspace,
                 settings: ReaderSettings | None = None) -> BatchSummary:
    """Pages are read in chunks in parallel; the flow alone writes, one file at a time."""
    settings = settings or ReaderSettings()
    batch = plan(paths, workspace)
    futures = read.map(batch.chunks, unmapped(batch.layouts), unmapped(settings))
    chunks = zip(batch.chunks, futures, strict=True)
    stored = [
        store(join_chunks([future.result() for _, future in group]), batch.batch_id, workspace)
        for _, group in groupby(chunks, key=lambda pair: pair[0].archived.sha256)
    ]
    return summarise(batch, stored, workspace)
