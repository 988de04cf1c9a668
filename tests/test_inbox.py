"""The watched inbox: growing files wait, each file is moved only once stored, nothing is read
twice, bad files go to quarantine/ with their reason, and the inbox never holds papertwin's
own output."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.cli import main
from flows.watch import serve_arguments, serve_inbox, watch_inbox
from pipeline.dataset.export import export_dataset
from pipeline.errors import ExitCode, UsageError
from pipeline.forms.build import BuiltForm
from pipeline.ingest.inbox import check_inbox, settled_files
from pipeline.read.page import ReaderSettings
from pipeline.registry import register_layout
from pipeline.simulate.returns import SimulatedBatch
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import PROJECT

SETTLE = 0.5


def _workspace(tmp_path: Path, built: tuple[Workspace, BuiltForm]) -> Workspace:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    register_layout(workspace, built[1].layout)
    return workspace


def _age(path: Path, seconds: float = 60.0) -> None:
    """As if the file had been written a while ago (a copy that finished before the pass)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def _dataset(workspace: Workspace, out: Path) -> pd.DataFrame:
    export_dataset(workspace, out)
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def _store_pages(workspace: Workspace) -> list[dict[str, object]]:
    store = Store.open(workspace.store_url)
    try:
        return store.page_outcomes()
    finally:
        store.close()


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


class SlowCopy:
    """A copy into the inbox that has written half the file and goes on a byte at a time until
    told to hurry: the file keeps growing for as long as a pass may take."""

    def __init__(self, data: bytes, target: Path, keep_old_time: bool = False) -> None:
        self.data, self.target, self.keep_old_time = data, target, keep_old_time
        self.hurry = threading.Event()
        self.half = len(data) // 2
        target.write_bytes(data[: self.half])
        self.thread = threading.Thread(target=self._write)
        self.thread.start()

    def _write(self) -> None:
        written = self.half
        with self.target.open("ab") as handle:
            while written < len(self.data) and not self.hurry.wait(0.05):
                handle.write(self.data[written: written + 1])
                handle.flush()
                written += 1
                if self.keep_old_time:
                    _age(self.target)
            handle.write(self.data[written:])
        if self.keep_old_time:
            _age(self.target)

    def finish(self) -> None:
        self.hurry.set()
        self.thread.join()


def test_a_growing_file_is_read_only_once_it_has_stopped_growing(
    prefect_harness: None, tmp_path: Path, built: tuple[Workspace, BuiltForm],
    simulated: SimulatedBatch,
) -> None:
    workspace = _workspace(tmp_path, built)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = simulated.pdf_path.read_bytes()
    copy = SlowCopy(data, inbox / "returns.pdf")
    try:
        result = watch_inbox(inbox, workspace, SETTLE)
        assert result.summary is None and result.filed == ()
        assert _listing(inbox) == ["returns.pdf"]
        assert _store_pages(workspace) == []
    finally:
        copy.finish()
    time.sleep(SETTLE)
    result = watch_inbox(inbox, workspace, SETTLE)
    assert result.summary is not None and result.summary.files_read == 1
    assert [(f.name, f.folder, f.path, f.reason_file) for f in result.filed] == [
        ("returns.pdf", "processed", inbox / "processed" / "returns.pdf", None)]
    assert _listing(inbox) == ["processed"]
    assert _listing(inbox / "processed") == ["returns.pdf"]
    assert (inbox / "processed" / "returns.pdf").read_bytes() == data
    frame = _dataset(workspace, tmp_path / "dataset.csv")
    assert sorted(frame["respondent_ref"]) == [c.serial for c in built[1].layout.copies]


def test_a_file_still_growing_between_the_two_looks_is_not_settled(tmp_path: Path) -> None:
    """A copying tool that keeps the original's old time stamp: only the second look sees the
    file grow."""
    done = tmp_path / "done.pdf"
    done.write_bytes(b"%PDF-1.4\n")
    _age(done)
    copy = SlowCopy(b"%PDF-1.4\n" + b"\x00" * 4000, tmp_path / "scan.pdf", keep_old_time=True)
    try:
        _age(copy.target)
        assert settled_files(tmp_path, SETTLE) == [done]
    finally:
        copy.finish()
    assert settled_files(tmp_path, SETTLE) == [done, copy.target]


def test_a_scan_dropped_again_is_not_read_again(
    prefect_harness: None, tmp_path: Path, built: tuple[Workspace, BuiltForm],
    simulated: SimulatedBatch,
) -> None:
    workspace = _workspace(tmp_path, built)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    data = simulated.pdf_path.read_bytes()
    (inbox / "returns.pdf").write_bytes(data)
    _age(inbox / "returns.pdf")
    first = watch_inbox(inbox, workspace, SETTLE)
    assert first.summary is not None
    batch = first.summary.batch_id
    pages = _store_pages(workspace)
    assert len(pages) == 12
    dataset = _dataset(workspace, tmp_path / "first.csv")
    assert len(dataset) == 6

    # The same scan again: under another name, and under the name already in processed/.
    for name in ("returns-again.pdf", "returns.pdf"):
        (inbox / name).write_bytes(data)
        _age(inbox / name)
    second = watch_inbox(inbox, workspace, SETTLE)
    assert second.summary is not None and second.summary.files_read == 0
    reason = f"already ingested in batch {batch} as returns.pdf: not read again"
    processed = inbox / "processed"
    assert [(f.name, f.folder, f.path, f.reason) for f in second.filed] == [
        ("returns-again.pdf", "processed", processed / "returns-again.pdf", reason),
        ("returns.pdf", "processed", processed / "returns-2.pdf", reason)]
    assert _listing(inbox) == ["processed"]
    assert _listing(processed) == ["returns-2.pdf", "returns-2.pdf.reason.txt",
                                   "returns-again.pdf", "returns-again.pdf.reason.txt",
                                   "returns.pdf"]
    text = (processed / "returns-2.pdf.reason.txt").read_text()
    assert text.splitlines()[0] == reason
    assert f"batch: {second.summary.batch_id}" in text.splitlines()
    assert (processed / "returns.pdf").read_bytes() == data  # the first one is not overwritten
    assert _store_pages(workspace) == pages
    assert _dataset(workspace, tmp_path / "second.csv").equals(dataset)


def test_corrupt_files_go_to_quarantine_with_their_reason(
    prefect_harness: None, tmp_path: Path, built: tuple[Workspace, BuiltForm],
    simulated: SimulatedBatch,
) -> None:
    workspace = _workspace(tmp_path, built)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    truncated = simulated.pdf_path.read_bytes()[:2000]
    (inbox / "truncated.pdf").write_bytes(truncated)
    (inbox / "letter.txt").write_text("Dear council, my form is enclosed.")
    (inbox / ".scan.pdf").write_bytes(b"%PDF")  # hidden: a scanner's file in the making
    (inbox / "next.pdf.part").write_bytes(b"%PDF")  # a copy in progress
    for path in inbox.iterdir():
        _age(path)
    result = watch_inbox(inbox, workspace, SETTLE)
    quarantine = inbox / "quarantine"
    letter_reason = (f"{inbox / 'letter.txt'} is not a PDF, TIFF, PNG or JPEG file: check what "
                     "was scanned")
    truncated_reason = (f"{inbox / 'truncated.pdf'} is not a readable PDF (root of pages tree "
                        "has no /Kids array): check the file or rescan it")
    assert [(f.name, f.folder, f.reason) for f in result.filed] == [
        ("letter.txt", "quarantine", letter_reason),
        ("truncated.pdf", "quarantine", truncated_reason)]
    assert _listing(inbox) == ["next.pdf.part", "quarantine"]
    assert (inbox / ".scan.pdf").exists()
    assert _listing(quarantine) == ["letter.txt", "letter.txt.reason.txt", "truncated.pdf",
                                    "truncated.pdf.reason.txt"]
    assert (quarantine / "truncated.pdf").read_bytes() == truncated
    assert (quarantine / "truncated.pdf.reason.txt").read_text().splitlines()[0] \
        == truncated_reason
    assert (quarantine / "letter.txt.reason.txt").read_text().splitlines()[0] == letter_reason
    assert result.summary is not None
    first_batch = result.summary.batch_id

    # Dropped again: not read again, and the first copy in quarantine/ stays as it was.
    (inbox / "truncated.pdf").write_bytes(truncated)
    _age(inbox / "truncated.pdf")
    again = watch_inbox(inbox, workspace, SETTLE)
    assert [(f.name, f.path) for f in again.filed] == [
        ("truncated.pdf", quarantine / "truncated-2.pdf")]
    assert (quarantine / "truncated-2.pdf.reason.txt").read_text().splitlines()[0] == (
        f"already set aside in batch {first_batch} as truncated.pdf: {truncated_reason}")
    assert _store_pages(workspace) == []


def test_output_folders_inside_the_inbox_are_refused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    inside = Workspace.resolve(inbox / "ws")
    with pytest.raises(UsageError) as refused:
        check_inbox(inbox, inside)
    assert str(refused.value) == (
        f"the workspace {inbox / 'ws'} lies inside the inbox {inbox}: papertwin would read its "
        "own output; put the workspace outside the inbox (--workspace) or watch another folder")
    assert refused.value.exit_code == ExitCode.USAGE

    with pytest.raises(UsageError, match=r"the workspace .* lies inside the inbox"):
        check_inbox(tmp_path, Workspace.resolve(tmp_path))  # the inbox is the workspace

    workspace = Workspace.resolve(tmp_path / "ws")
    archive_inbox = workspace.archive_dir / "drop"
    archive_inbox.mkdir(parents=True)
    with pytest.raises(UsageError) as refused:
        check_inbox(archive_inbox, workspace)
    assert str(refused.value) == (
        f"the inbox {archive_inbox} lies inside the workspace's archive {workspace.archive_dir}:"
        " papertwin writes there itself; watch a folder of its own")

    monkeypatch.setenv("PAPERTWIN_STORE_URL", f"sqlite:///{inbox / 'store.sqlite'}")
    store_file = inbox / "store.sqlite"
    with pytest.raises(UsageError, match=re.escape(f"the store file {store_file} lies inside")):
        check_inbox(inbox, workspace)
    monkeypatch.delenv("PAPERTWIN_STORE_URL")

    (inbox / "quarantine").write_text("not a folder")
    with pytest.raises(UsageError, match="quarantine is not a folder"):
        check_inbox(inbox, workspace)
    (inbox / "quarantine").unlink()

    # An inbox inside the workspace folder itself (but not in its archive) is fine.
    own = workspace.root / "inbox"
    own.mkdir()
    assert check_inbox(own, workspace) == own
    assert check_inbox(inbox, workspace) == inbox


def test_watch_once_on_the_command_line(
    prefect_harness: None, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
) -> None:
    workspace = _workspace(tmp_path, built)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "monday.pdf").write_bytes(simulated.pdf_path.read_bytes())
    (inbox / "empty.pdf").write_bytes(b"")
    for path in inbox.iterdir():
        _age(path)
    code = main(["--workspace", str(workspace.root), "watch", str(inbox), "--once",
                 "--settle", str(SETTLE)])
    out, err = capsys.readouterr()
    assert code == ExitCode.FILES_SET_ASIDE, err
    assert "pages: 12 (12 identified)" in out
    lines = out.splitlines()
    assert "  monday.pdf: read in batch 1; moved to processed/monday.pdf" in lines
    assert (f"  empty.pdf: {inbox / 'empty.pdf'} is empty (0 bytes): rescan it; moved to "
            "quarantine/empty.pdf") in lines
    assert _listing(inbox) == ["processed", "quarantine"]
    assert _listing(inbox / "processed") == ["monday.pdf"]
    assert len(_dataset(workspace, tmp_path / "d.csv")) == 6

    code = main(["--workspace", str(inbox / "ws"), "watch", str(inbox), "--once"])
    assert code == ExitCode.USAGE
    assert capsys.readouterr().err.startswith(f"papertwin: the workspace {inbox / 'ws'} lies "
                                              f"inside the inbox {inbox}")


def test_ctrl_c_stops_the_watch_loop_with_130(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {**os.environ, "PAPERTWIN_HOME": str(tmp_path / "ws")}
    env.pop("PAPERTWIN_STORE_URL", None)
    # A suite started in the background has SIGINT ignored, and a child inherits that: the
    # watcher gets Ctrl-C's default, as it has at a terminal.
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "watch", str(inbox), "--interval", "0.2"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith(f"watching {inbox} every 0.2 s")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == ExitCode.INTERRUPTED, err
    assert out == f"stopped watching {inbox}: 0 files to processed/, 0 to quarantine/\n"


def test_serve_builds_a_deployment_of_the_same_flow(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws")
    settings = ReaderSettings(review_below=0.6, user_words=("Millbrook",))
    arguments = serve_arguments(tmp_path / "inbox", workspace, 30.0, 2.0, settings,
                                max_pages=300)
    assert arguments["name"] == "watch-inbox"
    assert arguments["interval"] == 30.0
    assert arguments["limit"] == 1  # passes never overlap
    parameters = watch_inbox.validate_parameters(arguments["parameters"])
    assert parameters == {"inbox": tmp_path / "inbox", "workspace": workspace, "settle": 2.0,
                          "settings": settings, "dask_address": None, "max_pages": 300}
    on_dask = serve_arguments(tmp_path / "inbox", workspace, 30.0, 2.0, settings,
                              "tcp://10.0.0.5:8786")
    assert watch_inbox.validate_parameters(on_dask["parameters"])["dask_address"] == \
        "tcp://10.0.0.5:8786"

    # Only a Prefect server schedules runs: without one, --serve says how to start it.
    with temporary_settings(restore_defaults={PREFECT_API_URL}), \
            pytest.raises(UsageError, match="--serve needs a Prefect server"):
        serve_inbox(tmp_path / "inbox", workspace, 30.0, 2.0, settings)
