"""The ingest flow as analysts run it: retries of what may pass, none of a bad file, a rerun
after a crash that reads nothing again, and the artifacts a batch leaves in Prefect."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import cv2
import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import TaskRun
from prefect.states import Completed, Failed
from sqlalchemy.exc import OperationalError

from flows.ingest import ingest_batch, worth_retrying
from pipeline.dataset.export import export_dataset
from pipeline.errors import InputFileError, ProgramFailedError, ProgramTimeoutError
from pipeline.forms.build import BuiltForm
from pipeline.ingest.batch import (
    BatchSummary,
    chunk_cache_path,
    plan_batch,
    read_chunk_cached,
)
from pipeline.programs.poppler import rasterise_page
from pipeline.read.page import ReaderSettings
from pipeline.registry import register_layout
from pipeline.simulate.returns import SimulatedBatch
from pipeline.workspace import Workspace

# A pdftoppm that crashes on its first FAILS calls and is the real one after: a transient fault.
FLAKY_PDFTOPPM = """#!/bin/sh
count_file="{count}"
n=$(cat "$count_file" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$count_file"
if [ "$n" -le {fails} ]; then echo "Segmentation fault (core dumped)" >&2; exit 139; fi
exec "{real}" "$@"
"""


def _run(paths: list[Path], workspace: Workspace) -> tuple[BatchSummary, UUID]:
    state = ingest_batch(paths, workspace, return_state=True)
    summary = state.result()
    assert isinstance(summary, BatchSummary)
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    return summary, flow_run_id


async def _task_runs(flow_run_id: UUID) -> list[TaskRun]:
    async with get_client() as client:
        return await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


async def _artifacts(flow_run_id: UUID) -> dict[str, Any]:
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {artifact.type or "": artifact for artifact in found}


def _workspace(root: Path, form: BuiltForm) -> Workspace:
    workspace = Workspace.resolve(root / "ws").ensure()
    register_layout(workspace, form.layout)
    return workspace


def _lose_the_store(workspace: Workspace, form: BuiltForm) -> None:
    """The store as it was before any batch: the form registered (the register is the store's
    since revision 0009), nothing read."""
    workspace.store_path.unlink()
    register_layout(workspace, form.layout)


def flaky_pdftoppm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: int) -> Path:
    """Put a pdftoppm first on PATH that crashes on its first `fails` calls; returns the file
    that counts its calls."""
    real = shutil.which("pdftoppm")
    assert real is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    count = tmp_path / "pdftoppm-calls"
    fake = bin_dir / "pdftoppm"
    fake.write_text(FLAKY_PDFTOPPM.format(count=count, fails=fails, real=real))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return count


@pytest.mark.parametrize(("exc", "expected"), [
    (ProgramFailedError("tesseract failed: Segmentation fault"), True),
    (ProgramTimeoutError("pdftoppm timed out after 60 s"), True),
    (OperationalError("INSERT", {}, Exception("database is locked")), True),
    (OperationalError("SELECT", {}, Exception("no such table: pages")), False),
    (InputFileError("returns.pdf is not a readable PDF"), False),
    (ValueError("a bug"), False),
])
def test_only_what_may_pass_is_retried(exc: Exception, expected: bool) -> None:
    assert worth_retrying(None, None, Failed(data=exc)) is expected  # type: ignore[arg-type]
    assert worth_retrying(None, None, Completed(data=1)) is False  # type: ignore[arg-type]


def test_a_crashed_program_is_retried_and_a_corrupt_file_is_not(
    prefect_harness: None, built: tuple[Workspace, BuiltForm], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, form = built
    workspace = _workspace(tmp_path, form)
    # A PNG cut short: its header opens, its pixels do not decode.
    whole = tmp_path / "page.png"
    cv2.imwrite(str(whole), rasterise_page(form.pdf_path, 1, 100))
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    count = flaky_pdftoppm(tmp_path, monkeypatch, fails=1)

    # The printed form's pages are drawn, not scanned images: each is rendered by pdftoppm.
    summary, flow_run_id = _run([form.pdf_path, truncated], workspace)

    assert summary.outcomes == {"identified": 12}
    assert [Path(item.path).name for item in summary.set_aside] == ["truncated.png"]
    reads = {run.name: run for run in asyncio.run(_task_runs(flow_run_id))
             if run.name.startswith("read pages")}
    assert len(reads) == 2
    runs = sorted((run.run_count, run.state_type.value if run.state_type else "")
                  for run in reads.values())
    # The form's chunk crashed once and passed on its retry; the truncated file ran once.
    assert runs == [(1, "COMPLETED"), (2, "COMPLETED")]
    assert int(count.read_text()) == 12 + 1


def test_a_rerun_after_a_crash_reads_no_page_again_and_the_batch_leaves_artifacts(
    prefect_harness: None, built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
    tmp_path: Path,
) -> None:
    _, form = built
    workspace = _workspace(tmp_path, form)
    first, flow_run_id = _run([simulated.pdf_path], workspace)
    assert (first.outcomes, first.pages_from_cache) == ({"identified": 12}, 0)
    export_dataset(workspace, tmp_path / "first.csv")

    artifacts = asyncio.run(_artifacts(flow_run_id))
    assert set(artifacts) == {"table", "markdown", "progress"}
    assert artifacts["progress"].data == 100.0
    assert json.loads(artifacts["table"].data) == [{"outcome": "identified", "pages": 12}]
    markdown = artifacts["markdown"].data
    assert f"# Batch {first.batch_id}" in markdown
    assert "- files read: 1; already ingested: 0; set aside: 0" in markdown
    assert f"- answers read: {first.answers}; flagged for review: {first.flagged}" in markdown
    assert "review queue" in markdown

    # The process died after reading, before the results were committed: a store with the form
    # registered and nothing read.
    _lose_the_store(workspace, form)
    again, _ = _run([simulated.pdf_path], workspace)
    assert (again.outcomes, again.pages_from_cache) == ({"identified": 12}, 12)
    export_dataset(workspace, tmp_path / "again.csv")
    datasets = [pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)
                .drop(columns="submitted_at") for name in ("first.csv", "again.csv")]
    pd.testing.assert_frame_equal(datasets[0], datasets[1])

    # Other reader settings are other results: the pages are read again.
    _lose_the_store(workspace, form)
    other = ingest_batch([simulated.pdf_path], workspace, ReaderSettings(review_below=0.9))
    assert (other.outcomes, other.pages_from_cache) == ({"identified": 12}, 0)


@pytest.mark.slow
def test_a_program_that_keeps_crashing_sets_the_file_aside_for_a_later_batch(
    prefect_harness: None, built: tuple[Workspace, BuiltForm], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, form = built
    workspace = _workspace(tmp_path, form)
    flaky_pdftoppm(tmp_path, monkeypatch, fails=4)

    summary, flow_run_id = _run([form.pdf_path], workspace)  # 1 try and 3 retries, all crash

    assert summary.pages == ()
    [item] = summary.set_aside
    assert "pdftoppm failed" in item.reason and "try again later" in item.reason
    [read] = [run for run in asyncio.run(_task_runs(flow_run_id))
              if run.name.startswith("read pages")]
    assert (read.run_count, read.state_type.value if read.state_type else "") == (4, "FAILED")
    # Not a fault of the file: the next batch reads it, and now pdftoppm works.
    again, _ = _run([form.pdf_path], workspace)
    assert again.outcomes == {"identified": 12} and again.set_aside == ()


# A pdftoppm that, on its first call, has another process lock the store for longer than the
# store waits (10 s), then renders as the real one does.
LOCKING_PDFTOPPM = """#!/bin/sh
if [ ! -e "{flag}" ]; then
  touch "{flag}"
  "{python}" -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(14)
c.execute("COMMIT")' "{store}" "{locked}" </dev/null >/dev/null 2>&1 &
  while [ ! -e "{locked}" ]; do sleep 0.05; done
fi
exec "{real}" "$@"
"""


@pytest.mark.slow
def test_a_store_locked_by_another_process_is_written_on_a_retry(
    prefect_harness: None, built: tuple[Workspace, BuiltForm], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, form = built
    workspace = _workspace(tmp_path, form)
    monkeypatch.delenv("PAPERTWIN_STORE_URL", raising=False)
    real = shutil.which("pdftoppm")
    assert real is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pdftoppm"
    fake.write_text(LOCKING_PDFTOPPM.format(
        flag=tmp_path / "started", locked=tmp_path / "locked", python=sys.executable,
        store=workspace.store_path, real=real))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    summary, flow_run_id = _run([form.pdf_path], workspace)

    assert summary.outcomes == {"identified": 12} and summary.set_aside == ()
    [stored] = [run for run in asyncio.run(_task_runs(flow_run_id))
                if run.name.startswith("store results")]
    assert stored.run_count == 2, "the store should have been locked on the first try"


def test_a_cached_chunk_written_by_an_earlier_papertwin_is_read_again(
    built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch, tmp_path: Path,
) -> None:
    """A crashed batch's cache may hold chunks pickled when FileReading lived in another module
    (pipeline.batch, before pipeline/ingest/): such an entry is read again, never an error."""
    _, form = built
    workspace = _workspace(tmp_path, form)
    settings = ReaderSettings()
    plan = plan_batch([simulated.pdf_path], workspace)
    chunk = plan.chunks[0]
    cached = chunk_cache_path(chunk, settings, workspace)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(b"cpipeline.batch\nFileReading\n)\x81.")  # a class that moved since

    again = read_chunk_cached(chunk, plan.layouts, settings, workspace)

    assert (again.error, again.pages_from_cache) == ("", 0)
    assert [page.outcome for page in again.pages] == ["identified"] * (chunk.last - chunk.first + 1)
    assert read_chunk_cached(chunk, plan.layouts, settings, workspace).pages_from_cache == \
        len(again.pages)  # and this reading took the old entry's place
