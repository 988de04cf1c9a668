"""Publishing a form into a workspace: copies printed on serials the workspace issues, the layout
registered so every page can be read later, and the recipients' contacts kept in the store.

The form makers (pipeline/forms/) know nothing of the workspace; the register and the contacts
are the store's. This module puts the two together, and is what the `generate_forms` and
`import_form` flows call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.forms.build import BuiltForm, plan_run, print_copies
from pipeline.forms.layout import LayoutOptions
from pipeline.forms.manifest import write_layout
from pipeline.forms.quexf import LAYOUT_NAME, banding_layout
from pipeline.forms.recipients import Recipient
from pipeline.forms.variants import VariantRun, plan_variants
from pipeline.mailing import BuiltMailing, print_mailing
from pipeline.print_record import keep_print
from pipeline.records import Layout
from pipeline.registry import allocate_serials, register_layout
from pipeline.store.store import Store
from pipeline.workspace import Workspace

__all__ = ["BuiltMailing", "ImportedForm", "build_forms", "import_banding"]


@dataclass(frozen=True)
class ImportedForm:
    layout_path: Path
    layout: Layout
    warnings: tuple[str, ...] = ()


def build_forms(template: Path, copies: int | None, out_dir: Path, workspace: Workspace,
                options: LayoutOptions | None = None,
                recipients_file: Path | None = None, duplex: bool = False,
                printed_on: date | None = None,
                addressed: Sequence[Recipient] | None = None) -> BuiltForm | BuiltMailing:
    """Print N anonymous copies, or one addressed copy per recipient, and register the layout.

    Recipients who ask for different variants (their `language` and `format` columns) make a
    mailing of several runs, each printed by this same path with `addressed`, the recipients of
    its variant (pipeline/mailing.py). `duplex` (or the template's own setting) pads each copy to
    whole sheets; `printed_on` is the date the cover letters carry, today unless given.
    """
    if recipients_file is not None:
        if copies is not None:
            raise UsageError("give --copies or --recipients, not both")
        runs = plan_variants(template, recipients_file, options)
        if len(runs) > 1:
            def print_run(one: VariantRun, folder: Path) -> BuiltForm:
                built = build_forms(template, None, folder, workspace, one.variant.options, None,
                                    duplex, printed_on, one.recipients)
                if not isinstance(built, BuiltForm):  # one variant's recipients make one form
                    raise TypeError(f"variant {one.variant.name} printed as a mailing")
                return built
            return print_mailing(runs, out_dir, print_run)
        options, addressed, recipients_file = runs[0].variant.options, runs[0].recipients, None
    run = plan_run(template, copies, options, recipients_file, duplex, addressed)
    serials = allocate_serials(workspace, run.plan.layout, run.copies)
    built = print_copies(run, serials, out_dir, printed_on)
    if run.recipients is not None:
        _keep_contacts(workspace, built.layout.form_key, serials, run.recipients)
    register_layout(workspace, built.layout)
    keep_print(workspace, run, options, built.layout.form_key)
    return built


def import_banding(banding: Path, out_dir: Path, workspace: Workspace,
                   form_id: str | None = None) -> ImportedForm:
    """Write layout.json for a queXF form into out_dir and register it in the workspace."""
    layout, warnings = banding_layout(banding, form_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    layout_path = out_dir / LAYOUT_NAME
    write_layout(layout, layout_path)
    register_layout(workspace, layout)
    return ImportedForm(layout_path, layout, tuple(warnings))


def _keep_contacts(workspace: Workspace, form_key: str, serials: Sequence[str],
                   recipients: Sequence[Recipient]) -> None:
    """The store keeps its own copy of the contacts (its contacts table, apart from the answers),
    so an export that asks for them does not depend on contacts.csv staying beside the PDF."""
    with Store.open(workspace.store_url) as store:
        store.record_contacts(form_key, {serial: recipient.row for serial, recipient
                                         in zip(serials, recipients, strict=True)})
