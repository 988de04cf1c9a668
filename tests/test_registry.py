"""The register of printed forms lives in the store (revision 0009): serials are never issued
twice, even by two builds at once, and a workspace that kept its register in files reads as
before and continues its serials after the last one it issued."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.forms.build import plan_run, print_copies
from pipeline.forms.manifest import read_layout
from pipeline.publish import build_forms
from pipeline.registry import (
    allocate_serials,
    load_registered_layout,
    register_layout,
    registered_layouts,
    serials_issued,
)
from pipeline.store.forms import registered_forms
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import TEMPLATE
from .ingesting import register_in_files


@pytest.fixture
def ws(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    return Workspace.resolve(tmp_path / "ws").ensure()


def test_builds_at_the_same_time_never_share_a_serial(ws: Workspace, tmp_path: Path) -> None:
    first = build_forms(TEMPLATE, 2, tmp_path / "first", ws)
    layout = first.layout
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: allocate_serials(ws, layout, 25), range(8)))
    issued = [serial for run in runs for serial in run]
    assert len(issued) == len(set(issued)) == 200
    assert sorted(issued) == [str(n).zfill(6) for n in range(3, 203)]
    assert serials_issued(ws, layout.form_key) == {str(n).zfill(6) for n in range(1, 203)}
    assert [c.serial for c in registered_layouts(ws)[layout.form_key].copies] == \
        [str(n).zfill(6) for n in range(1, 203)]


def test_an_older_workspace_s_files_read_as_before_and_move_in_on_the_next_write(
        ws: Workspace, tmp_path: Path) -> None:
    built = print_copies(plan_run(TEMPLATE, 3), ["000001", "000002", "000003"],
                         tmp_path / "form")
    register_in_files(ws, built.layout)  # 000001-000003 issued, kept in files
    geometry = replace(read_layout(built.layout_path), copies=())  # as printed, rounded
    with Store.open(ws.store_url) as store:
        assert registered_forms(store) == {}

    assert [c.serial for c in registered_layouts(ws)[built.layout.form_key].copies] == \
        ["000001", "000002", "000003"]
    assert load_registered_layout(ws, built.layout.form_key) == geometry

    assert allocate_serials(ws, built.layout, 2) == ["000004", "000005"]
    with Store.open(ws.store_url) as store:
        moved = registered_forms(store)[built.layout.form_key]
    assert (moved.serials, moved.layout) == (tuple(f"00000{n}" for n in range(1, 6)), geometry)


def test_registering_a_printed_layout_again_never_lowers_the_serials_issued(
        ws: Workspace, tmp_path: Path) -> None:
    built = build_forms(TEMPLATE, 4, tmp_path / "form", ws)
    register_layout(ws, replace(built.layout, copies=built.layout.copies[:1]))
    assert serials_issued(ws, built.layout.form_key) == {f"00000{n}" for n in range(1, 5)}
    assert serials_issued(ws, "no-such-form") is None
