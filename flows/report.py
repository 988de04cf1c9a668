"""report: the tracking of a mailing (copies out, returns by channel, week and district) as a
flow run, as `papertwin report` does; its tables and chart also published as artifacts."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_image_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pipeline.dataset.report import TrackingReport, chart_data_url, tracking_markdown
from pipeline.dataset.report import tracking_report as report_tracking
from pipeline.dataset.tracking import Tracking
from pipeline.workspace import Workspace


@task(name="track returns", cache_policy=NO_CACHE)
def track_returns(workspace: Workspace, out: Path | None,
                  questionnaire_id: str | None) -> TrackingReport:
    return report_tracking(workspace, out, questionnaire_id)


def publish_tracking(tracking: Tracking) -> None:
    """The tables as a Markdown artifact and the chart as an image artifact (a data: URL: the
    image travels with the artifact, no file server needed)."""
    create_markdown_artifact(tracking_markdown(tracking), key="tracking-tables",
                             description=f"{tracking.questionnaire_id}: copies out and back")
    create_image_artifact(chart_data_url(tracking), key="tracking-returns-by-week",
                          description=f"{tracking.questionnaire_id}: returns per week")


@flow(name="report")
def tracking_report(workspace: Workspace, out: Path | None = None,
                    questionnaire_id: str | None = None) -> TrackingReport:
    """How many copies went out in each variant and how many came back, by channel, ISO week
    and postcode district; written to `out` as CSV and PNG when given."""
    report = track_returns(workspace, out, questionnaire_id)
    publish_tracking(report.tracking)
    return report
