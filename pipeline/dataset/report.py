"""`papertwin report`: the tracking of a mailing (tracking.py) read from the store, as tables,
CSV files, a chart and Markdown for Prefect's UI.

The store is read, never written; so is the register of forms.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from pipeline.dataset.chart import returns_chart
from pipeline.dataset.tracking import (
    CHANNEL_LABELS,
    CHANNELS,
    DISTRICT_MIN_COPIES,
    MailedForm,
    Tracking,
    reminder_rounds,
    track,
)
from pipeline.dataset.write import csv_text
from pipeline.fsutil import atomic_write_bytes, atomic_write_text, make_folder
from pipeline.ingest.report import markdown_text
from pipeline.model import Questionnaire
from pipeline.records import Layout
from pipeline.registry import registered_questionnaire
from pipeline.store.channels import channel_responses
from pipeline.store.reminders import reminders_sent, responded_serials
from pipeline.store.store import Store
from pipeline.workspace import Workspace

CHART_NAME = "tracking-returns-by-week.png"
TABLE_NAMES = ("variants", "channels", "weeks", "districts", "reminders")  # reminders: if sent


@dataclass(frozen=True)
class TrackingReport:
    """The tracking, and the files written when a folder was given."""

    tracking: Tracking
    written: tuple[Path, ...] = ()


def tracking_report(workspace: Workspace, out: Path | None = None,
                    questionnaire_id: str | None = None) -> TrackingReport:
    """The tracking of the workspace's questionnaire (the one named, else the only one); with
    `out`, its tables written there as CSV and its chart as PNG."""
    layouts, questionnaire = registered_questionnaire(workspace, questionnaire_id)
    with Store.open(workspace.store_url, read_only=True) as store:
        tracking = read_tracking(store, layouts, questionnaire)
    return TrackingReport(tracking, write_tracking(tracking, out) if out is not None else ())


def read_tracking(store: Store, layouts: Mapping[str, Layout],
                  questionnaire: Questionnaire) -> Tracking:
    """The tracking of a questionnaire (every version of it registered) from what the store
    holds now. `layouts`: the registered forms, each with the copies issued for it."""
    forms = [MailedForm(key, layout.large_print, layout.languages,
                        frozenset(c.serial for c in layout.copies))
             for key, layout in layouts.items()
             if layout.questionnaire.id == questionnaire.id]
    keys = [form.form_key for form in forms]
    tracking = track(questionnaire.id, forms, store.paper_returns(keys),
                     store.online_rows(questionnaire.id),
                     {key: store.contacts(key) for key in keys},
                     channel_responses(store, [questionnaire.id], received=True))
    sent = reminders_sent(store, questionnaire.id)
    if not sent:
        return tracking
    return replace(tracking, reminders=reminder_rounds(
        ((r.round, r.serial) for r in sent), responded_serials(store, questionnaire.id, keys)))


def tracking_tables(tracking: Tracking) -> dict[str, pd.DataFrame]:
    """The tables as a spreadsheet wants them, by name (TABLE_NAMES); rates as shares (0-1,
    three decimals), empty when nothing was printed."""
    variants = [*tracking.variants, tracking.total]
    return {
        "variants": pd.DataFrame({
            "variant": [v.variant for v in variants],
            "languages": [v.languages for v in variants],
            "printed": [v.printed for v in variants],
            "addressed": [v.addressed for v in variants],
            "returned_paper": [v.paper for v in variants],
            "returned_online": [v.online for v in variants],
            "returned_keyed": [v.keyed for v in variants],
            "returned_letter": [v.letter for v in variants],
            "returned": [v.returned for v in variants],
            "not_returned": [v.not_returned for v in variants],
            "rate": [_share(v.rate) for v in variants],
        }),
        "channels": pd.DataFrame({
            "channel": [channel for channel, _ in tracking.channels],
            "label": [CHANNEL_LABELS[channel] for channel, _ in tracking.channels],
            "responses": [count for _, count in tracking.channels],
        }),
        "weeks": pd.DataFrame(
            [[week.week, *week.counts, week.total] for week in tracking.weeks],
            columns=["week", *CHANNELS, "total"]),
        "districts": pd.DataFrame({
            "district": [d.district for d in tracking.districts],
            "addressed": [d.addressed for d in tracking.districts],
            "returned_paper": [d.paper for d in tracking.districts],
            "returned_online": [d.online for d in tracking.districts],
            "returned_keyed": [d.keyed for d in tracking.districts],
            "returned_letter": [d.letter for d in tracking.districts],
            "returned": [d.returned for d in tracking.districts],
            "rate": [_share(d.rate) for d in tracking.districts],
        }),
    } | ({} if not tracking.reminders else {"reminders": pd.DataFrame({
        "round": [r.round for r in tracking.reminders],
        "sent": [r.sent for r in tracking.reminders],
        "replied": [r.replied for r in tracking.reminders],
        "rate": [_share(r.rate) for r in tracking.reminders],
    })})


def _share(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 3)


def write_tracking(tracking: Tracking, out: Path) -> tuple[Path, ...]:
    """`tracking-<table>.csv` for each table and the chart, in the folder `out` (made if need
    be); returns the paths written."""
    make_folder(out)
    written = []
    for name, table in tracking_tables(tracking).items():
        path = out / f"tracking-{name}.csv"
        atomic_write_text(path, csv_text(table))
        written.append(path)
    chart = out / CHART_NAME
    atomic_write_bytes(chart, returns_chart(tracking))
    return (*written, chart)


def tracking_markdown(tracking: Tracking) -> str:
    """The tables as Markdown, for Prefect's UI (the chart is an image artifact of its own)."""
    tables = tracking_tables(tracking)
    lines = [f"# Returns of {markdown_text(tracking.questionnaire_id)}", "",
             *_summary_lines(tracking), "", "## Copies by variant", "",
             _markdown(tables["variants"]), "", "## Responses by channel", "",
             _markdown(tables["channels"]), "", "## Responses by ISO week of return", "",
             _markdown(tables["weeks"]), "", "## Addressed copies by postcode district", "",
             f"Districts of fewer than {DISTRICT_MIN_COPIES} copies are counted together as "
             "*other*.", "", _markdown(tables["districts"])]
    if "reminders" in tables:
        lines += ["", "## Reminders by round", "", "Of the copies reminded in each round, how "
                  "many have replied since, on any channel.", "", _markdown(tables["reminders"])]
    return "\n".join(lines) + "\n"


def _summary_lines(tracking: Tracking) -> list[str]:
    total = tracking.total
    rate = f" ({total.rate:.1%})" if total.rate is not None else ""
    return [f"- copies printed: {total.printed}; returned: {total.returned}{rate}; "
            f"not yet returned: {total.not_returned}",
            "- responses: " + "; ".join(f"{CHANNEL_LABELS[channel]} {count}"
                                        for channel, count in tracking.channels)]


def _markdown(table: pd.DataFrame) -> str:
    """A Markdown table, every cell rendering as itself."""
    if table.empty:
        return "(none)"
    cells = [[("" if pd.isna(value) else markdown_text(str(value))) for value in row]
             for row in table.itertuples(index=False, name=None)]
    header = [str(column) for column in table.columns]
    return "\n".join(["| " + " | ".join(header) + " |",
                      "| " + " | ".join("---" for _ in header) + " |",
                      *("| " + " | ".join(row) + " |" for row in cells)])


def chart_data_url(tracking: Tracking) -> str:
    """The chart as a data: URL, for an image artifact (Prefect shows the image a URL names)."""
    return "data:image/png;base64," + base64.b64encode(returns_chart(tracking)).decode("ascii")
