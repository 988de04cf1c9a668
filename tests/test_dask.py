"""Scale-out: the ingest flow's page reading on a real Dask cluster of two worker processes
gives the same dataset as the local run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream

from flows.ingest import run_ingest
from pipeline.dataset.export import export_dataset
from pipeline.forms.build import BuiltForm
from pipeline.registry import register_layout
from pipeline.simulate.returns import SimulatedBatch
from pipeline.workspace import Workspace


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local:
        yield local


def _ingest_and_export(root: Path, form: BuiltForm, scans: Path,
                       dask_address: str | None) -> tuple[pd.DataFrame, int]:
    workspace = Workspace.resolve(root / "ws").ensure()
    register_layout(workspace, form.layout)
    summary = run_ingest([scans], workspace, dask_address=dask_address)
    assert summary.outcomes == {"identified": 12} and summary.set_aside == ()
    export_dataset(workspace, root / "dataset.csv")
    frame = pd.read_csv(root / "dataset.csv", dtype=str, keep_default_na=False)
    # When each page was stored is the only thing allowed to differ.
    return frame.drop(columns="submitted_at"), summary.pages_from_cache


def test_a_dask_run_gives_the_dataset_of_a_local_run(
    prefect_harness: None, cluster: LocalCluster, built: tuple[Workspace, BuiltForm],
    simulated: SimulatedBatch, tmp_path: Path,
) -> None:
    _, form = built
    local, _ = _ingest_and_export(tmp_path / "local", form, simulated.pdf_path, None)
    with Client(cluster) as client, get_task_stream(client) as stream:
        on_dask, cached = _ingest_and_export(tmp_path / "dask", form, simulated.pdf_path,
                                             cluster.scheduler_address)
    assert cached == 0  # a workspace of its own: every page read again, on the workers
    workers = {task["worker"] for task in stream.data}
    assert len(stream.data) == 1 and workers <= set(cluster.scheduler_info["workers"]), \
        "the one chunk of 12 pages was not read on the cluster's workers"
    assert len(local) == 6
    pd.testing.assert_frame_equal(on_dask, local)
