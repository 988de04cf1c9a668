"""The layout manifest (layout.json, schema papertwin.layout/1): where every box is on every page.

Units are PDF points, origin top-left, y down. The form key hashes the geometry, so a reprinted
form whose boxes moved gets a new key and is never read with the old geometry.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.errors import LayoutError
from pipeline.fsutil import atomic_write_text
from pipeline.model import Questionnaire
from pipeline.records import Box, Copy, FieldBox, Layout, Mark, PageCodes, PageLayout

SCHEMA = "papertwin.layout/1"

def geometry_digest(
    page_size: tuple[float, float], pages: tuple[PageLayout, ...], questionnaire: Questionnaire
) -> str:
    """A hash of everything a reader relies on: page size, boxes, and what each box means."""
    canonical = {
        "schema": SCHEMA,
        "page_size_pt": _round_all(page_size),
        "pages": [_page_to_dict(p) for p in pages],
        "questionnaire": questionnaire.to_dict(),
    }
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def make_form_key(questionnaire: Questionnaire, digest: str, variant: str = "") -> str:
    """Readable at a glance (id, version, lp for large print), unique by the geometry's hash."""
    middle = f"-{variant}" if variant else ""
    return f"{questionnaire.id}-v{questionnaire.version}{middle}-{digest[:10]}"


def layout_to_dict(layout: Layout) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "form_key": layout.form_key,
        "title": layout.title,
        "page_size_pt": _round_all(layout.page_size),
        "pages": [_page_to_dict(p) for p in layout.pages],
        "copies": [{"serial": c.serial, "codes": list(c.codes)} for c in layout.copies],
        "languages": list(layout.languages),
        "large_print": layout.large_print,
        "cover_letters": layout.cover_letters,
        **({"letter_pages": layout.letter_pages} if layout.cover_letters else {}),
        **({"duplex": True, "padding_pages": layout.padding_pages} if layout.duplex else {}),
        **({"page_codes": _page_codes_to_dict(layout.page_codes)} if layout.page_codes else {}),
        "questionnaire": layout.questionnaire.to_dict(),
    }


def _page_codes_to_dict(codes: PageCodes) -> dict[str, Any]:
    return {"system": codes.system, "symbology": codes.symbology, "pages": dict(codes.pages)}


def _page_codes_from_dict(data: Any) -> PageCodes | None:
    if data is None:
        return None
    return PageCodes(symbology=str(data["symbology"]),
                     pages=tuple((str(k), int(v)) for k, v in data["pages"].items()),
                     system=str(data.get("system", "")))


def layout_from_dict(data: dict[str, Any], source: str = "layout") -> Layout:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise LayoutError(f"{source}: schema is {found!r}, papertwin reads {SCHEMA!r}")
    try:
        pages = tuple(
            PageLayout(
                page=int(p["page"]),
                marks=tuple(Mark(_box(m["box"]), m.get("kind", "solid")) for m in p["marks"]),
                barcode=_box(p["barcode"]["box"]),
                fields=tuple(
                    FieldBox(
                        question=str(f["question"]),
                        kind=f["kind"],
                        box=_box(f["box"]),
                        value=f.get("value"),
                        index=f.get("index"),
                    )
                    for f in p["fields"]
                ),
            )
            for p in data["pages"]
        )
        return Layout(
            form_key=str(data["form_key"]),
            title=str(data["title"]),
            page_size=(float(data["page_size_pt"][0]), float(data["page_size_pt"][1])),
            pages=pages,
            questionnaire=Questionnaire.from_dict(data["questionnaire"]),
            copies=tuple(
                Copy(serial=str(c["serial"]), codes=tuple(c["codes"]))
                for c in data.get("copies", [])
            ),
            languages=tuple(data.get("languages") or ("en",)),
            large_print=bool(data.get("large_print", False)),
            cover_letters=bool(data.get("cover_letters", False)),
            page_codes=_page_codes_from_dict(data.get("page_codes")),
            # a layout written before letters could be longer had one page of letter
            letter_pages=int(data.get("letter_pages", 1 if data.get("cover_letters") else 0)),
            padding_pages=int(data.get("padding_pages", 0)),
            duplex=bool(data.get("duplex", False)),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise LayoutError(f"{source}: malformed layout manifest ({exc!r})") from exc


def write_layout(layout: Layout, path: Path) -> None:
    atomic_write_text(path, json.dumps(layout_to_dict(layout), indent=1, ensure_ascii=False))


def read_layout(path: Path) -> Layout:
    if not path.is_file():
        raise LayoutError(f"layout manifest {path} not found: build the form first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(f"layout manifest {path} is not valid JSON: {exc}") from exc
    return layout_from_dict(data, source=str(path))


def _page_to_dict(page: PageLayout) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for f in page.fields:
        entry: dict[str, Any] = {"question": f.question, "kind": f.kind}
        if f.value is not None:
            entry["value"] = f.value
        if f.index is not None:
            entry["index"] = f.index
        entry["box"] = _round_all(f.box)
        fields.append(entry)
    return {
        "page": page.page,
        "marks": [{"box": _round_all(m.box), "kind": m.kind} for m in page.marks],
        "barcode": {"box": _round_all(page.barcode)},
        "fields": fields,
    }


def _box(values: Any) -> Box:
    x0, y0, x1, y1 = (float(v) for v in values)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty box {values}")
    return (x0, y0, x1, y1)


def _round_all(values: tuple[float, ...]) -> list[float]:
    return [round(v, 2) for v in values]
