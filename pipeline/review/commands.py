"""`papertwin review` and `papertwin users`: serving the app, and who may use it."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import socket
import sys

from pipeline.errors import UsageError
from pipeline.review.accounts import add_user, list_users, set_disabled, set_password
from pipeline.review.hosts import served_hosts
from pipeline.store.store import Store
from pipeline.terminal import shown
from pipeline.workspace import Workspace


def run_review(args: argparse.Namespace, workspace: Workspace) -> int:
    import uvicorn

    from pipeline.review.app import create_app
    from pipeline.review.web import Settings

    loopback = _is_loopback(args.host)
    if not loopback and args.insecure_cookies:
        print("papertwin: warning: session cookies over plain HTTP beyond this machine can be "
              "read by anyone on the network", file=sys.stderr)
    allowed = served_hosts(args.host, args.port, args.allowed_host)
    # Migrate, and say now if it cannot open.
    with Store.open(workspace.ensure().store_url) as store:
        if not list_users(store):
            print("papertwin: warning: nobody can log in yet: add someone with "
                  "'papertwin users add NAME --role supervisor'", file=sys.stderr)
    _check_free(args.host, args.port)
    app = create_app(Settings(workspace, secure_cookies=not args.insecure_cookies,
                              allowed_hosts=allowed))
    print(f"papertwin review: http://{shown(args.host)}:{args.port}/ (Ctrl-C stops it); "
          f"answers to {', '.join(shown(host) for host in allowed)}")
    try:
        # Proxy headers from a proxy on this machine (or $FORWARDED_ALLOW_IPS): the scheme the
        # browser used, which the Origin check compares.
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                    proxy_headers=True, server_header=False)
    except SystemExit as exc:  # uvicorn's own exit codes would clash with papertwin's
        raise UsageError(f"the review app could not be served on {args.host}:{args.port} "
                         f"(uvicorn exited with {exc.code}): see the message above") from exc
    return 0


def _check_free(host: str, port: int) -> None:
    """Say plainly, before starting, that the port is taken or the address is not this
    machine's."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UsageError(f"cannot serve the review app on {host}:{port}: {exc.strerror}; "
                         "choose another with --port (or --host)") from exc


def run_users(args: argparse.Namespace, workspace: Workspace) -> int:
    with Store.open(workspace.ensure().store_url) as store:
        if args.users_verb == "add":
            user = add_user(store, args.name, _password(args.password_stdin), args.role)
            print(f"added {shown(user.name)} ({user.role})")
        elif args.users_verb == "password":
            set_password(store, args.name, _password(args.password_stdin))
            print(f"new password for {shown(args.name)}; their sessions have ended")
        elif args.users_verb == "list":
            for user in list_users(store):
                state = " (disabled)" if user.disabled else ""
                print(f"{shown(user.name)}\t{user.role}{state}\tsince {user.created_at}")
        elif args.users_verb in ("disable", "enable"):
            set_disabled(store, args.name, args.users_verb == "disable")
            print(f"{shown(args.name)} {args.users_verb}d")
        else:
            raise UsageError(f"unknown users action {args.users_verb}")
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for a password: give --password-stdin and the "
                         "password on stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ: nothing was changed")
    return first


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
