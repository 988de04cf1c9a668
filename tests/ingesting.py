"""The ingest flow's steps without Prefect, for tests that need a store filled by the real reader
but not the flow around it (the flow has tests of its own)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import groupby
from pathlib import Path

from pipeline.forms.manifest import write_layout
from pipeline.ingest.batch import (
    FileReading,
    PageChunk,
    join_chunks,
    plan_batch,
    store_reading,
    summarise_batch,
)
from pipeline.read.page import ReaderSettings
from pipeline.records import Layout
from pipeline.workspace import Workspace

ReadChunk = Callable[[PageChunk, dict[str, Layout]], FileReading]


def ingest_without_flow(paths: Sequence[Path], workspace: Workspace,
                        read: ReadChunk) -> list[str]:
    """Plan, read (each chunk by `read`), store and summarise one batch; the outcome of every
    page read."""
    plan = plan_batch(list(paths), workspace)
    stored = []
    for _, group in groupby(plan.chunks, key=lambda chunk: chunk.archived.sha256):
        readings = [read(chunk, plan.layouts) for chunk in group]
        stored.append(store_reading(join_chunks(readings, plan.layouts, ReaderSettings()),
                                    plan.batch_id, workspace))
    return [line.outcome for line in summarise_batch(plan, stored, workspace).pages]


def register_in_files(workspace: Workspace, layout: Layout) -> None:
    """Register a form as papertwin did before its register moved into the store (revision
    0009): its geometry in layouts/<form key>.json, the serials issued in a file beside it."""
    workspace.layouts_dir.mkdir(parents=True, exist_ok=True)
    write_layout(replace(layout, copies=()), workspace.layouts_dir / f"{layout.form_key}.json")
    issued = max((int(c.serial) for c in layout.copies if c.serial.isdigit()), default=0)
    (workspace.layouts_dir / f"{layout.form_key}.serials.json").write_text(
        json.dumps({"issued": issued}), encoding="utf-8")
