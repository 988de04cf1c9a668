"""The workspace folder that holds all of papertwin's state for one consultation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = "papertwin-data"


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
    def store_path(self) -> Path:
        return self.root / "papertwin.sqlite"

    @property
    def store_url(self) -> str:
        return os.environ.get("PAPERTWIN_STORE_URL") or f"sqlite:///{self.store_path}"

    def ensure(self) -> Workspace:
        for folder in (self.root, self.layouts_dir, self.archive_dir, self.crops_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self
