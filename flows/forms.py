"""generate_forms: print a questionnaire's paper twin as a flow run analysts can watch."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.forms.build import BuiltForm
from pipeline.forms.layout import LayoutOptions
from pipeline.publish import build_forms
from pipeline.workspace import Workspace


@task(name="build forms", cache_policy=NO_CACHE)
def build(template: Path, copies: int | None, out_dir: Path, workspace: Workspace,
          options: LayoutOptions | None, recipients: Path | None, duplex: bool) -> BuiltForm:
    return build_forms(template, copies, out_dir, workspace, options, recipients, duplex)


@flow(name="generate_forms")
def generate_forms(template: Path, out_dir: Path, workspace: Workspace, copies: int | None = None,
                   options: LayoutOptions | None = None,
                   recipients: Path | None = None, duplex: bool = False) -> BuiltForm:
    """N anonymous copies, or one addressed copy per recipient, with the layout registered;
    `duplex` pads each copy to whole sheets for double-sided printing."""
    return build(template, copies, out_dir, workspace, options, recipients, duplex)
