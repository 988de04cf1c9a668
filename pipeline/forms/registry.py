"""The workspace's register of printed layouts, by form key, and the serials issued for each."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from pipeline.errors import WorkspaceError
from pipeline.forms.manifest import Copy, Layout, read_layout, write_layout
from pipeline.forms.pagecode import PageCode
from pipeline.fsutil import atomic_write_text
from pipeline.model import Questionnaire
from pipeline.workspace import Workspace

SERIAL_DIGITS = 6


def _layout_path(workspace: Workspace, form_key: str) -> Path:
    return workspace.layouts_dir / f"{form_key}.json"


def _serials_path(workspace: Workspace, form_key: str) -> Path:
    return workspace.layouts_dir / f"{form_key}.serials.json"


def register_layout(workspace: Workspace, layout: Layout) -> Path:
    """Keep the geometry (not the copies) so any page of this form key can be read later. The
    serials of the copies the layout lists count as issued here: a serial read from small print
    is checked against them, and new copies continue after them."""
    workspace.ensure()
    path = _layout_path(workspace, layout.form_key)
    write_layout(replace(layout, copies=()), path)
    printed = [int(c.serial) for c in layout.copies if c.serial.isdigit()]
    if printed:
        serials = _serials_path(workspace, layout.form_key)
        issued = (int(json.loads(serials.read_text(encoding="utf-8"))["issued"])
                  if serials.exists() else 0)
        if max(printed) > issued:
            atomic_write_text(serials, json.dumps({"issued": max(printed)}))
    return path


def allocate_serials(workspace: Workspace, layout: Layout, count: int) -> list[str]:
    """Serials continue from the last ones issued for this form, so no two copies share one."""
    workspace.ensure()
    path = _serials_path(workspace, layout.form_key)
    issued = 0
    if path.exists():
        issued = int(json.loads(path.read_text(encoding="utf-8"))["issued"])
    first, last = issued + 1, issued + count
    if last >= 10**SERIAL_DIGITS:
        raise WorkspaceError(f"form {layout.form_key} has run out of {SERIAL_DIGITS}-digit serials")
    atomic_write_text(path, json.dumps({"issued": last}))
    return [str(n).zfill(SERIAL_DIGITS) for n in range(first, last + 1)]


def registered_layouts(workspace: Workspace) -> dict[str, Layout]:
    """Every registered layout, with the copies issued for it: a serial read from small print
    is checked against them, so a misread digit never names a copy that was never printed."""
    if not workspace.layouts_dir.is_dir():
        return {}
    layouts = {}
    for path in sorted(workspace.layouts_dir.glob("*.json")):
        if path.name.endswith(".serials.json"):
            continue
        layout = read_layout(path)
        layouts[layout.form_key] = _with_issued_copies(workspace, layout)
    return layouts


def _with_issued_copies(workspace: Workspace, layout: Layout) -> Layout:
    """The layout with one copy per serial issued for it (serials run from 000001)."""
    path = _serials_path(workspace, layout.form_key)
    if layout.copies or not path.exists():
        return layout
    issued = int(json.loads(path.read_text(encoding="utf-8"))["issued"])
    return layout.with_copies(tuple(
        Copy(serial, tuple(PageCode(layout.form_key, serial, p.page).encode()
                           for p in layout.pages))
        for serial in (str(n).zfill(SERIAL_DIGITS) for n in range(1, issued + 1))))


def load_registered_layout(workspace: Workspace, form_key: str) -> Layout:
    path = _layout_path(workspace, form_key)
    if not path.exists():
        raise WorkspaceError(f"form {form_key} is not registered in {workspace.root}")
    return read_layout(path)


def pick_questionnaire(layouts: dict[str, Layout], questionnaire_id: str | None) -> Questionnaire:
    """The one questionnaire registered, or the one named; its newest version wins."""
    by_id: dict[str, Questionnaire] = {}
    for layout in layouts.values():
        by_id[layout.questionnaire.id] = layout.questionnaire
    if not by_id:
        raise WorkspaceError("no form is registered in this workspace: run 'papertwin forms build'")
    if questionnaire_id is None:
        if len(by_id) > 1:
            raise WorkspaceError(
                f"this workspace holds several questionnaires ({', '.join(sorted(by_id))}): "
                "name one with --form"
            )
        return next(iter(by_id.values()))
    if questionnaire_id not in by_id:
        raise WorkspaceError(
            f"questionnaire '{questionnaire_id}' is not registered here "
            f"(registered: {', '.join(sorted(by_id))})"
        )
    return by_id[questionnaire_id]


def registered_questionnaire(workspace: Workspace,
                             questionnaire_id: str | None) -> tuple[dict[str, Layout],
                                                                    Questionnaire]:
    """Every registered form and the questionnaire a command takes (--form, else the only
    one), so that the import, the export and the review app all pick the same one."""
    layouts = registered_layouts(workspace)
    return layouts, pick_questionnaire(layouts, questionnaire_id)
