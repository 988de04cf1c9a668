"""Serving the review app: the checks made before it starts, and the server itself.

What a person is told about it (warnings, the address it answers on) is printed by the command
line (pipeline/cli/present.py); this module only decides and serves.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.errors import UsageError
from pipeline.review.accounts import list_users
from pipeline.review.hosts import served_hosts
from pipeline.store.store import Store
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from fastapi import FastAPI

INSECURE_COOKIES = ("session cookies over plain HTTP beyond this machine can be read by anyone "
                    "on the network")
NOBODY_CAN_LOG_IN = ("nobody can log in yet: add someone with 'papertwin users add NAME --role "
                     "supervisor'")


def review_warnings(workspace: Workspace, host: str, insecure_cookies: bool) -> list[str]:
    """What a person should know before the app starts. Opens (and migrates) the store, so a
    store that cannot open is said now, not at the first request."""
    warnings = []
    if insecure_cookies and not is_loopback(host):
        warnings.append(INSECURE_COOKIES)
    with Store.open(workspace.ensure().store_url) as store:
        if not list_users(store):
            warnings.append(NOBODY_CAN_LOG_IN)
    return warnings


def review_app(workspace: Workspace, host: str, port: int, allowed_host: Sequence[str],
               insecure_cookies: bool) -> tuple[FastAPI, tuple[str, ...]]:
    """The app, and the host names it answers to; UsageError when the port is taken or the
    address is not this machine's."""
    from pipeline.review.app import create_app
    from pipeline.review.web import Settings

    allowed = served_hosts(host, port, allowed_host)
    check_free(host, port)
    app = create_app(Settings(workspace, secure_cookies=not insecure_cookies,
                              allowed_hosts=allowed))
    return app, allowed


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve until Ctrl-C."""
    import uvicorn

    try:
        # Proxy headers from a proxy on this machine (or $FORWARDED_ALLOW_IPS): the scheme the
        # browser used, which the Origin check compares.
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True,
                    server_header=False)
    except SystemExit as exc:  # uvicorn's own exit codes would clash with papertwin's
        raise UsageError(f"the review app could not be served on {host}:{port} "
                         f"(uvicorn exited with {exc.code}): see the message above") from exc


def check_free(host: str, port: int) -> None:
    """Say plainly, before starting, that the port is taken or the address is not this
    machine's."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UsageError(f"cannot serve the review app on {host}:{port}: {exc.strerror}; "
                         "choose another with --port (or --host)") from exc


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
