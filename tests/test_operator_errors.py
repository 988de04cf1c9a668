"""An operator's bad day: a read-only or full workspace, a store that takes no writes, Prefect's
server slow to start or killed with papertwin, an absurdly long scan file. Each ends in one line
and its own exit code, never a traceback, and leaves nothing running.

A read-only folder is made the way it happens in the mailroom: a read-only mount (as root, in a
mount namespace of the command's own, so nothing else sees it), or, for a developer who is not
root, by taking away the write permission (root ignores permissions, a read-only mount it cannot).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pikepdf
import pytest
from sqlalchemy import select

from pipeline.errors import ExitCode
from pipeline.forms.build import BuiltForm
from pipeline.ingest.batch import plan_batch, read_chunk, stop_unplanned_batch_in
from pipeline.read.page import ReaderSettings
from pipeline.registry import register_layout
from pipeline.review.queue import batch_overview
from pipeline.simulate.returns import SimulatedBatch
from pipeline.store import schema
from pipeline.store.store import Store, now_iso
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow

from .conftest import PROJECT

IS_ROOT = os.geteuid() == 0
READ_ONLY_MOUNT = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
SMALL_DISK = 'mount -t tmpfs -o size=1m papertwin-full "$0" && exec "$@"'


def _namespaces_work() -> bool:
    if not IS_ROOT or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt && true"],
                           capture_output=True, check=False, timeout=30)
    return probe.returncode == 0


NAMESPACES = _namespaces_work()


def papertwin(*argv: str, workspace: Workspace, env: dict[str, str] | None = None,
              prefix: Sequence[str] = (), timeout: float = 300) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("PAPERTWIN_STORE_URL", "PREFECT_API_URL")}
    environment.update(env or {})
    return subprocess.run([*prefix, sys.executable, "-m", "flows.cli", "--workspace",
                           str(workspace.root), *argv], cwd=PROJECT, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)


@contextmanager
def read_only(path: Path) -> Iterator[list[str]]:
    """A command prefix under which `path` is read-only (root: a read-only mount), or, for a
    developer who is not root, `path` made read-only for the duration."""
    if NAMESPACES:
        yield ["unshare", "-m", "sh", "-c", READ_ONLY_MOUNT, str(path)]
        return
    if IS_ROOT:
        pytest.skip("as root, a read-only folder needs a mount namespace, which this machine "
                    "does not allow (unshare -m)")
    modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
    for p, mode in modes.items():
        p.chmod(mode & ~0o222)
    try:
        yield []
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


@pytest.fixture
def ingested(built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
             tmp_path: Path) -> Workspace:
    """A workspace with the built form and one batch of its returns read into the store."""
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    register_layout(workspace, form.layout)
    settings = ReaderSettings()
    outcomes = ingest_without_flow([simulated.pdf_path], workspace,
                                   lambda chunk, layouts: read_chunk(chunk, layouts, settings))
    assert set(outcomes) == {"identified"}
    return workspace


def batches(workspace: Workspace) -> list[tuple[str | None, str | None]]:
    store = Store.open(workspace.store_url)
    try:
        with store.engine.connect() as conn:
            b = schema.batches
            return [(r.ended, r.stop_reason)
                    for r in conn.execute(select(b.c.ended, b.c.stop_reason).order_by(b.c.id))]
    finally:
        store.close()


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line of a failed command (nothing on stdout, no traceback)."""
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("papertwin: ")
    return lines[0]


# -- a read-only or full workspace ---------------------------------------------------------------

def test_a_read_only_workspace_stops_ingest_and_watch_in_one_line_and_export_still_works(
        ingested: Workspace, simulated: SimulatedBatch, tmp_path: Path) -> None:
    writable = papertwin("export", "--out", str(tmp_path / "before.csv"), workspace=ingested)
    assert writable.returncode == 0, writable.stderr
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(simulated.pdf_path, inbox / "more.pdf")
    with read_only(ingested.root) as prefix:
        ingest = papertwin("ingest", str(simulated.pdf_path), workspace=ingested, prefix=prefix)
        watch = papertwin("watch", str(inbox), "--once", workspace=ingested, prefix=prefix)
        export = papertwin("export", "--out", str(tmp_path / "after.csv"), workspace=ingested,
                           prefix=prefix)
    for result in (ingest, watch):
        assert result.returncode == ExitCode.NOT_WRITABLE == 9
        line = one_line(result)
        assert line.startswith(f"papertwin: cannot write {ingested.root}")
        assert line.endswith("make it writable, then run the command again")
    assert (inbox / "more.pdf").is_file()  # nothing was moved
    assert export.returncode == 0, export.stderr
    assert pd.read_csv(tmp_path / "after.csv", dtype=str).equals(
        pd.read_csv(tmp_path / "before.csv", dtype=str))
    assert len(batches(ingested)) == 1  # no batch was begun


@pytest.mark.parametrize("folder", ["archive", "crops"])
def test_a_read_only_archive_or_crops_folder_is_named(
        folder: str, ingested: Workspace, simulated: SimulatedBatch) -> None:
    with read_only(ingested.root / folder) as prefix:
        result = papertwin("ingest", str(simulated.pdf_path), workspace=ingested, prefix=prefix)
    assert result.returncode == ExitCode.NOT_WRITABLE
    assert one_line(result).startswith(f"papertwin: cannot write {ingested.root / folder}: ")
    assert len(batches(ingested)) == 1


def test_a_read_only_store_stops_ingest_and_is_still_exported(
        ingested: Workspace, simulated: SimulatedBatch, tmp_path: Path) -> None:
    with read_only(ingested.store_path) as prefix:
        ingest = papertwin("ingest", str(simulated.pdf_path), workspace=ingested, prefix=prefix)
        export = papertwin("export", "--out", str(tmp_path / "d.csv"), workspace=ingested,
                           prefix=prefix)
    assert ingest.returncode == ExitCode.STORE_NOT_WRITABLE == 10
    assert one_line(ingest).startswith(f"papertwin: cannot write the store sqlite:///"
                                       f"{ingested.store_path}: ")
    assert export.returncode == 0, export.stderr
    assert len(pd.read_csv(tmp_path / "d.csv")) == 6


@pytest.mark.skipif(not NAMESPACES, reason="a full disk is made with a small tmpfs mounted in a "
                                           "mount namespace: root only")
def test_a_full_disk_is_said_before_the_batch_starts(ingested: Workspace,
                                                      simulated: SimulatedBatch) -> None:
    result = papertwin("ingest", str(simulated.pdf_path), workspace=ingested,
                       prefix=["unshare", "-m", "sh", "-c", SMALL_DISK,
                               str(ingested.crops_dir)])
    assert result.returncode == ExitCode.NOT_WRITABLE
    assert one_line(result) == (f"papertwin: cannot write {ingested.crops_dir}: no space left "
                                "on the disk; free some space, then run the command again")


@pytest.mark.usefixtures("prefect_harness")
def test_a_disk_that_fills_during_a_batch_stops_it_and_the_batch_says_so(
        ingested: Workspace, built: tuple[Workspace, BuiltForm], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Injected fault: the disk is full when the crops of the new batch are written (fsync of a
    file under crops/ fails with ENOSPC, as it does on a full disk)."""
    from flows.cli import main
    from pipeline.simulate.returns import simulate_returns

    again = simulate_returns(built[1].pdf_path.parent, tmp_path / "again", seed=7)
    real_fsync = os.fsync
    crops = str(ingested.crops_dir)

    def full_disk(fd: int) -> None:
        if str(Path(f"/proc/self/fd/{fd}").readlink()).startswith(crops):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    code = main(["--workspace", str(ingested.root), "ingest", str(again.pdf_path)])
    err = capsys.readouterr().err
    assert code == ExitCode.NOT_WRITABLE
    assert err.startswith(f"papertwin: cannot write {ingested.crops_dir}/")
    assert err.count("\n") == 1
    (first, (ended, reason)) = batches(ingested)
    assert first == ("finished", None)
    assert ended == "stopped"
    assert reason is not None and "no space left on the disk" in reason
    store = Store.open(ingested.store_url)
    try:  # the review app's batch overview shows it
        newest = batch_overview(store, [])[0]
    finally:
        store.close()
    assert (newest.ended, newest.stop_reason) == ("stopped", reason)


# -- Prefect's temporary server ------------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _still_alive(pids: set[int], seconds: float = 30) -> set[int]:
    """Those of the processes still running after up to `seconds` (a program papertwin ran may
    finish the page it was given: its own timeout bounds that)."""
    left = {pid for pid in pids if _alive(pid)}
    deadline = time.monotonic() + seconds
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = {pid for pid in left if _alive(pid)}
    return left


def _command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.slow
def test_kill_9_of_ingest_leaves_no_process_behind(
        ingested: Workspace, built: tuple[Workspace, BuiltForm], tmp_path: Path) -> None:
    from pipeline.simulate.returns import simulate_returns

    more = simulate_returns(built[1].pdf_path.parent, tmp_path / "more", seed=3)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PAPERTWIN_STORE_URL", None)
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "--workspace", str(ingested.root), "ingest",
         str(more.pdf_path)], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    seen: set[int] = set()
    deadline = time.monotonic() + 240
    try:
        # Wait until the batch is under way: the server is up and the flow has begun it.
        while time.monotonic() < deadline and process.poll() is None:
            seen |= _descendants(process.pid)
            if len(batches(ingested)) == 2 and any(
                    "flows.temporary_server" in _command_of(pid) for pid in seen):
                break
            time.sleep(0.2)
        assert process.poll() is None, "the ingest ended before it could be killed"
        seen |= _descendants(process.pid)
        assert any("flows.temporary_server" in _command_of(pid) for pid in seen)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    left = _still_alive(seen)
    assert not left, [_command_of(pid) for pid in left]
    ended, _ = batches(ingested)[1]
    assert ended is None  # killed: no end recorded, and none could be


def test_a_batch_interrupted_as_its_plan_ends_is_recorded_as_interrupted(
        ingested: Workspace, tmp_path: Path) -> None:
    """Ctrl-C can land after the planning task has begun the batch but before the flow holds
    its plan: the flow finds that batch by its inputs and time, and ends it."""
    since = now_iso()
    paths = [tmp_path / "scans.pdf"]
    store = Store.open(ingested.store_url)
    try:
        store.begin_batch([str(paths[0])])
    finally:
        store.close()
    before = batches(ingested)
    stop_unplanned_batch_in(ingested, [tmp_path / "other.pdf"], since, KeyboardInterrupt())
    assert batches(ingested) == before  # another batch's inputs: left alone
    stop_unplanned_batch_in(ingested, paths, since, KeyboardInterrupt())
    assert batches(ingested)[-1] == (
        "interrupted", "interrupted (Ctrl-C, or the process was told to stop)")
    assert batches(ingested)[:-1] == before[:-1]


@pytest.mark.slow
def test_ctrl_c_during_a_batch_ends_it_as_interrupted_and_stops_the_server(
        ingested: Workspace, built: tuple[Workspace, BuiltForm], tmp_path: Path) -> None:
    from pipeline.simulate.returns import simulate_returns

    more = simulate_returns(built[1].pdf_path.parent, tmp_path / "more", seed=4)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PAPERTWIN_STORE_URL", "PREFECT_API_URL")}
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "--workspace", str(ingested.root), "ingest",
         str(more.pdf_path)], cwd=PROJECT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while len(batches(ingested)) < 2 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    children = _descendants(process.pid)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == ExitCode.INTERRUPTED, err
    assert (out, err) == ("", "papertwin: interrupted\n")
    assert batches(ingested)[1] == (
        "interrupted", "interrupted (Ctrl-C, or the process was told to stop)")
    assert not _still_alive(children)


def test_a_prefect_server_that_does_not_start_in_time_is_tried_twice_then_said(
        ingested: Workspace, simulated: SimulatedBatch, tmp_path: Path) -> None:
    started = time.monotonic()
    result = papertwin("ingest", str(simulated.pdf_path), workspace=ingested,
                       env={"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1",
                            "PREFECT_HOME": str(tmp_path / "prefect")})
    assert result.returncode == ExitCode.ORCHESTRATION == 11
    assert one_line(result) == (
        "papertwin: Prefect's temporary server did not start (no answer within 2 s), tried 2 "
        "times: the machine may be too busy; try again, allow it longer with "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (now 1 s), or run a server of your "
        "own (prefect server start) and set PREFECT_API_URL")
    assert time.monotonic() - started < 60
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit()
                 and str(tmp_path / "prefect") in _environ_of(int(p.name))]
    assert leftovers == []


def _environ_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_a_prefect_server_named_but_not_running_is_said(
        ingested: Workspace, simulated: SimulatedBatch) -> None:
    result = papertwin("ingest", str(simulated.pdf_path), workspace=ingested,
                       env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert result.returncode == ExitCode.ORCHESTRATION
    assert one_line(result).startswith(
        "papertwin: the Prefect server at http://127.0.0.1:9/api (PREFECT_API_URL) does not "
        "answer (ConnectError): start it")


# -- an absurd scan file -------------------------------------------------------------------------

def test_a_file_of_thousands_of_pages_is_set_aside_at_once(tmp_path: Path,
                                                           ingested: Workspace) -> None:
    """2,000 blank pages in a PDF of a few kilobytes: read, it holds a batch up for minutes."""
    absurd = tmp_path / "absurd.pdf"
    with pikepdf.new() as pdf:
        for _ in range(2000):
            pdf.add_blank_page(page_size=(595, 842))
        pdf.save(absurd, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert absurd.stat().st_size < 200_000
    started = time.monotonic()
    plan = plan_batch([absurd], ingested)
    assert time.monotonic() - started < 5
    assert plan.chunks == ()
    (item,) = plan.set_aside
    assert item.reason == (
        f"{absurd} has 2,000 pages, more than the 1,000 papertwin reads from one file: split the "
        "scan into smaller files, or give --max-pages if it really is one batch")
    # Not set aside for good: a batch allowed more pages plans it.
    assert len(plan_batch([absurd], ingested, max_pages=2000).chunks) > 0


def test_max_pages_on_the_command_line(ingested: Workspace, simulated: SimulatedBatch,
                                       tmp_path: Path) -> None:
    copy = tmp_path / "returns.pdf"
    shutil.copy(simulated.pdf_path, copy)
    with pikepdf.open(copy, allow_overwriting_input=True) as pdf:
        pdf.pages.append(pdf.pages[0])  # a new file: not ingested before
        pdf.save(copy)
    result = papertwin("ingest", str(copy), "--max-pages", "5", workspace=ingested)
    assert result.returncode == ExitCode.FILES_SET_ASIDE, result.stderr
    assert result.stderr == (f"papertwin: set aside: {copy} has 13 pages, more than the 5 "
                             "papertwin reads from one file: split the scan into smaller files, "
                             "or give --max-pages if it really is one batch\n")
    refused = papertwin("ingest", str(copy), "--max-pages", "0", workspace=ingested)
    assert refused.returncode == ExitCode.USAGE
    assert "--max-pages: 0 is not a number of pages (1 or more)" in refused.stderr


def test_a_read_only_database_refuses_writes_in_one_line_and_is_still_read(
        store_url: str) -> None:
    """PostgreSQL: a database (or role) set read-only by its administrator."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite: a read-only store file is tested through the command line above")
    from sqlalchemy import create_engine, make_url, text

    from pipeline.errors import StoreNotWritableError

    store = Store.open(store_url)
    store.begin_batch(["week1.pdf"])
    store.close()
    admin = create_engine(store_url, isolation_level="AUTOCOMMIT")
    database = make_url(store_url).database
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on'))
    admin.dispose()
    store = Store.open(store_url)
    try:
        with pytest.raises(StoreNotWritableError, match=r"^cannot write the store "
                           r"postgresql\+psycopg://.*: the database is read-only \("):
            store.check_writable()
    finally:
        store.close()
    reader = Store.open(store_url, read_only=True)
    try:
        assert len(reader.page_outcomes()) == 0
        with reader.engine.connect() as conn:
            assert conn.execute(select(schema.batches.c.inputs)).scalars().all() == [
                '["week1.pdf"]']
    finally:
        reader.close()
