"""Where a workspace's papertwin server keeps its socket, lock, log and state, and what makes a
server fit to run a command: the code it loaded and the environment it loaded it under.

Light on purpose (standard library only): the `papertwin` client imports it on every command.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import OrchestrationError

RUN_DIR = "run"
SOCKET_NAME = "papertwin.sock"
SUN_PATH_MAX = 107  # bytes of a Unix socket's path, its final NUL aside (Linux: 108)
DEFAULT_IDLE_SECONDS = 1800.0
IDLE_SETTING = "PAPERTWIN_SERVER_IDLE_SECONDS"
SWITCH_SETTING = "PAPERTWIN_SERVER"

# The environment a server's modules read when they were imported (Prefect's settings above
# all): a command whose values differ runs in a process of its own instead. PREFECT_API_URL is
# the server's own; PAPERTWIN_HOME names the workspace and the server settings are the
# client's, all read per command.
IMPORT_NAMES = frozenset({"PATH", "HOME", "TMPDIR", "LANG", "LANGUAGE", "TESSDATA_PREFIX",
                          "VIRTUAL_ENV"})
IMPORT_PREFIXES = ("PREFECT_", "PAPERTWIN_", "PYTHON", "LC_", "OMP_", "OPENBLAS_", "MKL_",
                   "DASK_", "OPENCV_")
PER_COMMAND = frozenset({"PREFECT_API_URL", "PAPERTWIN_HOME", SWITCH_SETTING, IDLE_SETTING})


@dataclass(frozen=True)
class ServerFiles:
    """The files of one workspace's server, all under WORKSPACE/run/ but the socket when the
    workspace's path is too long for one (then in a private folder under /tmp)."""

    workspace: Path

    @property
    def run_dir(self) -> Path:
        return self.workspace / RUN_DIR

    @property
    def lock_path(self) -> Path:
        return self.run_dir / "server.lock"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "server.log"

    @property
    def state_path(self) -> Path:
        return self.run_dir / "server.json"

    @property
    def prefect_dir(self) -> Path:
        return self.workspace / "prefect"

    @property
    def socket_path(self) -> Path:
        inside = self.run_dir / SOCKET_NAME
        if len(os.fsencode(inside)) <= SUN_PATH_MAX:
            return inside
        key = hashlib.sha256(os.fsencode(self.workspace)).hexdigest()[:32]
        return private_tmp_dir() / f"{key}.sock"


def private_tmp_dir() -> Path:
    """A folder of this user's alone under the system's temporary folder (not $TMPDIR, whose
    path may be as long), made 0700 and checked: another user able to connect to the socket
    could run commands as this one."""
    folder = Path("/tmp") / f"papertwin-{os.getuid()}"  # noqa: S108 - checked private below
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise OrchestrationError(f"cannot make the papertwin server's folder {folder}: {exc}") \
            from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() \
            or stat.S_IMODE(info.st_mode) & 0o077:
        raise OrchestrationError(
            f"{folder} is not a private folder of this user's: remove it, or use a workspace "
            "with a shorter path")
    return folder


def import_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The part of an environment that modules read at import (see IMPORT_NAMES)."""
    return {name: value for name, value in env.items()
            if name not in PER_COMMAND
            and (name in IMPORT_NAMES or name.startswith(IMPORT_PREFIXES))}


def code_fingerprint() -> str:
    """The interpreter and every source file of pipeline/ and flows/ (path, size, time): a
    server that loaded other code than the client would run is replaced."""
    import flows
    import pipeline

    digest = hashlib.sha256(os.fsencode(sys.executable))
    for package in (pipeline, flows):
        for folder in package.__path__:
            for path in sorted(_sources(folder)):
                info = Path(path).stat()
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _sources(folder: str) -> list[str]:
    found: list[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                found.extend(_sources(entry.path))
            elif entry.name.endswith(".py"):
                found.append(entry.path)
    return found


def idle_seconds(env: Mapping[str, str]) -> float:
    """PAPERTWIN_SERVER_IDLE_SECONDS, else 30 minutes."""
    text = env.get(IDLE_SETTING, "")
    try:
        value = float(text) if text else DEFAULT_IDLE_SECONDS
    except ValueError:
        return DEFAULT_IDLE_SECONDS
    return value if value > 0 else DEFAULT_IDLE_SECONDS


def server_wanted(env: Mapping[str, str]) -> bool:
    """PAPERTWIN_SERVER=off (or 0, no, false) runs every command in a process of its own."""
    return env.get(SWITCH_SETTING, "").strip().lower() not in ("off", "0", "no", "false")
