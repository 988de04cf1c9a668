"""The layout manifest (layout.json, schema papertwin.layout/1): where every box is on every page.

Units are PDF points, origin top-left, y down. The form key hashes the geometry, so a reprinted
form whose boxes moved gets a new key and is never read with the old geometry.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.errors import LayoutError
from pipeline.fsutil import atomic_write_text
from pipeline.model import Questionnaire
from pipeline.records import (
    LAYOUT_SCHEMA,
    Layout,
    PageLayout,
    layout_from_dict,
    layout_to_dict,
    page_layout_to_dict,
    round_all,
)


def geometry_digest(
    page_size: tuple[float, float], pages: tuple[PageLayout, ...], questionnaire: Questionnaire
) -> str:
    """A hash of everything a reader relies on: page size, boxes, and what each box means."""
    canonical = {
        "schema": LAYOUT_SCHEMA,
        "page_size_pt": round_all(page_size),
        "pages": [page_layout_to_dict(p) for p in pages],
        "questionnaire": questionnaire.to_dict(),
    }
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def make_form_key(questionnaire: Questionnaire, digest: str, variant: str = "") -> str:
    """Readable at a glance (id, version, lp for large print), unique by the geometry's hash."""
    middle = f"-{variant}" if variant else ""
    return f"{questionnaire.id}-v{questionnaire.version}{middle}-{digest[:10]}"


def write_layout(layout: Layout, path: Path) -> None:
    """Write the manifest as JSON (papertwin.layout/1), replacing any file at `path` atomically."""
    atomic_write_text(path, json.dumps(layout_to_dict(layout), indent=1, ensure_ascii=False))


def read_layout(path: Path) -> Layout:
    """The layout a manifest file holds; LayoutError, naming the file, when it is missing, not
    JSON or not a manifest papertwin reads."""
    if not path.is_file():
        raise LayoutError(f"layout manifest {path} not found: build the form first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(f"layout manifest {path} is not valid JSON: {exc}") from exc
    return layout_from_dict(data, source=str(path))


