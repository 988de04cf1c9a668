"""Which host names the review app answers to, and whether a form comes from its own origin.

A page fetched under a name the app is not served as (a DNS name someone points at this
machine: "DNS rebinding") runs in that name's origin, where its script may read what the app
shows; so the app answers only to the names it is served as: the address it listens on and this
machine's loopback names, each with its port, and the names given with `--allowed-host` (the one
people use behind a TLS proxy). A form's Origin must be the address the app is served at in
scheme, name and port; behind a proxy the scheme is the one the proxy forwards
(X-Forwarded-Proto, applied by uvicorn's proxy headers).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from pipeline.errors import UsageError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
DEFAULT_PORTS = {"http": 80, "https": 443}

HostPort = tuple[str, int | None]  # name as in a URL (IPv6 in brackets), lower case; port


def served_hosts(host: str, port: int, allowed: Sequence[str] = ()) -> tuple[str, ...]:
    """The names `papertwin review --host HOST --port PORT` answers to: HOST (unless it is every
    address) and the loopback names, on PORT; and those allowed as given (any port unless one
    is given)."""
    for given in allowed:
        if split_host(given) is None:
            raise UsageError(f"--allowed-host {given!r}: give a host name or address as people "
                             "type it, with :PORT if only that port (review.example.org, "
                             "10.0.0.5:8800)")
    listened = [] if _every_address(host) else [
        (f"[{host}]" if ":" in host and not host.startswith("[") else host).lower()]
    names = dict.fromkeys([*listened, *LOOPBACK_NAMES])
    return tuple(dict.fromkeys([*(f"{n}:{port}" for n in names), *allowed]))


def _every_address(host: str) -> bool:
    """0.0.0.0 or ::, which is no name anybody asks for."""
    try:
        return not host or ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def split_host(text: str) -> HostPort | None:
    """A Host header or an allowed name as (name, port); None when it is not one."""
    text = text.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[:end + 1], text[end + 1:]
    else:
        name, colon, port = text.partition(":")
        rest = colon + port
    if not name or any(c.isspace() or c in "/?#@" for c in name):
        return None
    if not rest:
        return name, None
    if rest[0] != ":" or not rest[1:].isdigit() or not 0 < int(rest[1:]) < 65536:
        return None
    return name, int(rest[1:])


def host_allowed(host_header: str, scheme: str, allowed: Sequence[str]) -> bool:
    """An allowed name without a port matches that name on any port; with one, on that port
    only (a Host without a port is on the scheme's default port)."""
    found = split_host(host_header)
    if found is None:
        return False
    name, port = found
    port = port if port is not None else DEFAULT_PORTS.get(scheme)
    for entry in allowed:
        wanted = split_host(entry)
        if wanted is not None and wanted[0] == name and wanted[1] in (None, port):
            return True
    return False


def same_origin(origin: str, host_header: str, scheme: str) -> bool:
    """The Origin a browser sent is the scheme, name and port the app was asked at."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    asked, given = split_host(host_header), split_host(parts.netloc)
    if parts.scheme != scheme or asked is None or given is None or asked[0] != given[0]:
        return False
    default = DEFAULT_PORTS.get(scheme)
    return (asked[1] or default) == (given[1] or default)
