"""The workspace's register of printed forms: each form's geometry, by form key, and the serials
issued for it, kept in the workspace's store (pipeline/store/forms.py).

A workspace made before the register moved into the store kept it as files under layouts/
(`<form key>.json` and `<form key>.serials.json`). Such files are read beside the store's rows,
and brought into the store by the next write, so an old workspace reads as it did.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import replace

from pipeline.errors import LayoutError, StoreNotWritableError, WorkspaceError
from pipeline.forms.manifest import read_layout
from pipeline.model import Questionnaire
from pipeline.records import Copy, Layout, PageCode
from pipeline.store.engine import sqlite_file
from pipeline.store.forms import (
    RegisteredForm,
    issue_serials,
    register_form,
    registered_forms,
)
from pipeline.store.store import Store
from pipeline.workspace import Workspace

__all__ = ["allocate_serials", "load_registered_layout", "pick_questionnaire", "register_layout",
           "registered_layouts", "registered_questionnaire", "serials_issued"]


def register_layout(workspace: Workspace, layout: Layout) -> None:
    """Keep the geometry (not the copies) so any page of this form key can be read later. The
    serials of the copies the layout lists count as issued here: a serial read from small print
    is checked against them, and new copies continue after them."""
    printed = [int(c.serial) for c in layout.copies if c.serial.isdigit()]
    with Store.open(workspace.ensure().store_url) as store:
        _bring_in_files(store, workspace)
        register_form(store, layout, printed)


def allocate_serials(workspace: Workspace, layout: Layout, count: int) -> list[str]:
    """Serials continue after the last ones issued for any form of the questionnaire, so no two
    of its copies share one."""
    with Store.open(workspace.ensure().store_url) as store:
        _bring_in_files(store, workspace)
        return issue_serials(store, layout, count)


def registered_layouts(workspace: Workspace, store: Store | None = None) -> dict[str, Layout]:
    """Every registered layout, with the copies issued for it: a serial read from small print
    is checked against them, so a misread digit never names a copy that was never printed.
    `store`: the workspace's store when the caller holds it open already."""
    return {key: _with_issued_copies(form)
            for key, form in _registered(workspace, store).items()}


def load_registered_layout(workspace: Workspace, form_key: str) -> Layout:
    """The form's geometry, without its copies; WorkspaceError when the form is not registered
    in this workspace."""
    form = _registered(workspace).get(form_key)
    if form is None:
        raise WorkspaceError(f"form {form_key} is not registered in {workspace.root}")
    return form.layout


def serials_issued(workspace: Workspace, form_key: str,
                   store: Store | None = None) -> frozenset[str] | None:
    """The serials issued for the form; None when the workspace does not say (a form not
    registered here, or one registered without serials, as a form printed elsewhere is): a
    serial keyed by hand is then taken as it is. `store`: the workspace's, when the caller
    holds it open already."""
    form = _registered(workspace, store).get(form_key)
    return frozenset(form.serials) if form is not None and form.ranges else None


def pick_questionnaire(layouts: dict[str, Layout], questionnaire_id: str | None) -> Questionnaire:
    """The one questionnaire registered, or the one named; its newest version wins.
    WorkspaceError when none is registered, when several are and none is named, or when the
    one named is not registered."""
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


def registered_questionnaire(workspace: Workspace, questionnaire_id: str | None,
                             store: Store | None = None
                             ) -> tuple[dict[str, Layout], Questionnaire]:
    """Every registered form and the questionnaire a command takes (--form, else the only
    one), so that the import, the export and the review app all pick the same one. `store`:
    the workspace's, when the caller holds it open already."""
    layouts = registered_layouts(workspace, store)
    return layouts, pick_questionnaire(layouts, questionnaire_id)


def _registered(workspace: Workspace, store: Store | None = None) -> dict[str, RegisteredForm]:
    """The store's forms, and those an older workspace still keeps in files only (a file of a
    form the store has is not read: the store's row holds at least as much)."""
    if store is not None:
        stored = registered_forms(store)
    else:
        with _reading(workspace) as opened:
            stored = registered_forms(opened) if opened is not None else {}
    return {**_files(workspace, skip=stored), **stored}


@contextmanager
def _reading(workspace: Workspace) -> Iterator[Store | None]:
    """The store, migrated if it can be written; on a read-only disk or database read as it is
    (export reads such a store); None while the workspace has no store yet, or when a read-only
    store is too old to read (the command's own opening of it says so)."""
    path = sqlite_file(workspace.store_url)
    if path is not None and not path.exists():
        yield None
        return
    try:
        store = Store.open(workspace.store_url)
    except StoreNotWritableError:
        try:
            store = Store.open(workspace.store_url, read_only=True)
        except StoreNotWritableError:
            yield None
            return
    with store:
        yield store


def _bring_in_files(store: Store, workspace: Workspace) -> None:
    """Register, in the store, the forms an older workspace kept as files (idempotent: the
    issued count only rises, the geometry of a form key never changes)."""
    for form in _files(workspace, skip=registered_forms(store)).values():
        register_form(store, form.layout, (n for first, last in form.ranges
                                           for n in range(first, last + 1)))


def _files(workspace: Workspace, skip: Collection[str] = ()) -> dict[str, RegisteredForm]:
    """The forms kept as files under layouts/ (a workspace from before revision 0009), but those
    in `skip` (by the file's name, `<form key>.json`, without reading it)."""
    folder = workspace.layouts_dir
    if not folder.is_dir():
        return {}
    forms = {}
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".serials.json") or path.stem in skip:
            continue
        layout = read_layout(path)
        issued = max(_issued_file(workspace, layout), _printed(layout))
        forms[layout.form_key] = RegisteredForm(replace(layout, copies=()),
                                                ((1, issued),) if issued else ())
    return forms


def _issued_file(workspace: Workspace, layout: Layout) -> int:
    path = workspace.layouts_dir / f"{layout.form_key}.serials.json"
    if not path.exists():
        return 0
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["issued"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LayoutError(f"{path}: the count of serials issued cannot be read ({exc})") from exc


def _printed(layout: Layout) -> int:
    return max((int(c.serial) for c in layout.copies if c.serial.isdigit()), default=0)


def _with_issued_copies(form: RegisteredForm) -> Layout:
    """The layout with one copy per serial issued for it."""
    layout = form.layout
    return layout.with_copies(tuple(
        Copy(serial, tuple(PageCode(layout.form_key, serial, p.page).encode()
                           for p in layout.pages))
        for serial in form.serials))

