"""forms build and forms preview: template in, print-ready PDF and layout manifest out."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.forms.layout import FormPlan, LayoutOptions, plan_form
from pipeline.forms.letter import Letters, plan_letters
from pipeline.forms.manifest import Copy, Layout, write_layout
from pipeline.forms.pagecode import PageCode
from pipeline.forms.printorder import print_order
from pipeline.forms.recipients import Recipient, read_recipients, write_contacts
from pipeline.forms.registry import allocate_serials, register_layout
from pipeline.forms.render import letter_design, render_pdf
from pipeline.forms.sources import XLSFORM_SUFFIXES, YAML_SUFFIXES, load_questionnaire
from pipeline.fsutil import atomic_writer
from pipeline.model import Questionnaire
from pipeline.programs.poppler import render_pngs
from pipeline.store.store import Store
from pipeline.workspace import Workspace

PDF_NAME = "form.pdf"
LAYOUT_NAME = "layout.json"
CONTACTS_NAME = "contacts.csv"
MAX_COPIES = 1_000_000
PART_COPIES = 1000
PART_NAME = "form-part-{number:03d}.pdf"
PART_GLOB = "form-part-[0-9][0-9][0-9].pdf"
SPECIMEN_SERIAL = "000000"
PREVIEW_RECIPIENTS = 3  # addressed copies a preview shows: enough to see how names differ


@dataclass(frozen=True)
class BuiltForm:
    pdf_paths: tuple[Path, ...]  # form.pdf, or the parts of a long run in order
    layout_path: Path
    layout: Layout
    contacts_path: Path | None = None
    warnings: tuple[str, ...] = ()

    @property
    def pdf_path(self) -> Path:
        return self.pdf_paths[0]


def build_forms(template: Path, copies: int | None, out_dir: Path, workspace: Workspace,
                options: LayoutOptions | None = None,
                recipients_file: Path | None = None, duplex: bool = False,
                printed_on: date | None = None) -> BuiltForm:
    """Print N anonymous copies, or one addressed copy per recipient, and register the layout.

    `duplex` (or the template's own setting) pads each copy to whole sheets; `printed_on` is the
    date the cover letters carry, today unless given.
    """
    recipients: list[Recipient] | None = None
    if recipients_file is not None:
        if copies is not None:
            raise UsageError("give --copies or --recipients, not both")
        recipients = read_recipients(recipients_file)
        copies = len(recipients)
    if copies is None or not 1 <= copies <= MAX_COPIES:
        raise UsageError(f"--copies must be between 1 and {MAX_COPIES}, not {copies}")
    loaded = load_questionnaire(template)
    plan = plan_form(loaded.questionnaire, options, f"template {template}")
    duplex = duplex or loaded.questionnaire.printing.duplex
    serials = allocate_serials(workspace, plan.layout, copies)
    copy_list = tuple(_copy(plan, serial) for serial in serials)
    letters = None if recipients is None else plan_letters(
        letter_design(plan, printed_on), recipients, serials)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in form_pdfs(out_dir):
        stale.unlink()  # never leave parts of an earlier build beside this one
    pdf_paths = _write_pdfs(plan, copy_list, out_dir, recipients, letters, duplex)
    layout_path = out_dir / LAYOUT_NAME
    layout = _with_print_order(plan.layout.with_copies(copy_list), letters, duplex)
    write_layout(layout, layout_path)
    contacts_path = None
    if recipients is not None:
        contacts_path = out_dir / CONTACTS_NAME
        write_contacts(contacts_path, serials, recipients)
        _store_contacts(workspace, layout.form_key, serials, recipients)
    register_layout(workspace, layout)
    return BuiltForm(pdf_paths, layout_path, layout, contacts_path,
                     _warnings(template, loaded.questionnaire, loaded.warnings + plan.warnings,
                               letters))


def _with_print_order(layout: Layout, letters: Letters | None, duplex: bool) -> Layout:
    """The layout with each copy's print order: what the simulator and a print shop count on."""
    order = print_order(letters.pages if letters is not None else 0, len(layout.pages), duplex)
    return replace(layout, cover_letters=letters is not None, letter_pages=order.letter_pages,
                   padding_pages=order.padding_pages, duplex=duplex)


def _warnings(template: Path, questionnaire: Questionnaire, found: tuple[str, ...],
              letters: Letters | None) -> tuple[str, ...]:
    """The template's and the layout's warnings, then what a posted form lacks, then the
    recipients whose address does not fit the window."""
    postal: tuple[str, ...] = ()
    if not questionnaire.returns.address:
        suffix = template.suffix.lower()
        where = ("set papertwin::return_address in the settings sheet"
                 if suffix in XLSFORM_SUFFIXES else "set returns.address in the template"
                 if suffix in YAML_SUFFIXES else "give the data collector's address")
        postal = (f"template {template}: no return address: respondents will not know where to "
                  f"send the form; {where}",)
    return found + postal + (letters.warnings if letters is not None else ())


def _store_contacts(workspace: Workspace, form_key: str, serials: list[str],
                    recipients: list[Recipient]) -> None:
    """The store keeps its own copy of the contacts (its contacts table, apart from the answers),
    so an export that asks for them does not depend on contacts.csv staying beside the PDF."""
    store = Store.open(workspace.store_url)
    try:
        store.record_contacts(form_key, {serial: recipient.row for serial, recipient
                                         in zip(serials, recipients, strict=True)})
    finally:
        store.close()


def preview_form(template: Path, out_dir: Path, options: LayoutOptions | None = None,
                 dpi: int = 100, recipients_file: Path | None = None, duplex: bool = False,
                 printed_on: date | None = None) -> tuple[list[Path], tuple[str, ...]]:
    """PNG pages of one specimen copy (serial 000000), or of the first few addressed copies
    with their cover letters; nothing is registered or issued."""
    loaded = load_questionnaire(template)
    plan = plan_form(loaded.questionnaire, options, f"template {template}")
    duplex = duplex or loaded.questionnaire.printing.duplex
    recipients = None
    letters = None
    copies = [_copy(plan, SPECIMEN_SERIAL)]
    if recipients_file is not None:
        recipients = read_recipients(recipients_file)[:PREVIEW_RECIPIENTS]
        copies = [_copy(plan, SPECIMEN_SERIAL) for _ in recipients]
        letters = plan_letters(letter_design(plan, printed_on), recipients,
                               [c.serial for c in copies])
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="papertwin-preview-") as tmp:
        pdf = Path(tmp) / "preview.pdf"
        with pdf.open("wb") as handle:
            render_pdf(plan, copies, handle, recipients, letters, duplex)
        pages = render_pngs(pdf, out_dir, "page", dpi)
    return pages, _warnings(template, loaded.questionnaire, loaded.warnings + plan.warnings,
                            letters)


def _write_pdfs(plan: FormPlan, copies: tuple[Copy, ...], out_dir: Path,
                recipients: list[Recipient] | None, letters: Letters | None,
                duplex: bool) -> tuple[Path, ...]:
    """form.pdf; a run larger than one part goes to form-part-001.pdf, form-part-002.pdf, ...

    Parts keep memory flat however many copies are printed (reportlab holds a document until it
    is saved), and print shops take a long run in parts anyway.
    """
    if len(copies) <= PART_COPIES:
        path = out_dir / PDF_NAME
        with atomic_writer(path) as handle:
            render_pdf(plan, copies, handle, recipients, letters, duplex)
        return (path,)
    paths = []
    for number, start in enumerate(range(0, len(copies), PART_COPIES), start=1):
        path = out_dir / PART_NAME.format(number=number)
        chunk = recipients[start : start + PART_COPIES] if recipients is not None else None
        with atomic_writer(path) as handle:
            render_pdf(plan, copies[start : start + PART_COPIES], handle, chunk, letters,
                       duplex)
        paths.append(path)
    return tuple(paths)


def form_pdfs(form_dir: Path) -> list[Path]:
    """The printed PDF files of a built form, in print order."""
    single = form_dir / PDF_NAME
    parts = sorted(form_dir.glob(PART_GLOB))
    return ([single] if single.exists() else []) + parts


def _copy(plan: FormPlan, serial: str) -> Copy:
    key = plan.layout.form_key
    return Copy(serial, tuple(PageCode(key, serial, p.page).encode() for p in plan.layout.pages))
