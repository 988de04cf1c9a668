"""What `papertwin export` does, as the flows' write_dataset task runs it: the unified dataset
built from the store, each dual-channel pair resolved, written with its codebook and summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.dataset.build import load_dataset, split_multiple, with_contacts
from pipeline.dataset.codebook import codebook, summary
from pipeline.dataset.dualchannel import DualPair, apply_policy, read_match_file
from pipeline.dataset.offroute import OFF_ROUTE_COLUMN, mark_off_route, route_mode
from pipeline.dataset.write import write_dataset
from pipeline.registry import registered_questionnaire
from pipeline.store.dual_log import decided_kept
from pipeline.store.store import Store
from pipeline.workspace import Workspace


@dataclass(frozen=True)
class ExportOptions:
    """`papertwin export`'s options besides the file and its format."""

    dual_policy: str = "keep-both"  # one of dualchannel.POLICIES
    match_file: Path | None = None  # online responses matched to paper ones by hand
    split_multiple: bool = False  # add name/choice 0/1 columns for multiple choices
    with_contacts: bool = False  # join the addressed mailing's contact details (not pseudonymous)
    raw: bool = False  # CSV values exactly, without the text mark before would-be formulas
    route: str = "flag"  # paper answers the route skips: one of offroute.ROUTE_MODES


@dataclass(frozen=True)
class ExportSummary:
    """What was written, counted for the command's report."""

    path: Path
    rows: int
    by_channel: dict[str, int]
    needs_review: int  # responses with at least one question awaiting a person
    questions: int
    written: tuple[Path, ...] = ()  # the dataset, and its codebook and summary files
    dual_pairs: tuple[DualPair, ...] = ()
    dual_policy: str = "keep-both"
    online_only: tuple[str, ...] = ()  # columns asked online only, kept in the dataset
    off_route: int = 0  # responses with at least one answer their own route skips
    route: str = "flag"  # what was done with those answers (offroute.ROUTE_MODES)


def export_dataset(workspace: Workspace, out: Path, fmt: str = "csv",
                   questionnaire_id: str | None = None,
                   options: ExportOptions | None = None) -> ExportSummary:
    """The unified dataset of the workspace's questionnaire (the one named, else the only one)
    written to `out` in `fmt`, its codebook and summary beside it, with dual-channel pairs
    resolved: by a person's latest decision where there is one (the review app), else by the
    policy. Returns what was written, counted, for the command to report."""
    options = options or ExportOptions()
    route = route_mode(options.route)  # a wrong word is refused before the store is opened
    matches = read_match_file(options.match_file) if options.match_file else None
    layouts, questionnaire = registered_questionnaire(workspace, questionnaire_id)
    store = Store.open(workspace.store_url, read_only=True)
    try:
        dataset = load_dataset(store, layouts, questionnaire)
        decisions = decided_kept(store)
        contacts = ({key: store.contacts(key) for key, layout in layouts.items()
                     if layout.questionnaire.id == questionnaire.id}
                    if options.with_contacts else None)
    finally:
        store.close()
    dual = apply_policy(dataset.frame, options.dual_policy, matches, decisions=decisions)
    # Before the split, so that a blanked multiple choice's name/choice columns are empty too.
    frame = mark_off_route(dual.frame, questionnaire, route)
    if options.split_multiple:
        frame = split_multiple(frame, questionnaire)
    if contacts is not None:
        frame = with_contacts(frame, contacts)
    written = write_dataset(frame, out, fmt,
                            codebook(questionnaire, dataset.online_columns, dataset.online_only),
                            summary(questionnaire, dual.frame), raw=options.raw)
    counts = frame["channel"].value_counts().to_dict()
    return ExportSummary(
        path=out,
        rows=len(frame),
        by_channel={str(k): int(v) for k, v in counts.items()},
        needs_review=int((frame["_needs_review"] != "").sum()),
        questions=len(questionnaire.questions),
        written=tuple(written),
        dual_pairs=dual.pairs,
        dual_policy=dual.policy,
        online_only=dataset.online_only,
        off_route=(int((frame[OFF_ROUTE_COLUMN] != "").sum())
                   if OFF_ROUTE_COLUMN in frame.columns else 0),
        route=route,
    )
