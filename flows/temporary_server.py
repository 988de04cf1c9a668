"""Prefect's temporary server, started by papertwin and tied to its life.

Without PREFECT_API_URL, Prefect would start a temporary server of its own, which outlives a
papertwin killed with SIGKILL and gives up after a fixed wait on a busy machine. papertwin starts
it instead: the server reads a pipe whose other end only papertwin holds, and stops when the pipe
closes, which the kernel does however papertwin ends (kill -9 included). It runs in a session of
its own, so a Ctrl-C reaches papertwin alone, which then stops the server in order. A start that
times out is tried once more, with twice the time, before papertwin says so and exits.

Run as a program (`python -m flows.temporary_server PORT`), this module is that server.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import httpx
from prefect.client.orchestration import get_client
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)
from prefect.utilities.asyncutils import run_coro_as_sync

from pipeline.errors import OrchestrationError

STOP_SECONDS = 10.0  # a clean stop (SIGTERM) before the server is killed
TRIES = 2
# Settings for flows that report to a server papertwin started: no flow run heartbeats, which
# only a server's background services read (papertwin's run none), and whose thread a flow
# run waits for as it ends (up to a second: the thread sleeps in whole seconds).
OWN_SERVER: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}


@dataclass
class TemporaryServer:
    process: subprocess.Popen[bytes]
    port: int
    lifeline: int  # the write end of the pipe the server watches; never written to
    log: IO[bytes]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.lifeline)  # the server sees the pipe close and stops itself
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def last_words(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""


@contextlib.contextmanager
def prefect_api() -> Iterator[str]:
    """The Prefect API the flows of this command report to: the server PREFECT_API_URL names
    (checked to answer), else a temporary one that ends with this command."""
    configured = PREFECT_API_URL.value()
    if configured:
        _check_answers(configured)
        yield configured
        return
    server = start_temporary_server()
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url, **OWN_SERVER}):
            try:
                yield server.api_url
            finally:
                drain_workers()
    finally:
        server.stop()


def drain_workers() -> None:
    """Send the logs and events still queued while the server is there to take them (else
    Prefect prints connection errors once it is gone)."""
    async def drain() -> None:
        with contextlib.suppress(RuntimeError):  # a worker that never started
            logs = APILogWorker.instance().drain()
            if inspect.isawaitable(logs):
                await logs
        events = EventsWorker.drain_all()
        if inspect.isawaitable(events):
            await events

    with contextlib.suppress(Exception):
        run_coro_as_sync(drain())


def start_temporary_server(timeout: float | None = None, env: Mapping[str, str] | None = None,
                           first: TemporaryServer | None = None) -> TemporaryServer:
    """A temporary server that answers, after at most two tries (the second given twice the
    time: a machine busy enough to miss the first is often still busy). `env` adds to the
    server's environment; `first` is a first try already launched with it."""
    wait = float(timeout or PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    problem = ""
    for attempt in range(TRIES):
        server = first if attempt == 0 and first is not None else launch(env)
        try:
            problem = _wait_until_up(server, wait * (attempt + 1))
        except BaseException:  # Ctrl-C while it starts
            server.stop()
            raise
        if not problem:
            return server
        server.stop()
    raise OrchestrationError(
        f"Prefect's temporary server did not start ({problem}), tried {TRIES} times: the "
        "machine may be too busy; try again, allow it longer with "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (now "
        f"{wait:g} s), or run a server of your own (prefect server start) and set "
        "PREFECT_API_URL")


def launch(extra_env: Mapping[str, str] | None = None) -> TemporaryServer:
    """The server process started, not yet answering (start_temporary_server waits for it)."""
    port = _free_port()
    reader, writer = os.pipe()
    log = tempfile.TemporaryFile(prefix="papertwin-prefect-server-")  # noqa: SIM115 - stop()
    # The server reads Prefect's settings as any Prefect program does (environment, profile);
    # not serialised from this process's settings, which turns a Ctrl-C into a pydantic error.
    env = {**os.environ,
           "PREFECT_UI_ENABLED": "0",
           # Prefect's own names for a temporary server: no UI, no background services.
           "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
           **(extra_env or {})}
    env.pop("PREFECT_API_URL", None)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "flows.temporary_server", str(port)],
            stdin=reader, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    except OSError as exc:
        os.close(writer)
        log.close()
        raise OrchestrationError(f"Prefect's temporary server could not be started: {exc}") \
            from exc
    finally:
        os.close(reader)
    return TemporaryServer(process, port, writer, log)


def _wait_until_up(server: TemporaryServer, timeout: float) -> str:
    """'' once the server answers; else what went wrong."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                last = server.last_words()
                return f"it exited with code {code}" + (f": {last}" if last else "")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{server.api_url}/health").status_code == 200:
                    return ""
            time.sleep(0.2)
    return f"no answer within {timeout:g} s"


def _check_answers(api_url: str) -> None:
    """Through Prefect's own client, so that a server that needs a key (Prefect Cloud) gets
    it."""
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise OrchestrationError(
            f"the Prefect server at {api_url} (PREFECT_API_URL) does not answer "
            f"({problem.__class__.__name__}): start it (prefect server start), or unset "
            "PREFECT_API_URL to let papertwin start a temporary one")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- the server process -------------------------------------------------------------------------

def _stop_when_orphaned() -> None:
    """Block until the pipe from papertwin closes, then stop this server (and make sure)."""
    with contextlib.suppress(OSError):
        while os.read(0, 4096):
            pass
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(STOP_SECONDS)
    os._exit(1)


def serve(port: int) -> None:
    import uvicorn

    threading.Thread(target=_stop_when_orphaned, name="lifeline", daemon=True).start()
    uvicorn.run("prefect.server.api.server:create_app", factory=True, host="127.0.0.1",
                port=port, log_level="error", lifespan="on")


if __name__ == "__main__":
    serve(int(sys.argv[1]))
