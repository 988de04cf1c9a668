"""The workspace folder that holds all of papertwin's state for one consultation."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.fsutil import make_folder, not_writable, probe_writable

DEFAULT_WORKSPACE = "papertwin-data"
# Free space a command that writes into the workspace wants before it starts: a batch stopped
# half-way by a full disk is worse than one that never began.
MIN_FREE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def resolve(cls, root: Path | str | None = None) -> Workspace:
        """The workspace named explicitly, else $PAPERTWIN_HOME, else ./papertwin-data."""
        if root is None:
            root = os.environ.get("PAPERTWIN_HOME") or DEFAULT_WORKSPACE
        return cls(Path(root).expanduser().resolve())

    @property
    def layouts_dir(self) -> Path:
        return self.root / "layouts"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    @property
    def crops_dir(self) -> Path:
        return self.root / "crops"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def store_path(self) -> Path:
        return self.root / "papertwin.sqlite"

    @property
    def store_url(self) -> str:
        return os.environ.get("PAPERTWIN_STORE_URL") or f"sqlite:///{self.store_path}"

    def ensure(self) -> Workspace:
        for folder in (self.root, self.layouts_dir, self.archive_dir, self.crops_dir):
            make_folder(folder)
        return self

    def check_writable(self, min_free: int = MIN_FREE_BYTES) -> None:
        """Say before any work starts that a folder the command writes is read-only or full."""
        for folder in (self.root, self.layouts_dir, self.archive_dir, self.crops_dir,
                       self.cache_dir):
            make_folder(folder)
            probe_writable(folder)
            stats = os.statvfs(folder)
            if stats.f_bavail * stats.f_frsize < min_free:
                raise not_writable(folder, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
