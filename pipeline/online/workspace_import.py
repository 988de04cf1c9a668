"""An online export brought into a workspace: what `papertwin reconcile` and its flow do.

Rows are stored by response id, so importing the same online export again, or a newer one that
has grown while the consultation runs, never counts a response twice.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.online.read import ImportOptions, OnlineImport, read_online_export
from pipeline.registry import pick_questionnaire, registered_layouts
from pipeline.store.store import Store
from pipeline.workspace import Workspace


def import_online_export(path: Path, workspace: Workspace, questionnaire_id: str | None = None,
                         options: ImportOptions | None = None) -> OnlineImport:
    """The online export at `path` read for the workspace's questionnaire (the one named, else
    the only one registered) and stored by response id, with how the export named its columns
    (for `papertwin export --columns online`); returns what was read and noticed, for the
    report (report.py)."""
    questionnaire = pick_questionnaire(registered_layouts(workspace), questionnaire_id)
    options = options or ImportOptions()
    imported = read_online_export(path, questionnaire, convention=options.convention,
                                  mapping=options.mapping,
                                  reference_column=options.reference_column,
                                  labels_to_names=options.labels_to_names)
    store = Store.open(workspace.store_url)
    try:
        store.replace_online(questionnaire.id, imported.rows, imported.naming)
    finally:
        store.close()
    return imported
