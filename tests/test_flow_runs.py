"""Every verb that reads, writes or prints forms runs its flow: the flow runs Prefect records."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from flows.cli import main

from .conftest import ONLINE_EXPORT, PROJECT, TEMPLATE

BANDING = PROJECT.parent / "shared" / "real_scans" / "quexf" / "test_original.xml"


def _flow_runs() -> dict[str, str]:
    """Every flow run Prefect holds: its id, and its flow's name."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        names = {flow.id: flow.name for flow in client.read_flows(limit=200)}
        return {str(run.id): names[run.flow_id] for run in client.read_flow_runs(limit=200)
                if run.state is not None and run.state.is_completed()}


@pytest.mark.slow
def test_each_verb_runs_its_flow(prefect_harness: None, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    def papertwin(*argv: str | Path) -> None:
        code = main(["--workspace", str(tmp_path / "ws"), *map(str, argv)])
        assert code == 0, capsys.readouterr().err

    before = _flow_runs()
    expected = ["generate_forms", "preview_forms", "simulate_returns", "ingest_batch",
                "reconcile", "export_dataset"]
    papertwin("forms", "build", TEMPLATE, "--copies", "2", "--out", tmp_path / "form")
    papertwin("forms", "preview", TEMPLATE, "--out", tmp_path / "png", "--dpi", "30")
    if BANDING.is_file():  # the shared real scans, when they are beside this checkout
        papertwin("forms", "import", BANDING, "--out", tmp_path / "quexf")
        expected.append("import_form")
    papertwin("simulate", "--form", tmp_path / "form", "--out", tmp_path / "scans", "--seed", "3")
    papertwin("ingest", tmp_path / "scans" / "returns.pdf")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(tmp_path / "scans" / "returns.pdf", inbox / "again.pdf")
    time.sleep(0.2)
    papertwin("watch", inbox, "--once", "--settle", "0.1")  # its pass ingests as a subflow
    expected += ["watch_inbox", "ingest_batch"]
    papertwin("reconcile", "--digital", ONLINE_EXPORT, "--form", "library_services")
    papertwin("export", "--format", "csv", "--out", tmp_path / "dataset.csv", "--form",
              "library_services")
    runs = sorted(name for run, name in _flow_runs().items() if run not in before)
    assert runs == sorted(expected)
