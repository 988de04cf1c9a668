"""What the workspace server loads before it forks a command: the modules the verbs import, the
Prefect models a flow run builds, and the fonts and caches a form's rendering fills.

Each of them would otherwise cost every command again (a fork starts from the server's state,
not from the previous command's). Nothing here starts a thread, opens the store or calls
Prefect's API: a fork keeps only the thread that forks, and must not share a connection.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import tempfile
from pathlib import Path

MODULES = (
    "flows.cli", "pipeline.cli.parser", "pipeline.cli.present", "pipeline.ingest.batch",
    "pipeline.ingest.report", "pipeline.ingest.inbox", "pipeline.publish", "pipeline.registry",
    "pipeline.forms.build", "pipeline.forms.quexf", "pipeline.forms.sources",
    "pipeline.forms.template_yaml", "pipeline.forms.template_xlsform",
    "pipeline.forms.template_quexml", "pipeline.forms.logo", "pipeline.forms.answer_shapes",
    "pipeline.simulate.returns", "pipeline.online.read", "pipeline.dataset.export",
    "flows.forms", "flows.ingest", "flows.reconcile", "flows.export", "flows.simulate",
    "flows.watch", "flows.report", "pipeline.dataset.report", "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "flows.temporary_server",
    # What a flow run imports on its first call (found by listing a command's new modules).
    "prefect.flow_engine", "prefect.task_engine", "prefect.client.orchestration",
    "prefect.events.worker", "prefect.logging.handlers", "prefect.results", "prefect.futures",
    "prefect.task_runners", "prefect.artifacts", "prefect.utilities.visualization",
    "fastapi.encoders", "anyio._backends._asyncio", "babel.numbers", "encodings.idna",
    "http.cookies", "pydantic.color", "sqlite3", "PIL.JpegImagePlugin", "PIL.PngImagePlugin",
    "PIL.PpmImagePlugin", "PIL.BmpImagePlugin",
)
# Prefect's API models, completed by pydantic at their first use unless done here.
MODEL_MODULES = ("prefect.client.schemas.objects", "prefect.client.schemas.actions",
                 "prefect.client.schemas.responses", "prefect.events.schemas.events")

SPECIMEN = """\
id: papertwin_warmup
version: "1"
title: "Warm-up"
returns:
  address: "Freepost WARM-UP"
questions:
  - name: often
    type: select_one
    label: "How often?"
    choices:
      - {name: weekly, label: "Weekly"}
      - {name: never, label: "Never"}
  - name: which
    type: select_multiple
    label: "Which ones?"
    choices:
      - {name: a, label: "A"}
      - {name: b, label: "B"}
  - name: comments
    type: text
    label: "Anything else?"
    lines: 2
"""


def import_modules() -> None:
    for name in MODULES:
        importlib.import_module(name)


def complete_prefect_models() -> None:
    from pydantic import BaseModel

    for name in MODEL_MODULES:
        module = importlib.import_module(name)
        for _, model in inspect.getmembers(module, inspect.isclass):
            if issubclass(model, BaseModel) and not model.__pydantic_complete__:
                with contextlib.suppress(Exception):  # one that cannot be completed yet
                    model.model_rebuild()


def render_specimen() -> None:
    """A small form previewed once: fonts registered, layout and text caches filled."""
    from pipeline.forms.build import preview_form

    with tempfile.TemporaryDirectory(prefix="papertwin-warmup-") as tmp:
        template = Path(tmp) / "warmup.yaml"
        template.write_text(SPECIMEN, encoding="utf-8")
        preview_form(template, Path(tmp) / "pages", dpi=20)


def warm_up() -> None:
    import_modules()
    complete_prefect_models()
    render_specimen()
