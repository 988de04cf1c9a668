"""The workspace's papertwin server, through the installed `papertwin` command in processes of
its own: started by the first command, reused by the next, stopped, replaced, bypassed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.server_control import stop_server
from flows.server_files import ServerFiles
from pipeline.errors import ExitCode

from .conftest import PROJECT, TEMPLATE, process_alive

ENTRY = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]["papertwin"]
TIMEOUT = 240.0


def papertwin_command() -> list[str]:
    """The console script as pyproject.toml declares it (what pip writes into bin/papertwin)."""
    module, function = ENTRY.split(":")
    return [sys.executable, "-c", f"import sys; from {module} import {function}; "
            f"sys.exit({function}())"]


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]

    @property
    def files(self) -> ServerFiles:
        return ServerFiles(self.root)

    def papertwin(self, *argv: str | Path, **env: str) -> Run:
        started = time.monotonic()
        done = subprocess.run([*papertwin_command(), *map(str, argv)], env={**self.env, **env},
                              cwd=self.root.parent, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def server_pid(self) -> int:
        pid = json.loads(self.files.state_path.read_text())["pid"]
        assert isinstance(pid, int)
        return pid

    def build(self, out: str) -> Run:
        run = self.papertwin("forms", "build", TEMPLATE, "--copies", "1", "--out",
                             self.root.parent / out)
        assert run.code == 0, run.err
        assert run.out.startswith("built 1 copy of form library_services-v1-"), run.out
        return run


def _workspace(root: Path, idle_seconds: float) -> Workspace:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PAPERTWIN_STORE_URL", "PAPERTWIN_SERVER")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH")) if p)
    env["PAPERTWIN_HOME"] = str(root / "ws")
    env["PREFECT_HOME"] = str(root / "prefect")
    env["PAPERTWIN_SERVER_IDLE_SECONDS"] = str(idle_seconds)
    return Workspace(root / "ws", env)


def _stopped(workspace: Workspace) -> None:
    """Whatever server the tests started in this workspace, gone."""
    pid = None
    if workspace.files.state_path.exists():
        pid = workspace.server_pid()
    stop_server(workspace.files)
    if pid is not None and process_alive(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One workspace whose server the tests of this module share (starting one takes a while:
    Prefect creates its database)."""
    workspace = _workspace(tmp_path_factory.mktemp("served"), idle_seconds=300)
    yield workspace
    _stopped(workspace)


@pytest.fixture
def own(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace of the test's own, its server stopping after 3 idle seconds."""
    workspace = _workspace(tmp_path, idle_seconds=3)
    yield workspace
    _stopped(workspace)


def _gone(pid: int, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not process_alive(pid)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.slow
def test_a_second_command_reuses_the_first_ones_server_and_is_faster(shared: Workspace) -> None:
    first = shared.build("form-1")
    pid = shared.server_pid()
    assert shared.files.socket_path.exists()
    second = shared.build("form-2")
    assert shared.server_pid() == pid
    assert "serials 000002-000002" in second.out
    assert second.seconds < first.seconds / 2, (first.seconds, second.seconds)
    status = shared.papertwin("server", "status")
    assert status.code == 0
    assert f"papertwin server: running for {shared.root}\n  pid:         {pid}\n" in status.out
    assert "Prefect API: http://127.0.0.1:" in status.out
    assert "stops after 300 s idle" in status.out


def _batch_unnumbered(out: str) -> str:
    return re.sub(r"^batch \d+:", "batch N:", out, flags=re.MULTILINE)


@pytest.mark.slow
def test_a_failing_command_ends_as_it_does_in_its_own_process(shared: Workspace) -> None:
    shared.build("form-3")
    for argv in (["ingest", shared.root.parent / "missing.pdf"],  # fails in the flow
                 ["ingest"],  # a usage error, said by argparse
                 ["forms", "build", shared.root.parent / "nothing.yaml", "--copies", "1",
                  "--out", shared.root.parent / "x"]):
        served = shared.papertwin(*argv)
        alone = shared.papertwin(*argv, PAPERTWIN_SERVER="off")
        # each ingest is a batch of its own: its number is the one difference
        assert (served.code, _batch_unnumbered(served.out), served.err) == (
            alone.code, _batch_unnumbered(alone.out), alone.err)
        assert served.code != 0 and served.err


@pytest.mark.slow
def test_ctrl_c_reaches_the_command(shared: Workspace) -> None:
    inbox = shared.root.parent / "inbox"
    inbox.mkdir(exist_ok=True)
    process = subprocess.Popen([*papertwin_command(), "watch", str(inbox), "--interval", "0.2"],
                               env=shared.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(f"watching {inbox} every 0.2 s")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == ExitCode.INTERRUPTED, err
    assert out == f"stopped watching {inbox}: 0 files to processed/, 0 to quarantine/\n"


@pytest.mark.slow
def test_a_command_whose_environment_differs_runs_in_its_client_on_the_servers_prefect(
        shared: Workspace) -> None:
    shared.build("form-7")
    pid = shared.server_pid()
    commands = shared.files.log_path.read_text().count("papertwin server: command ")
    # A value other than the server's: a Dask cluster started earlier in this test process
    # sets OMP_NUM_THREADS=1 in its environment, which the server then inherited.
    threads = str(int(shared.env.get("OMP_NUM_THREADS", "0") or "0") + 1)
    run = shared.papertwin("forms", "build", TEMPLATE, "--copies", "1", "--out",
                           shared.root.parent / "form-8", OMP_NUM_THREADS=threads)
    assert run.code == 0, run.err
    assert run.out.startswith("built 1 copy of form library_services-v1-")
    assert shared.server_pid() == pid  # still the one server, and it ran nothing
    assert shared.files.log_path.read_text().count("papertwin server: command ") == commands


@pytest.mark.slow
def test_a_killed_server_is_replaced_by_the_next_command(shared: Workspace) -> None:
    shared.build("form-4")
    pid = shared.server_pid()
    prefect = _children(pid)
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    shared.build("form-5")
    assert shared.server_pid() != pid
    assert all(_gone(child) for child in prefect)  # its Prefect server went with it


@pytest.mark.slow
def test_server_stop_stops_it_and_status_says_so(shared: Workspace) -> None:
    shared.build("form-6")
    pid = shared.server_pid()
    stopped = shared.papertwin("server", "stop")
    assert (stopped.code, stopped.out) == (
        0, f"stopped the papertwin server of {shared.root} (pid {pid})\n")
    assert not process_alive(pid)
    assert not shared.files.socket_path.exists()
    assert not shared.files.state_path.exists()
    status = shared.papertwin("server", "status")
    assert (status.code, status.out) == (0, f"papertwin server: not running for {shared.root}\n")
    again = shared.papertwin("server", "stop")
    assert again.out == f"no papertwin server runs for {shared.root}\n"


def test_with_prefect_api_url_set_no_server_is_started(own: Workspace) -> None:
    run = own.papertwin("forms", "build", TEMPLATE, "--copies", "1", "--out",
                        own.root.parent / "form", PREFECT_API_URL="http://127.0.0.1:9/api")
    assert run.code == ExitCode.ORCHESTRATION, run.err
    assert "(PREFECT_API_URL) does not answer" in run.err
    assert not own.files.run_dir.exists()


@pytest.mark.slow
def test_the_server_stops_itself_when_idle(own: Workspace) -> None:
    own.build("form")
    pid = own.server_pid()
    prefect = _children(pid)
    assert _gone(pid, 60)
    assert all(_gone(child) for child in prefect)
    assert not own.files.socket_path.exists()
    assert "stopping: idle for 3 s" in own.files.log_path.read_text()


def test_a_workspace_too_deep_for_a_socket_path_has_its_socket_in_a_private_folder(
        tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "ws"
    socket_path = ServerFiles(deep).socket_path
    assert len(os.fsencode(socket_path)) < 108
    assert socket_path.parent == Path("/tmp") / f"papertwin-{os.getuid()}"
    assert socket_path.parent.stat().st_mode & 0o777 == 0o700
    assert socket_path != ServerFiles(deep.parent / "other").socket_path
    assert ServerFiles(tmp_path / "ws").socket_path == tmp_path / "ws" / "run" / "papertwin.sock"
