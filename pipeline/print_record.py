"""How each form was printed, kept so that a copy can be printed again identically (a reminder).

`forms build` hands every form it registers (each variant of a mailing alike) to `keep_print`:
the template and the files it names (a logo, a choices file) are copied into the workspace
under `templates/<sha256>/`, where the hash covers the template and those files, so a later
edit of the template beside the PDF never changes what was printed; the store's `forms.template`
names the kept template and the print options. `reprint_plan` lays the form out again from them
and checks that the layout has the registered form key: a layout that came out differently
would be read with the wrong geometry, so it is an error, never a silent reprint.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pipeline.errors import TemplateError, WorkspaceError
from pipeline.forms.build import PlannedRun
from pipeline.forms.layout import FormPlan, LayoutOptions, plan_form
from pipeline.forms.sources import XLSFORM_SUFFIXES, load_questionnaire
from pipeline.fsutil import atomic_copy, make_folder, sha256_file
from pipeline.model import Questionnaire
from pipeline.store.forms import form_template, record_template
from pipeline.store.store import Store
from pipeline.workspace import Workspace

TEMPLATES_DIR = "templates"
PRINT_RECORD = "papertwin.print/1"


@dataclass(frozen=True)
class Reprint:
    """A registered form laid out again from its kept template, ready for print_copies."""

    plan: FormPlan
    duplex: bool
    template: Path  # the kept template, in the workspace


def keep_print(workspace: Workspace, run: PlannedRun, options: LayoutOptions | None,
               form_key: str) -> Path:
    """Keep the run's template (and the files it names) in the workspace and record in the store
    how the form was printed (`options` as given to the run); returns the kept template's
    path."""
    kept = _keep_files(workspace.root, run.template, referenced_files(run.template,
                                                                      run.questionnaire))
    used = _effective(run, options)
    record = {"schema": PRINT_RECORD, "template": kept.relative_to(workspace.root).as_posix(),
              "options": {f.name: _json_value(getattr(used, f.name))
                          for f in fields(LayoutOptions)},
              "duplex": run.duplex}
    with Store.open(workspace.store_url) as store:
        record_template(store, form_key, record)
    return kept


def reprint_plan(workspace: Workspace, store: Store, form_key: str) -> Reprint:
    """The form laid out again as it was printed; WorkspaceError when the workspace did not keep
    how it was printed, TemplateError when the layout now comes out differently."""
    record = form_template(store, form_key)
    if record is None:
        raise WorkspaceError(
            f"form {form_key} was registered without its template (printed by another system, or "
            "built before papertwin kept templates): build the mailing again with `papertwin "
            "forms build` to print its copies from papertwin")
    template = workspace.root / str(record["template"])
    if not template.is_file():
        raise WorkspaceError(f"the template form {form_key} was printed from, {template}, is "
                             "missing from the workspace: restore the workspace's templates "
                             "folder from a backup")
    options = _options(record.get("options", {}))
    loaded = load_questionnaire(template)
    plan = plan_form(loaded.questionnaire, options, f"template {template}")
    if plan.layout.form_key != form_key:
        raise TemplateError(
            f"template {template} now lays out as form {plan.layout.form_key}, not as the form "
            f"{form_key} that was printed: this papertwin lays the form out differently from the "
            "one that printed it, so a copy printed now could not be read with the registered "
            "geometry; print reminders with the papertwin version that printed the mailing")
    return Reprint(plan, bool(record.get("duplex", False)), template)


def referenced_files(template: Path, questionnaire: Questionnaire) -> tuple[Path, ...]:
    """The files a template names besides itself: its logos, an XLSForm's choices files."""
    logos = [Path(text) for _, text in questionnaire.printing.logo.texts if text.strip()]
    choices: Iterable[Path] = ()
    if template.suffix.lower() in XLSFORM_SUFFIXES:
        from pipeline.forms.template_xlsform import choice_files

        choices = choice_files(template)
    return tuple(dict.fromkeys(path.resolve() for path in (*logos, *choices)))


def _keep_files(root: Path, template: Path, others: Iterable[Path]) -> Path:
    """Copy the template and the files it names under templates/<hash>/, where they keep their
    places relative to one another; returns the kept template. The same files are kept once."""
    template = template.resolve()
    files = [template, *others]
    base = Path(os.path.commonpath([str(path.parent) for path in files]))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(sha256_file(path).encode("ascii") + b"\0")
    folder = root / TEMPLATES_DIR / digest.hexdigest()
    for path in files:
        target = folder / path.relative_to(base)
        if not target.is_file():
            make_folder(target.parent)
            atomic_copy(path, target)
    return folder / template.relative_to(base)


def _effective(run: PlannedRun, options: LayoutOptions | None) -> LayoutOptions:
    """The options the form was laid out with, the languages as printed (not None)."""
    return replace(options or LayoutOptions(), languages=run.plan.languages)


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _options(given: Mapping[str, Any]) -> LayoutOptions:
    """LayoutOptions as recorded: options it no longer knows are left out, lists as tuples."""
    known = {f.name for f in fields(LayoutOptions)}
    values: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value
                              for name, value in given.items() if name in known}
    return LayoutOptions(**values)
