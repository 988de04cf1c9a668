"""Writing the unified dataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.fsutil import atomic_write_text

FORMATS = ("csv",)


def write_dataset(frame: pd.DataFrame, path: Path, fmt: str = "csv") -> Path:
    if fmt != "csv":
        raise ValueError(f"unsupported format {fmt}")
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    return path
