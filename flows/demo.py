"""papertwin demo: the whole loop on the shipped template and the shipped sample scans, each
step through its flow as a person would run it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from flows.export import export_dataset
from flows.forms import generate_forms
from flows.ingest import ingest_batch
from flows.reconcile import reconcile
from pipeline.cli import present
from pipeline.errors import WorkspaceError
from pipeline.forms.build import BuiltForm
from pipeline.programs import check_programs
from pipeline.registry import pick_questionnaire, registered_layouts
from pipeline.simulate.returns import BATCH_NAME, TRUTH_NAME
from pipeline.simulate.truth import compare_with_truth, read_truth
from pipeline.workspace import Workspace

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = PROJECT_ROOT / "form_templates" / "library_services.yaml"
ONLINE_EXPORT = PROJECT_ROOT / "form_templates" / "library_services_online.csv"
SAMPLE_SCANS = PROJECT_ROOT / "sample_scans"


def run_demo(root: Path | None) -> int:
    for needed in (TEMPLATE, ONLINE_EXPORT, SAMPLE_SCANS / BATCH_NAME, SAMPLE_SCANS / TRUTH_NAME):
        if not needed.exists():
            raise WorkspaceError(f"the demo needs {needed}: run it from a papertwin source tree")
    check_programs()  # ingest_batch trusts a check made before it: said before any work
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="papertwin-demo-"))
    workspace = Workspace.resolve(root).ensure()
    if registered_layouts(workspace):
        raise WorkspaceError(f"{workspace.root} is not empty: give the demo a new workspace")
    truth = read_truth(SAMPLE_SCANS / TRUTH_NAME)
    copies = len(truth["responses"])
    present.say(f"papertwin demo in workspace {workspace.root}")

    built = generate_forms(TEMPLATE, workspace.root / "printed", workspace, copies)
    if not isinstance(built, BuiltForm):  # anonymous copies make one form
        raise TypeError("the demo's copies printed as a mailing")
    if built.layout.form_key != truth["form_key"]:
        raise WorkspaceError(
            f"sample_scans/ were made for form {truth['form_key']}, but the template now builds "
            f"{built.layout.form_key}: regenerate them as sample_scans/README.md says"
        )
    present.say(f"1. printed {copies} copies of {built.layout.form_key}: {built.pdf_path}")

    present.say(f"2. ingesting {SAMPLE_SCANS / BATCH_NAME}")
    summary = ingest_batch([SAMPLE_SCANS / BATCH_NAME], workspace)
    present.print_batch_summary(summary)

    present.say(f"3. reconciling with the online export {ONLINE_EXPORT.name}")
    imported = reconcile(ONLINE_EXPORT, workspace, None)
    present.print_import_report(imported, ONLINE_EXPORT)

    dataset = workspace.root / "dataset.csv"
    exported = export_dataset(workspace, dataset)
    channels = ", ".join(f"{n} {c}" for c, n in sorted(exported.by_channel.items()))
    present.say(f"4. dataset: {exported.path}")
    present.say(f"   {exported.rows} responses ({channels}), {exported.questions} questions; "
                f"{exported.needs_review} responses wait for a person")

    questionnaire = pick_questionnaire(registered_layouts(workspace), None)
    frame = pd.read_csv(dataset, dtype=str, keep_default_na=False)
    check = compare_with_truth(frame, truth, questionnaire)
    present.say(f"5. against the simulator's ground truth: {check.choices_right} of "
                f"{check.choices} choice answers right, {check.choices_flagged} flagged, "
                f"{check.choices_wrong} wrong; free text character error rate "
                f"{check.text_cer:.1%}")
    return 0
