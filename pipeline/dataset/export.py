"""What `papertwin export` does, as the flows' write_dataset task runs it: the unified dataset
built from the store, each dual-channel pair resolved, its times in one format, typed for the
formats that hold types, written with its codebook and summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

import pandas as pd

from pipeline.dataset.build import Dataset, load_dataset, split_multiple, with_contacts
from pipeline.dataset.codebook import COLUMN_DESCRIPTIONS, codebook, codebook_page, summary
from pipeline.dataset.columns import NamedDataset, check_naming, online_names
from pipeline.dataset.dualchannel import DualPair, apply_policy, read_match_file
from pipeline.dataset.missing import missing_reasons
from pipeline.dataset.names import StatsTool
from pipeline.dataset.offroute import OFF_ROUTE_COLUMN, asked_table, mark_off_route, route_mode
from pipeline.dataset.repeats import (
    key_style,
    repeat_column_names,
    repeat_tables,
    table_questions,
)
from pipeline.dataset.report import read_tracking
from pipeline.dataset.statfiles import StatsTable, choice_numbers, stats_table
from pipeline.dataset.tracking import Tracking
from pipeline.dataset.types import (
    DEFAULT_TIMEZONE,
    normalised,
    timezone_named,
    typed_dataset,
)
from pipeline.dataset.write import STATS_FORMATS, TYPED_FORMATS, write_dataset
from pipeline.errors import UsageError
from pipeline.model import Questionnaire
from pipeline.records import OnlineNaming
from pipeline.registry import registered_questionnaire
from pipeline.store.dual_log import decided_kept
from pipeline.store.store import Store
from pipeline.workspace import Workspace

REPEAT_FORMS = ("tables", "wide")


@dataclass(frozen=True)
class ExportOptions:
    """`papertwin export`'s options besides the file and its format."""

    dual_policy: str = "keep-both"  # one of dualchannel.POLICIES
    match_file: Path | None = None  # online responses matched to paper ones by hand
    split_multiple: bool = False  # add name/choice 0/1 columns for multiple choices
    with_contacts: bool = False  # join the addressed mailing's contact details (not pseudonymous)
    raw: bool = False  # CSV values exactly, without the text mark before would-be formulas
    language: str | None = None  # labels in SPSS and Stata files (default: the form's first)
    timezone: str = DEFAULT_TIMEZONE  # where paper's times without a zone were written
    # online: the online export's own column names and metadata columns (columns.py), when an
    # online export was imported; short: question names, no metadata
    columns: str = "online"
    repeats: str = "tables"  # one of REPEAT_FORMS: repeat groups as tables, or wide columns
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
    kept_as_text: dict[str, str] = field(default_factory=dict)  # column -> why not typed
    repeats: dict[str, int] | None = None  # repeat group -> rows of its table, when written so
    repeat_keys: str = ""  # how the repeat tables are keyed: odk or kobo (repeats.KEY_STYLES)
    tracking: Tracking | None = None  # the mailing's copies out and back (tracking.py)
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
    zone = timezone_named(options.timezone)
    matches = read_match_file(options.match_file) if options.match_file else None
    check_naming(options.columns)
    if options.repeats not in REPEAT_FORMS:
        raise UsageError(f"--repeats {options.repeats}: choose one of {', '.join(REPEAT_FORMS)}")
    layouts, questionnaire = registered_questionnaire(workspace, questionnaire_id)
    lang = _language(questionnaire, options.language)
    store = Store.open(workspace.store_url, read_only=True)
    try:
        dataset = load_dataset(store, layouts, questionnaire)
        decisions = decided_kept(store)
        naming = store.online_naming(questionnaire.id) if options.columns == "online" else None
        metadata = store.online_metadata(questionnaire.id) if naming and naming.metadata \
            else None
        tracking = read_tracking(store, layouts, questionnaire)
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
    frame = normalised(frame, questionnaire, zone)
    reasons = _reasons(frame, questionnaire, dataset) if fmt in STATS_FORMATS else None
    tables: dict[str, pd.DataFrame] = {}
    keys = ""
    if options.repeats == "tables":
        keys = key_style(frame)
        frame, tables = repeat_tables(frame, questionnaire, keys)
    numbers = choice_numbers(frame, questionnaire)
    typed = typed_dataset(frame, questionnaire, zone)

    # Last: everything before works on question names.
    def renamed(table: pd.DataFrame) -> NamedDataset:
        return online_names(table, naming, metadata) if naming is not None \
            else NamedDataset(table)

    named = renamed(frame)
    frame = named.frame
    descriptions = {**COLUMN_DESCRIPTIONS, **dict(named.metadata)}
    book = codebook(questionnaire, dataset.online_columns, dataset.online_only,
                    list(frame.columns), numbers, named.short_names, named.metadata)
    typed = typed.renamed(renamed(typed.frame).frame, named.short_names)
    tool: StatsTool = "sav" if fmt == "sav" else "dta"
    stats = (stats_table(typed, questionnaire, tool, reasons, lang, descriptions, numbers,
                         named.short_names) if fmt in STATS_FORMATS else None)
    repeat_files, repeat_stats, books = _repeat_files(tables, questionnaire, dataset, fmt,
                                                      lang, zone, naming)
    book = pd.concat([book.assign(table="dataset"), *books], ignore_index=True).fillna("")
    book = book[["table", *(c for c in book.columns if c != "table")]]
    written = write_dataset(typed.frame if fmt in TYPED_FORMATS else frame, out, fmt, book,
                            summary(questionnaire, dual.frame), raw=options.raw, stats=stats,
                            codebook_page=codebook_page(book, questionnaire.title.text(lang)),
                            repeats=repeat_files, repeat_stats=repeat_stats)
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
        kept_as_text=typed.kept_as_text,
        repeats={name: len(table) for name, table in tables.items()} if tables else None,
        repeat_keys=keys if tables else "",
        tracking=tracking,
        off_route=(int((frame[OFF_ROUTE_COLUMN] != "").sum())
                   if OFF_ROUTE_COLUMN in frame.columns else 0),
        route=route,
    )


def _language(questionnaire: Questionnaire, language: str | None) -> str:
    """The language labels are written in: the one asked for, which the form must have."""
    if language is None:
        return questionnaire.languages[0]
    if language not in questionnaire.languages:
        raise UsageError(f"--language {language}: the form is in "
                         f"{', '.join(questionnaire.languages)}; choose one of those")
    return language


def _repeat_files(tables: dict[str, pd.DataFrame], questionnaire: Questionnaire,
                  dataset: Dataset, fmt: str, lang: str, zone: tzinfo,
                  naming: OnlineNaming | None,
                  ) -> tuple[dict[str, pd.DataFrame], dict[str, StatsTable], list[pd.DataFrame]]:
    """Each repeat table as its format holds it (typed for Parquet and XLSX, labelled for SPSS
    and Stata: an empty answer there is system missing, its table's _needs_review saying which
    wait), its columns named as the online export's repeat table named them (`naming`, with
    `--columns online`), and its codebook rows."""
    held = table_questions(questionnaire)
    files: dict[str, pd.DataFrame] = {}
    stats: dict[str, StatsTable] = {}
    books: list[pd.DataFrame] = []
    for name, table in tables.items():
        short = held.get(name, {})
        if naming is not None and short:
            renames = repeat_column_names(list(table.columns), short, naming)
            table = table.rename(columns=renames)
            short = {renames.get(c, c): q for c, q in short.items()}
        numbers = choice_numbers(table, questionnaire, short)
        typed = typed_dataset(table, questionnaire, zone, short)
        files[name] = typed.frame if fmt in TYPED_FORMATS else table
        if fmt in STATS_FORMATS:
            stats[name] = stats_table(typed, questionnaire, "sav" if fmt == "sav" else "dta",
                                      None, lang, COLUMN_DESCRIPTIONS, numbers, short)
        books.append(codebook(questionnaire, dataset.online_columns, (), list(table.columns),
                              numbers, short).assign(table=name))
    return files, stats, books


def _reasons(frame: pd.DataFrame, questionnaire: Questionnaire,
             dataset: Dataset) -> pd.DataFrame:
    """Why each empty answer is empty, for the SPSS and Stata codes: the route as the form's
    `relevant` logic decides it for each response, the pages never identified, and the
    dataset's own columns naming what waits and what the route skips."""
    names = [q.name for q in questionnaire.questions if q.name in frame.columns]
    return missing_reasons(frame, names, asked_table(frame, questionnaire), dataset.unread)
