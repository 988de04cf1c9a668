"""forms build and forms preview: template in, print-ready PDF and layout manifest out.

Nothing here touches the workspace: serials are issued and the layout registered by
pipeline/publish.py, around `print_copies`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.forms.layout import FormPlan, LayoutOptions, plan_form
from pipeline.forms.letter import Letters, plan_letters
from pipeline.forms.manifest import write_layout
from pipeline.forms.printorder import print_order
from pipeline.forms.recipients import Recipient, read_recipients, write_contacts
from pipeline.forms.render import letter_design, render_pdf
from pipeline.forms.sources import XLSFORM_SUFFIXES, YAML_SUFFIXES, load_questionnaire
from pipeline.forms.variants import plan_variants
from pipeline.fsutil import atomic_writer
from pipeline.model import Questionnaire
from pipeline.programs.poppler import render_pngs
from pipeline.records import Copy, Layout, PageCode

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
        """The PDF to print, or the first part of a run printed in several."""
        return self.pdf_paths[0]


@dataclass(frozen=True)
class PlannedRun:
    """A print run planned from a template: what `print_copies` needs besides the serials."""

    template: Path
    questionnaire: Questionnaire
    plan: FormPlan
    copies: int
    recipients: list[Recipient] | None
    duplex: bool
    warnings: tuple[str, ...]  # the template's and the layout's


def plan_run(template: Path, copies: int | None, options: LayoutOptions | None = None,
             recipients_file: Path | None = None, duplex: bool = False,
             addressed: Sequence[Recipient] | None = None) -> PlannedRun:
    """N anonymous copies, or one addressed copy per recipient (of the file, or `addressed`:
    the recipients of one variant of a mailing); `duplex` (or the template's own setting) pads
    each copy to whole sheets."""
    recipients: list[Recipient] | None = None if addressed is None else list(addressed)
    if recipients_file is not None or recipients is not None:
        if copies is not None:
            raise UsageError("give --copies or --recipients, not both")
        if recipients is None and recipients_file is not None:
            recipients = read_recipients(recipients_file)
        copies = len(recipients or ())
    if copies is None or not 1 <= copies <= MAX_COPIES:
        raise UsageError(f"--copies must be between 1 and {MAX_COPIES}, not {copies}")
    loaded = load_questionnaire(template)
    plan = plan_form(loaded.questionnaire, options, f"template {template}")
    return PlannedRun(template, loaded.questionnaire, plan, copies, recipients,
                      duplex or loaded.questionnaire.printing.duplex,
                      loaded.warnings + plan.warnings)


def print_copies(run: PlannedRun, serials: Sequence[str], out_dir: Path,
                 printed_on: date | None = None) -> BuiltForm:
    """The PDF (or its parts), layout.json and, for addressed copies, contacts.csv in out_dir;
    `printed_on` is the date the cover letters carry, today unless given. Registers nothing:
    the serials come from the caller, who registers the layout (pipeline/publish.py)."""
    if len(serials) != run.copies:
        raise UsageError(f"{run.copies} copies planned but {len(serials)} serials given")
    copy_list = tuple(_copy(run.plan, serial) for serial in serials)
    letters = None if run.recipients is None else plan_letters(
        letter_design(run.plan, printed_on), run.recipients, list(serials))
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in form_pdfs(out_dir):
        stale.unlink()  # never leave parts of an earlier build beside this one
    pdf_paths = _write_pdfs(run.plan, copy_list, out_dir, run.recipients, letters, run.duplex)
    layout_path = out_dir / LAYOUT_NAME
    layout = _with_print_order(run.plan.layout.with_copies(copy_list), letters, run.duplex)
    write_layout(layout, layout_path)
    contacts_path = None
    if run.recipients is not None:
        contacts_path = out_dir / CONTACTS_NAME
        write_contacts(contacts_path, list(serials), run.recipients)
    return BuiltForm(pdf_paths, layout_path, layout, contacts_path,
                     _warnings(run.template, run.questionnaire, run.warnings, letters))


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


def preview_form(template: Path, out_dir: Path, options: LayoutOptions | None = None,
                 dpi: int = 100, recipients_file: Path | None = None, duplex: bool = False,
                 printed_on: date | None = None) -> tuple[list[Path], tuple[str, ...]]:
    """PNG pages of one specimen copy (serial 000000), or of the first few addressed copies
    with their cover letters; a mailing whose recipients ask for several variants shows the
    first copy of each (`<variant>-page-N.png`). Nothing is registered or issued."""
    if recipients_file is not None:
        runs = plan_variants(template, recipients_file, options)
        if len(runs) > 1:  # the first copy of each variant, its pages named by the variant
            pages: list[Path] = []
            warnings: dict[str, None] = {}
            for run in runs:
                shown, said = _preview(template, out_dir, run.variant.options, dpi,
                                       list(run.recipients[:1]), duplex, printed_on,
                                       f"{run.variant.name}-page")
                pages.extend(shown)
                warnings.update(dict.fromkeys(said))
            return pages, tuple(warnings)
        return _preview(template, out_dir, runs[0].variant.options, dpi,
                        list(runs[0].recipients[:PREVIEW_RECIPIENTS]), duplex, printed_on)
    return _preview(template, out_dir, options, dpi, None, duplex, printed_on)


def _preview(template: Path, out_dir: Path, options: LayoutOptions | None, dpi: int,
             recipients: list[Recipient] | None, duplex: bool, printed_on: date | None,
             prefix: str = "page") -> tuple[list[Path], tuple[str, ...]]:
    loaded = load_questionnaire(template)
    plan = plan_form(loaded.questionnaire, options, f"template {template}")
    duplex = duplex or loaded.questionnaire.printing.duplex
    letters = None
    copies = [_copy(plan, SPECIMEN_SERIAL)]
    if recipients is not None:
        copies = [_copy(plan, SPECIMEN_SERIAL) for _ in recipients]
        letters = plan_letters(letter_design(plan, printed_on), recipients,
                               [c.serial for c in copies])
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="papertwin-preview-") as tmp:
        pdf = Path(tmp) / "preview.pdf"
        with pdf.open("wb") as handle:
            render_pdf(plan, copies, handle, recipients, letters, duplex)
        pages = render_pngs(pdf, out_dir, prefix, dpi)
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
