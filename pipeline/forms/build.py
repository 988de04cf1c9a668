"""forms build: template in, print-ready PDF and layout manifest out, layout registered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.forms.layout import plan_form
from pipeline.forms.manifest import Copy, Layout, write_layout
from pipeline.forms.pagecode import PageCode
from pipeline.forms.registry import allocate_serials, register_layout
from pipeline.forms.render import render_pdf
from pipeline.forms.template_yaml import load_template
from pipeline.fsutil import atomic_write_bytes
from pipeline.workspace import Workspace

PDF_NAME = "form.pdf"
LAYOUT_NAME = "layout.json"
MAX_COPIES = 100_000


@dataclass(frozen=True)
class BuiltForm:
    pdf_path: Path
    layout_path: Path
    layout: Layout


def build_forms(template: Path, copies: int, out_dir: Path, workspace: Workspace) -> BuiltForm:
    if not 1 <= copies <= MAX_COPIES:
        raise UsageError(f"--copies must be between 1 and {MAX_COPIES}, not {copies}")
    questionnaire = load_template(template)
    plan = plan_form(questionnaire)
    layout = plan.layout
    serials = allocate_serials(workspace, layout, copies)
    copy_list = tuple(
        Copy(
            serial=serial,
            codes=tuple(PageCode(layout.form_key, serial, p.page).encode() for p in layout.pages),
        )
        for serial in serials
    )
    layout = layout.with_copies(copy_list)
    pdf = render_pdf(plan, copy_list)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path, layout_path = out_dir / PDF_NAME, out_dir / LAYOUT_NAME
    atomic_write_bytes(pdf_path, pdf)
    write_layout(layout, layout_path)
    register_layout(workspace, layout)
    return BuiltForm(pdf_path=pdf_path, layout_path=layout_path, layout=layout)
