"""The forms flows: print a questionnaire's paper twin, preview it, or register a form printed by
another system, each as a flow run analysts can watch."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.forms.build import BuiltForm, preview_form
from pipeline.forms.layout import LayoutOptions
from pipeline.publish import BuiltMailing, ImportedForm, build_forms, import_banding
from pipeline.workspace import Workspace


@task(name="build forms", cache_policy=NO_CACHE)
def build(template: Path, copies: int | None, out_dir: Path, workspace: Workspace,
          options: LayoutOptions | None, recipients: Path | None,
          duplex: bool) -> BuiltForm | BuiltMailing:
    return build_forms(template, copies, out_dir, workspace, options, recipients, duplex)


@flow(name="generate_forms")
def generate_forms(template: Path, out_dir: Path, workspace: Workspace, copies: int | None = None,
                   options: LayoutOptions | None = None,
                   recipients: Path | None = None,
                   duplex: bool = False) -> BuiltForm | BuiltMailing:
    """N anonymous copies, or one addressed copy per recipient (a run per variant when the
    recipients ask for different ones), with the layouts registered; `duplex` pads each copy to
    whole sheets for double-sided printing."""
    return build(template, copies, out_dir, workspace, options, recipients, duplex)


@task(name="render preview", cache_policy=NO_CACHE)
def render_preview(template: Path, out_dir: Path, options: LayoutOptions | None, dpi: int,
                   recipients: Path | None, duplex: bool) -> tuple[list[Path], tuple[str, ...]]:
    return preview_form(template, out_dir, options, dpi, recipients, duplex)


@flow(name="preview_forms")
def preview_forms(template: Path, out_dir: Path, options: LayoutOptions | None = None,
                  dpi: int = 100, recipients: Path | None = None,
                  duplex: bool = False) -> tuple[list[Path], tuple[str, ...]]:
    """PNG pages of a specimen copy (or of the first addressed copies): nothing registered."""
    return render_preview(template, out_dir, options, dpi, recipients, duplex)


@task(name="import banding", cache_policy=NO_CACHE)
def import_quexf(banding: Path, out_dir: Path, workspace: Workspace,
                 form_id: str | None) -> ImportedForm:
    return import_banding(banding, out_dir, workspace, form_id)


@flow(name="import_form")
def import_form(banding: Path, out_dir: Path, workspace: Workspace,
                form_id: str | None = None) -> ImportedForm:
    """A form printed by queXF, its layout written and registered so its scans can be read."""
    return import_quexf(banding, out_dir, workspace, form_id)
