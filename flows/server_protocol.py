"""What the `papertwin` client and its workspace server say to each other over the Unix socket:
one JSON object a line, the client's stdin, stdout and stderr passed beside its first line.

Client to server: {"run": {"argv", "cwd", "env", "code", "imported"}} with three descriptors,
then {"signal": N} for each signal the client is sent; {"status": true}; {"stop": true}.
Server to client: {"started": PID} then {"exit": CODE}; or {"elsewhere": WHY, "api_url": URL}
when the command must run in the client (it keeps the connection open while it does, so that
the server does not stop under it); {"status": {...}}; {"stopping": PID}.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from typing import Any

MAX_LINE = 4 * 1024 * 1024  # an environment of some kilobytes; anything this long is not ours
FDS = 3


class ProtocolError(Exception):
    """The other end said something that is not a message of this protocol."""


def send(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
    if fds:
        sent = socket.send_fds(sock, [data[:1]], list(fds))
        data = data[sent:]
    sock.sendall(data)


class MessageReader:
    """Lines received so far, and the descriptors that came with them."""

    def __init__(self) -> None:
        self.buffer = b""
        self.fds: list[int] = []
        self.closed = False

    def receive(self, sock: socket.socket, want_fds: bool = False) -> None:
        """One read from the socket (blocking or not, as the socket is set)."""
        if want_fds:
            data, fds, _, _ = socket.recv_fds(sock, 65536, FDS)
            self.fds.extend(fds)
        else:
            data = sock.recv(65536)
        if not data:
            self.closed = True
        self.buffer += data
        if len(self.buffer) > MAX_LINE:
            raise ProtocolError("message too long")

    def next_message(self) -> dict[str, Any] | None:
        line, newline, rest = self.buffer.partition(b"\n")
        if not newline:
            return None
        self.buffer = rest
        try:
            message = json.loads(line)
        except ValueError as exc:
            raise ProtocolError(f"not JSON: {exc}") from exc
        if not isinstance(message, dict):
            raise ProtocolError("not a JSON object")
        return message


def read_message(sock: socket.socket, reader: MessageReader,
                 want_fds: bool = False) -> dict[str, Any] | None:
    """The next whole message on a blocking socket (its timeout applies), None at its end."""
    while True:
        message = reader.next_message()
        if message is not None or reader.closed:
            return message
        reader.receive(sock, want_fds)
