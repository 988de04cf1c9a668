"""The flows an analyst runs besides ingest: printing forms, reconciling, exporting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import flows.export
import flows.reconcile
from flows.export import export_dataset
from flows.forms import generate_forms
from flows.ingest import ingest_batch
from flows.reconcile import reconcile_and_export
from pipeline.dataset.export import ExportOptions
from pipeline.forms.build import BuiltForm
from pipeline.read.page import ReaderSettings
from pipeline.registry import register_layout, registered_layouts
from pipeline.simulate.returns import simulate_returns
from pipeline.workspace import Workspace

from .conftest import ONLINE_EXPORT, TEMPLATE


def test_forms_then_ingest_then_reconcile_and_export_as_flows(prefect_harness: None,
                                                             tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws")
    built = generate_forms(TEMPLATE, tmp_path / "form", workspace, copies=3)
    assert [c.serial for c in built.layout.copies] == ["000001", "000002", "000003"]
    assert built.pdf_path.is_file() and built.layout.form_key in registered_layouts(workspace)

    scans = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=4)
    summary = ingest_batch([scans.pdf_path], workspace, ReaderSettings())
    assert summary.outcomes == {"identified": 6}

    out = tmp_path / "dataset.parquet"
    exported = reconcile_and_export(ONLINE_EXPORT, workspace, out, "parquet",
                                    export_options=ExportOptions(split_multiple=True))
    frame = pd.read_parquet(out)
    assert exported.by_channel == {"paper": 3, "online": 6}
    assert list(frame["channel"]) == ["paper"] * 3 + ["online"] * 6
    assert list(frame["respondent_ref"][:3]) == ["000001", "000002", "000003"]
    assert "services/books" in frame.columns
    assert (tmp_path / "dataset.codebook.csv").is_file()


def test_the_export_flow_writes_what_reconcile_and_export_writes(
    prefect_harness: None, tmp_path: Path, built: tuple[Workspace, BuiltForm],
) -> None:
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws")
    register_layout(workspace, form.layout)
    reconciled = reconcile_and_export(ONLINE_EXPORT, workspace, tmp_path / "after.csv")
    exported = export_dataset(workspace, tmp_path / "alone.csv")
    assert exported.by_channel == reconciled.by_channel == {"online": 6}
    assert (tmp_path / "alone.csv").read_bytes() == (tmp_path / "after.csv").read_bytes()
    assert [p.name for p in exported.written] == ["alone.csv", "alone.codebook.csv",
                                                  "alone.summary.csv", "alone.codebook.md"]
    # One task writes the dataset, whichever flow runs it.
    assert flows.reconcile.write_dataset is flows.export.write_dataset
