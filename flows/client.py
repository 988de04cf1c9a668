"""The `papertwin` command as installed: it hands the command to the workspace's papertwin server
(flows/workspace_server.py), started by the first command, so that Prefect and papertwin are not
loaded again by every command.

It passes its arguments, folder, environment and its stdin, stdout and stderr; forwards Ctrl-C
(and SIGTERM, SIGHUP) to the command; and exits with the command's exit code. It imports neither
Prefect nor papertwin's reading modules on that path. A command runs here instead, in this
process, as `python -m flows.cli` would run it:
- with PAPERTWIN_SERVER=off, or PREFECT_API_URL set (a Prefect server of the user's own);
- for `review` and `users` (a web app that runs until stopped; a password typed at a terminal),
  `demo` (a workspace of its own, in a temporary folder unless given), `watch --serve`
  (Prefect's scheduler, which only the user's own Prefect server has), `--help`, `--version`;
- when the server cannot be started (said on stderr);
- when the environment the server loaded its modules under differs from this command's in a
  variable read at import (flows/server_files.py, IMPORT_NAMES): then against the server's
  Prefect API, which saves starting a temporary one.
`papertwin server status|stop|start` is answered here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from flows.server_control import ANSWER_SECONDS, connect_or_start, server_command
from flows.server_files import ServerFiles, code_fingerprint, server_wanted
from flows.server_protocol import MessageReader, ProtocolError, read_message, send
from pipeline.cli import present
from pipeline.errors import (
    ExitCode,
    OrchestrationError,
    PapertwinError,
    ServerStartError,
)
from pipeline.workspace import Workspace

IN_CLIENT = frozenset({"review", "users", "demo"})
HELP = frozenset({"-h", "--help", "--version"})
FLAGS = frozenset({"-v", "--verbose", "--debug"})
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verb, rest, workspace = _scan(args)
    try:
        if verb == "server" and len(rest) == 1 and rest[0] in ("status", "stop", "start"):
            return server_command(rest[0], Workspace.resolve(workspace).root)
        if not _through_server(verb, args):
            return in_process(args)
        files = ServerFiles(Workspace.resolve(workspace).root)
        try:
            return _through(files, args)
        except ServerStartError as exc:
            present.running_alone(str(exc))
            return in_process(args)
    except PapertwinError as exc:
        present.error(str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt:  # before the command began; once it has, Ctrl-C goes to it
        present.interrupted()
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        if present.output_closed():
            return int(ExitCode.OUTPUT_CLOSED)
        raise


def in_process(args: list[str], api_url: str | None = None) -> int:
    """The command run in this process (`api_url`: the Prefect API its flows report to)."""
    if api_url is not None:
        os.environ["PREFECT_API_URL"] = api_url
    from flows.cli import main as run

    return run(args)


def _scan(args: list[str]) -> tuple[str | None, list[str], str | None]:
    """The verb, what follows it (common options aside), and --workspace: enough to route the
    command; the command itself parses its arguments properly wherever it runs."""
    verb: str | None = None
    rest: list[str] = []
    workspace: str | None = None
    words = iter(args)
    for word in words:
        if word == "--workspace":
            workspace = next(words, None)
        elif word.startswith("--workspace="):
            workspace = word.split("=", 1)[1]
        elif word in FLAGS:
            continue
        elif verb is None:
            if word.startswith("-"):
                return None, [], workspace  # not a form the server needs to see: run here
            verb = word
        else:
            rest.append(word)
    return verb, rest, workspace


def _through_server(verb: str | None, args: list[str]) -> bool:
    return (server_wanted(os.environ) and not os.environ.get("PREFECT_API_URL")
            and verb is not None and verb not in IN_CLIENT and verb != "server"
            and not HELP & set(args) and not (verb == "watch" and "--serve" in args))


def _through(files: ServerFiles, args: list[str]) -> int:
    request = {"run": {"argv": args, "cwd": str(Path.cwd()), "env": dict(os.environ),
                       "code": code_fingerprint()}}
    for _ in range(2):  # a second time after a server that made way for newer code
        sock = connect_or_start(files, os.environ)
        with sock:
            reader = MessageReader()
            reply = _request(files, sock, reader, request)
            if reply is None or reply.get("elsewhere") == "code":
                continue
            if "elsewhere" in reply:  # the connection held open: the server stays meanwhile
                return in_process(args, str(reply["api_url"]))
            return _relay(files, sock, reader)
    raise OrchestrationError(f"the papertwin server of {files.workspace} ended as the command "
                             f"was handed to it; its log: {files.log_path}")


def _request(files: ServerFiles, sock: socket.socket, reader: MessageReader,
             request: dict[str, Any]) -> dict[str, Any] | None:
    with _standard_streams() as fds:
        try:
            send(sock, request, fds)
            return read_message(sock, reader)
        except TimeoutError:
            raise OrchestrationError(
                f"the papertwin server of {files.workspace} did not answer within "
                f"{ANSWER_SECONDS:g} s: see its log, {files.log_path}; `papertwin server "
                "stop` stops it") from None
        except (OSError, ProtocolError):
            return None


@contextlib.contextmanager
def _standard_streams() -> Iterator[list[int]]:
    """Descriptors 0, 1 and 2, or /dev/null in place of any that is closed."""
    opened: list[int] = []
    fds: list[int] = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            opened.append(os.open(os.devnull, os.O_RDWR))
            fds.append(opened[-1])
    try:
        yield fds
    finally:
        for fd in opened:
            os.close(fd)


def _relay(files: ServerFiles, sock: socket.socket, reader: MessageReader) -> int:
    """Signals to the command, until its exit code comes back."""
    def forward(number: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):
            send(sock, {"signal": number})

    previous = {number: signal.signal(number, forward) for number in FORWARDED}
    try:
        sock.settimeout(None)  # a command may run for hours (watch)
        while True:
            message = read_message(sock, reader)
            if message is None:
                raise OrchestrationError(
                    f"the papertwin server of {files.workspace} ended while the command ran; "
                    f"its log: {files.log_path}")
            if "exit" in message:
                return int(message["exit"])
    except (OSError, ProtocolError) as exc:
        raise OrchestrationError(f"lost the papertwin server of {files.workspace} ({exc}); its "
                                 f"log: {files.log_path}") from exc
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    sys.exit(main())

