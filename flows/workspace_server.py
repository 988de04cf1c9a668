"""The workspace's papertwin server: Prefect and papertwin loaded once, a command run in each fork.

Importing Prefect and papertwin's flows takes seconds, and starting Prefect's server ten more;
paid by every command, that is most of the wait for a small one. This process pays them once
per workspace: it starts a Prefect server whose database lives in the workspace (so a
workspace's flow runs stay with it), imports the modules the verbs need without starting a
thread or calling the API (a fork keeps only the thread that forks), and listens on a Unix socket.
Each command the `papertwin` client sends is run in a fork of it, on the client's stdin,
stdout and stderr, in its folder and environment; its exit status goes back to the client.

It stops after PAPERTWIN_SERVER_IDLE_SECONDS (default 30 minutes) with no command, when its
workspace folder or its socket disappears, when its Prefect server ends, on SIGTERM, and on
`papertwin server stop`; its Prefect server stops with it (the lifeline pipe). A command whose
client goes away is interrupted (SIGINT, then SIGKILL), as Ctrl-C would.

Run as `python -m flows.workspace_server WORKSPACE`; the client starts it (flows/server_control.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.server_files import (
    ServerFiles,
    code_fingerprint,
    idle_seconds,
    import_environment,
)
from flows.server_protocol import MessageReader, ProtocolError, read_message, send
from flows.server_warmup import warm_up

if TYPE_CHECKING:
    from flows.temporary_server import TemporaryServer

REQUEST_SECONDS = 10.0  # for a client to send its request once connected
STOP_SECONDS = 10.0  # an interrupted command's grace before SIGKILL
TICK_SECONDS = 1.0
FORWARDED = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


@dataclass
class Connection:
    """A client's connection: the command it runs (a child pid), or a lease held while the
    client runs a command itself against this server's Prefect API."""

    sock: socket.socket
    reader: MessageReader = field(default_factory=MessageReader)
    child: int | None = None
    pidfd: int | None = None
    kill_at: float | None = None  # when an interrupted command is killed outright
    started: float = 0.0
    lease: bool = False


@dataclass
class Prefect:
    api_url: str
    server: TemporaryServer | None  # None: the API a Prefect profile names


class WorkspaceServer:
    def __init__(self, files: ServerFiles, prefect: Prefect, code: str,
                 imported: dict[str, str], idle: float) -> None:
        self.files = files
        self.prefect = prefect
        self.code = code
        self.imported = imported
        self.idle = idle
        self.started = time.time()
        self.last_activity = time.monotonic()
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.connections: dict[int, Connection] = {}  # by socket fd
        self.children: dict[int, Connection] = {}  # by pid
        self.stopping = ""

    # -- life ------------------------------------------------------------------------------------

    def listen(self) -> None:
        path = self.files.socket_path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # the lock is held by whoever started this server: no one else's
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o077)
        try:
            listener.bind(os.fspath(path))
        finally:
            os.umask(old_umask)
        listener.listen(64)
        listener.setblocking(False)
        self.listener = listener
        self.selector.register(listener, selectors.EVENT_READ)
        state = {"pid": os.getpid(), "api_url": self.prefect.api_url, "socket": str(path),
                 "log": str(self.files.log_path), "started": self.started}
        temporary = self.files.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state) + "\n")
        temporary.replace(self.files.state_path)

    def serve(self) -> str:
        """Until a reason to stop; that reason."""
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(number, self._told_to_stop)
        while not self.stopping:
            for key, _ in self.selector.select(TICK_SECONDS):
                if key.fileobj is self.listener:
                    self._accept()
                elif isinstance(key.data, int):  # a child's pidfd
                    self._reap(key.data)
                else:
                    self._readable(key.data)
            self._check()
        return self.stopping

    def _told_to_stop(self, number: int, frame: Any) -> None:
        self.stopping = f"signal {signal.Signals(number).name}"

    def _check(self) -> None:
        now = time.monotonic()
        for pid, conn in list(self.children.items()):
            if conn.pidfd is None:
                self._reap(pid)  # no pidfd here: looked at every tick
            elif conn.kill_at is not None and now >= conn.kill_at:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        if self.prefect.server is not None and self.prefect.server.process.poll() is not None:
            self.stopping = "its Prefect server ended"
        elif not self.files.workspace.is_dir():
            self.stopping = "its workspace folder is gone"
        elif self.listener is None and not self.busy:
            self.stopping = "it made way for a server of newer code"
        elif self.listener is not None and not self.files.socket_path.exists():
            self.stopping = "its socket is gone"
        elif not self.busy and now - self.last_activity >= self.idle:
            self.stopping = f"idle for {self.idle:g} s"

    @property
    def busy(self) -> bool:
        return bool(self.children) or any(c.lease for c in self.connections.values())

    def stop_listening(self) -> None:
        """No new commands; the socket and state file go, for a new server to take their place."""
        if self.listener is None:
            return
        self.selector.unregister(self.listener)
        self.listener.close()
        self.listener = None
        for path in (self.files.socket_path, self.files.state_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def shutdown(self) -> None:
        """Commands running are interrupted (SIGINT, then SIGKILL), then Prefect's server goes."""
        self.stop_listening()
        deadline = time.monotonic() + STOP_SECONDS
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGINT)
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                self._reap(pid)
            time.sleep(0.05)
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self._ended(pid, 128 + signal.SIGKILL)
        for conn in list(self.connections.values()):
            self._close(conn)
        if self.prefect.server is not None:
            self.prefect.server.stop()

    # -- connections -----------------------------------------------------------------------------

    def _accept(self) -> None:
        if self.listener is None:
            return
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        conn = Connection(sock)
        try:
            if _peer_uid(sock) != os.getuid():
                sock.close()
                return
            sock.settimeout(REQUEST_SECONDS)
            request = read_message(sock, conn.reader, want_fds=True)
            fds, conn.reader.fds = conn.reader.fds, []
            self._answer(conn, request, fds)
        except (OSError, ProtocolError, ValueError, KeyError, TypeError) as exc:
            print(f"papertwin server: a request failed: {exc!r}", file=sys.stderr, flush=True)
            sock.close()
            for fd in conn.reader.fds:
                os.close(fd)

    def _answer(self, conn: Connection, request: dict[str, Any] | None, fds: list[int]) -> None:
        try:
            if request is None:
                conn.sock.close()
            elif "status" in request:
                send(conn.sock, {"status": self.status()})
                conn.sock.close()
            elif "stop" in request:
                send(conn.sock, {"stopping": os.getpid()})
                conn.sock.close()
                self.stopping = "papertwin server stop"
            elif "run" in request:
                self._run(conn, request["run"], fds)
            else:
                conn.sock.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _run(self, conn: Connection, run: dict[str, Any], fds: list[int]) -> None:
        self.last_activity = time.monotonic()
        if run["code"] != self.code:
            # Other code than this server loaded: it makes way for a new one and ends once its
            # commands have.
            send(conn.sock, {"elsewhere": "code", "api_url": self.prefect.api_url})
            conn.sock.close()
            self.stop_listening()
            return
        env = {str(k): str(v) for k, v in run["env"].items()}
        if import_environment(env) != self.imported:
            send(conn.sock, {"elsewhere": "environment", "api_url": self.prefect.api_url})
            conn.lease = True
            self._register(conn)
            return
        if len(fds) != 3:
            raise ProtocolError(f"{len(fds)} descriptors, not stdin, stdout and stderr")
        argv = [str(a) for a in run["argv"]]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child ends in os._exit
            code = 1
            try:
                code = self._child(argv, str(run["cwd"]), env, fds, conn)
            finally:
                os._exit(code)
        conn.child = pid
        conn.started = time.monotonic()
        self.children[pid] = conn
        try:
            conn.pidfd = os.pidfd_open(pid)
            self.selector.register(conn.pidfd, selectors.EVENT_READ, pid)
        except (AttributeError, OSError):
            conn.pidfd = None
        send(conn.sock, {"started": pid})
        self._register(conn)

    def _register(self, conn: Connection) -> None:
        conn.sock.setblocking(False)
        self.connections[conn.sock.fileno()] = conn
        self.selector.register(conn.sock, selectors.EVENT_READ, conn)

    def _readable(self, conn: Connection) -> None:
        try:
            conn.reader.receive(conn.sock)
            while (message := conn.reader.next_message()) is not None:
                number = int(message.get("signal", 0))
                if conn.child is not None and number in FORWARDED:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(conn.child, number)
        except BlockingIOError:
            return
        except (OSError, ProtocolError, ValueError, TypeError):
            conn.reader.closed = True
        if conn.reader.closed:
            if conn.child is not None:  # its client is gone: interrupted as by Ctrl-C
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(conn.child, signal.SIGINT)
                conn.kill_at = time.monotonic() + STOP_SECONDS
            self._close(conn)

    def _close(self, conn: Connection) -> None:
        fd = conn.sock.fileno()
        if fd in self.connections:
            del self.connections[fd]
            self.selector.unregister(conn.sock)
        conn.sock.close()
        conn.lease = False
        self.last_activity = time.monotonic()

    def _reap(self, pid: int) -> None:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 1 << 8
        if done == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        self._ended(pid, 128 - code if code < 0 else code)

    def _ended(self, pid: int, code: int) -> None:
        conn = self.children.pop(pid)
        print(f"papertwin server: command {pid} exited with {code} after "
              f"{time.monotonic() - conn.started:.2f} s", flush=True)
        if conn.pidfd is not None:
            self.selector.unregister(conn.pidfd)
            os.close(conn.pidfd)
        if conn.sock.fileno() != -1:
            with contextlib.suppress(OSError):
                conn.sock.settimeout(REQUEST_SECONDS)
                send(conn.sock, {"exit": code})
            self._close(conn)
        self.last_activity = time.monotonic()

    def status(self) -> dict[str, Any]:
        idle = 0.0 if self.busy else time.monotonic() - self.last_activity
        return {"pid": os.getpid(), "workspace": str(self.files.workspace),
                "api_url": self.prefect.api_url, "started": self.started,
                "idle_seconds": idle, "idle_limit": self.idle, "running": len(self.children),
                "log": str(self.files.log_path), "socket": str(self.files.socket_path)}

    # -- the child -------------------------------------------------------------------------------

    def _child(self, argv: list[str], cwd: str, env: dict[str, str], fds: list[int],
               conn: Connection) -> int:
        """In the fork: become the client's process, as far as a command can tell, and run it."""
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        self._close_inherited()
        conn.sock.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        for stream, line_buffering in ((sys.stdout, os.isatty(1)), (sys.stderr, True)):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(line_buffering=line_buffering)
        try:
            os.chdir(cwd)
        except OSError as exc:
            print(f"papertwin: cannot work in {cwd}: {exc.strerror}", file=sys.stderr)
            return 1
        os.environ.clear()
        os.environ.update(env)
        if self.prefect.server is not None:
            os.environ["PREFECT_API_URL"] = self.prefect.api_url
        sys.argv = ["papertwin", *argv]
        if "numpy" in sys.modules:  # a fork copies the zygote's random state: each its own
            sys.modules["numpy"].random.seed()
        from prefect.settings import temporary_settings

        from flows.cli import main, set_prefect_environment
        from flows.temporary_server import OWN_SERVER, drain_workers

        if {"-v", "--verbose"} & set(argv):  # the zygote loaded Prefect quiet
            _reload_prefect_settings(set_prefect_environment)
        try:
            with temporary_settings(updates=OWN_SERVER if self.prefect.server else {}):
                code = main(argv)
        except SystemExit as exc:  # argparse: --help, or a usage error
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1

        drain_workers()
        sys.stdout.flush()
        sys.stderr.flush()
        return code

    def _close_inherited(self) -> None:
        """The fork holds nothing of the server's: a client must see the server's end close
        when the server goes, and Prefect's server its lifeline."""
        for conn in self.connections.values():
            conn.sock.close()
        for conn in self.children.values():
            if conn.pidfd is not None:
                os.close(conn.pidfd)
        if self.listener is not None:
            self.listener.close()
        self.selector.close()
        if self.prefect.server is not None:
            with contextlib.suppress(OSError):
                os.close(self.prefect.server.lifeline)
            self.prefect.server.log.close()


def _peer_uid(sock: socket.socket) -> int:
    credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    return int(uid)


def _reload_prefect_settings(set_prefect_environment: Any) -> None:
    """Prefect's settings and logging read again from this command's environment (-v)."""
    from prefect.context import refresh_global_settings_context
    from prefect.logging.configuration import setup_logging

    set_prefect_environment(True)
    refresh_global_settings_context()
    setup_logging(incremental=False)


def start_prefect(files: ServerFiles) -> Prefect:
    """The API a Prefect profile names, else a Prefect server of this workspace's own, its
    database in WORKSPACE/prefect/; papertwin's modules are imported while it starts."""
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    if configured:
        warm_up()
        return Prefect(str(configured), None)
    from prefect.context import refresh_global_settings_context

    from flows.temporary_server import launch, start_temporary_server

    files.prefect_dir.mkdir(parents=True, exist_ok=True)
    database = f"sqlite+aiosqlite:///{files.prefect_dir / 'prefect.db'}"
    env = {"PREFECT_API_DATABASE_CONNECTION_URL":
           os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or database}
    first = launch(env)
    try:
        warm_up()
    except BaseException:
        first.stop()
        raise
    server = start_temporary_server(env=env, first=first)
    os.environ["PREFECT_API_URL"] = server.api_url
    refresh_global_settings_context()
    return Prefect(server.api_url, server)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m flows.workspace_server WORKSPACE", file=sys.stderr)
        return 2
    files = ServerFiles(Path(argv[0]))
    code = code_fingerprint()
    imported = import_environment(os.environ)
    idle = idle_seconds(os.environ)
    from flows.cli import set_prefect_environment
    from pipeline.errors import PapertwinError

    set_prefect_environment(False)
    started = time.monotonic()
    try:
        prefect = start_prefect(files)
    except PapertwinError as exc:
        print(f"papertwin server: {exc}", flush=True)
        return 1
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if threads:  # a fork would lose them, and whatever locks they held
        print(f"papertwin server: threads running before any fork: {threads}", flush=True)
    server = WorkspaceServer(files, prefect, code, imported, idle)
    try:
        server.listen()
        print(f"papertwin server: pid {os.getpid()} ready in {time.monotonic() - started:.1f} s "
              f"on {files.socket_path}, Prefect API {prefect.api_url}", flush=True)
        reason = server.serve()
        print(f"papertwin server: stopping: {reason}", flush=True)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
