"""A workspace's papertwin server seen from outside: found, started (one at a time, under a
lock), asked how it is, and stopped; and the `papertwin server` verb.

Light on purpose (standard library only): the `papertwin` client imports it on every command.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from flows.server_files import ServerFiles
from flows.server_protocol import MessageReader, ProtocolError, read_message, send
from pipeline.cli import present
from pipeline.errors import OrchestrationError, ServerStartError

ANSWER_SECONDS = 30.0  # for a running server to answer a request
STOP_SECONDS = 30.0  # for a server told to stop to be gone (it interrupts its commands first)
START_SLACK_SECONDS = 60.0  # beyond Prefect's own start timeouts: imports, a first database
PREFECT_START_SECONDS = 20.0  # Prefect's default PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS
LOG_KEEP_BYTES = 1024 * 1024
MODULE = "flows.workspace_server"


def connect(files: ServerFiles) -> socket.socket | None:
    """A connection to the workspace's server, or None where none listens."""
    path = files.socket_path
    if not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(ANSWER_SECONDS)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        return None
    return sock


def ask(files: ServerFiles, request: dict[str, Any]) -> dict[str, Any] | None:
    """The server's answer to a status or stop request; None where no server answers."""
    sock = connect(files)
    if sock is None:
        return None
    with sock:
        try:
            send(sock, request)
            return read_message(sock, MessageReader())
        except (OSError, ProtocolError):
            return None


def connect_or_start(files: ServerFiles, env: Mapping[str, str]) -> socket.socket:
    """A connection to the workspace's server, started first if none answers. Two commands at
    once start one server: the second waits on the lock, then finds the first one's."""
    sock = connect(files)
    if sock is not None:
        return sock
    timeout = _start_timeout(env)
    with _locked(files, timeout):
        sock = connect(files)
        if sock is not None:
            return sock
        _clean_stale(files)
        process = _spawn(files, env)
        _wait_ready(files, process, timeout)
    sock = connect(files)
    if sock is None:
        raise ServerStartError(f"the papertwin server of {files.workspace} started but does "
                               f"not take connections; its log: {files.log_path}")
    return sock


def _start_timeout(env: Mapping[str, str]) -> float:
    """Prefect's server may take two tries (the second twice as long), then the slack."""
    try:
        prefect = float(env.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "")
                        or PREFECT_START_SECONDS)
    except ValueError:
        prefect = PREFECT_START_SECONDS
    return 3 * prefect + START_SLACK_SECONDS


@contextlib.contextmanager
def _locked(files: ServerFiles, timeout: float) -> Iterator[None]:
    try:
        files.run_dir.mkdir(parents=True, exist_ok=True)
        handle = files.lock_path.open("a")
    except OSError as exc:
        raise ServerStartError(f"cannot write {files.run_dir}: {exc.strerror}") from exc
    with handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OrchestrationError(
                        f"another command has been starting the papertwin server of "
                        f"{files.workspace} for {timeout:g} s; its log: {files.log_path}") \
                        from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clean_stale(files: ServerFiles) -> None:
    """What a server that no longer answers left: its process (if it hangs), socket, state."""
    pid = _recorded_pid(files)
    if pid is not None and _is_server(pid):
        _end_process(pid)
    for path in (files.socket_path, files.state_path):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _spawn(files: ServerFiles, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    _keep_log_short(files.log_path)
    child_env = dict(env)
    child_env.pop("PREFECT_API_URL", None)
    try:
        with files.log_path.open("ab") as log:
            # -P: the server's imports come from papertwin's install, never the folder it runs in
            return subprocess.Popen(
                [sys.executable, "-P", "-m", MODULE, str(files.workspace)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=child_env,
                cwd=files.workspace, start_new_session=True)
    except OSError as exc:
        raise ServerStartError(f"the papertwin server could not be started: {exc}") from exc


def _keep_log_short(log: Path) -> None:
    with contextlib.suppress(OSError):
        if log.stat().st_size > LOG_KEEP_BYTES:
            log.replace(log.with_suffix(".log.1"))


def _wait_ready(files: ServerFiles, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            last = _last_line(files.log_path)
            raise ServerStartError(
                f"the papertwin server of {files.workspace} could not start (exit code {code}"
                + (f": {last}" if last else "") + f"; its log: {files.log_path})")
        if files.state_path.exists():
            answer = ask(files, {"status": True})
            if answer is not None and answer.get("status", {}).get("pid") == process.pid:
                return
        time.sleep(0.05)
    _end_process(process.pid)
    process.wait(timeout=STOP_SECONDS)
    raise OrchestrationError(
        f"the papertwin server of {files.workspace} did not start within {timeout:g} s: the "
        f"machine may be too busy; see its log, {files.log_path}, and try again (or set "
        "PAPERTWIN_SERVER=off to run each command on its own)")


def _last_line(log: Path) -> str:
    try:
        lines = log.read_bytes()[-4096:].decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _recorded_pid(files: ServerFiles) -> int | None:
    try:
        pid = json.loads(files.state_path.read_text())["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if isinstance(pid, int) else None


def _is_server(pid: int) -> bool:
    """Running, and a papertwin server (not another process given the pid since)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat[0] != "Z" and MODULE.encode() in command


def _end_process(pid: int) -> None:
    """SIGTERM, then SIGKILL if it is still there after STOP_SECONDS."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while _is_server(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_server(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_server(files: ServerFiles) -> int | None:
    """Stop the workspace's server (its running commands interrupted) and wait until it is
    gone; its pid, or None if none ran."""
    answer = ask(files, {"stop": True})
    pid = answer.get("stopping") if answer is not None else _recorded_pid(files)
    if not isinstance(pid, int) or not _is_server(pid):
        _clean_stale(files)
        return pid if answer is not None else None
    deadline = time.monotonic() + STOP_SECONDS
    while _is_server(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_server(pid):
        _end_process(pid)
    _clean_stale(files)
    return pid


def server_command(action: str, workspace: Path) -> int:
    """`papertwin server status|stop|start`."""
    files = ServerFiles(workspace)
    if action == "stop":
        present.server_stopped(workspace, stop_server(files))
        return 0
    if action == "start":
        connect_or_start(files, os.environ).close()
    answer = ask(files, {"status": True})
    status = answer.get("status") if answer is not None else None
    present.server_status(workspace, status if isinstance(status, dict) else None)
    return 0
