"""The dataset in the online export's own column names, with its tool's metadata columns.

A small form with a group, answered on paper (one copy) and online (a KoboToolbox export and an
ODK Central export, written here as each tool writes them), exported with `--columns online`, the
default, and `--columns short`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import create_engine, text

from pipeline.cli.parser import build_parser, export_options
from pipeline.dataset.columns import online_names
from pipeline.dataset.export import ExportOptions, export_dataset
from pipeline.errors import UsageError
from pipeline.online import import_online_export
from pipeline.publish import build_forms
from pipeline.records import Answer, OnlineNaming
from pipeline.registry import registered_layouts
from pipeline.store.migrate import alembic_config
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .test_reconcile import paper_page, store_file

FORM = """\
| survey |
| | type | name | label |
| | begin group | travel | Travel |
| | select_one freq | bus_freq | How often do you take the bus? |
| | select_multiple routes | routes | Which routes do you use? |
| | end group | travel | |
| | text | postcode | What is your postcode? |
| | text | comments | Anything else? |

| choices |
| | list_name | name | label |
| | freq | daily | Every day |
| | freq | weekly | Every week |
| | freq | never | Never |
| | routes | bus | Bus |
| | routes | tram | Tram |
| | routes | train | Train |

| settings |
| | form_id | form_title |
| | bus_survey | Buses |
"""

# KoboToolbox, "XML values and headers", multiple choices as single and separate columns: ';'
# between fields, every field quoted, CRLF, '/' group paths; postcode is asked on paper only.
KOBO = (
    '"start";"end";"travel/bus_freq";"travel/routes";"travel/routes/bus";"travel/routes/tram";'
    '"travel/routes/train";"comments";"_id";"_uuid";"_submission_time";"_validation_status";'
    '"_notes";"_status";"_submitted_by";"__version__";"_tags";"_index"\r\n'
    '"2027-03-01T10:00:05.120+00:00";"2027-03-01T10:04:40.002+00:00";"weekly";"bus train";"1";'
    '"0";"1";"More buses on Sundays";"501";"k-1";"2027-03-01T10:04:45";"";"";'
    '"submitted_via_web";"";"vA1";"";"1"\r\n'
    '"2027-03-02T18:30:00.000+00:00";"2027-03-02T18:31:12.500+00:00";"never";"";"";"";"";"";'
    '"502";"k-2";"2027-03-02T18:31:20";"validation_status_approved";"";"submitted_via_web";'
    '"ann";"vA1";"";"2"\r\n'
)
KOBO_METADATA = ["start", "end", "_id", "_validation_status", "_notes", "_status",
                 "_submitted_by", "__version__", "_tags"]

# ODK Central's CSV: '-' group paths, one column per multiple choice, the form's metadata fields
# first, Central's columns after KEY.
ODK = (
    "SubmissionDate,start,end,today,deviceid,travel-bus_freq,travel-routes,comments,"
    "meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,"
    "Status,ReviewState,DeviceID,Edits,FormVersion\n"
    "2027-03-03T09:00:01.000Z,2027-03-03T08:55:00.000+00:00,2027-03-03T08:59:30.000+00:00,"
    "2027-03-03,collect:Xy12,daily,tram,,uuid:o-1,uuid:o-1,7,Clerk,0,0,,approved,"
    "collect:Xy12,0,3\n"
)
ODK_METADATA = ["start", "end", "today", "deviceid", "meta-instanceID", "SubmitterID",
                "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
                "ReviewState", "DeviceID", "Edits", "FormVersion"]
LEADING = ["response_id", "channel", "submitted_at", "respondent_ref"]
PROVENANCE = ["_needs_review", "_confidence", "_source", "_pages_missing", "_off_route"]
SHORT = [*LEADING, "bus_freq", "routes", "postcode", "comments", *PROVENANCE]


@pytest.fixture
def workspace(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The form built in a workspace (on each backend), its copy 000001 returned on paper."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    form = tmp_path / "bus.md"
    form.write_text(FORM, encoding="utf-8")
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(form, 2, tmp_path / "form", workspace)
    (key,) = registered_layouts(workspace)
    store_file(workspace, "batch-07.pdf", [paper_page(key, "000001", 1, 1, (
        Answer("bus_freq", "daily", 1.0), Answer("routes", "bus tram", 0.95),
        Answer("postcode", "MB1 2QT", 0.9), Answer("comments", "Late buses", 0.8)))])
    return workspace


def imported(workspace: Workspace, tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    import_online_export(path, workspace)


def exported(workspace: Workspace, tmp_path: Path, **options: Any) -> pd.DataFrame:
    out = tmp_path / "dataset.csv"
    export_dataset(workspace, out, options=ExportOptions(**options))
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def paper_id(workspace: Workspace) -> str:
    (key,) = registered_layouts(workspace)
    return f"paper-{key}-000001"


def test_a_kobo_export_names_the_dataset_by_default(workspace: Workspace,
                                                    tmp_path: Path) -> None:
    imported(workspace, tmp_path, "kobo.csv", KOBO)
    frame = exported(workspace, tmp_path)
    assert list(frame.columns) == [*LEADING, "travel/bus_freq", "travel/routes", "postcode",
                                   "comments", *KOBO_METADATA, *PROVENANCE]
    rows = frame.set_index("response_id")
    assert rows.loc["k-1", KOBO_METADATA].tolist() == [
        "2027-03-01T10:00:05.120+00:00", "2027-03-01T10:04:40.002+00:00", "501", "", "",
        "submitted_via_web", "", "vA1", ""]
    assert rows.loc["k-2", KOBO_METADATA].tolist() == [
        "2027-03-02T18:30:00.000+00:00", "2027-03-02T18:31:12.500+00:00", "502",
        "validation_status_approved", "", "submitted_via_web", "ann", "vA1", ""]
    assert rows.loc["k-1", ["travel/bus_freq", "travel/routes", "postcode", "comments"]
                    ].tolist() == ["weekly", "bus train", "", "More buses on Sundays"]
    # The paper return fills the same columns, and none of the tool's.
    paper = rows.loc[paper_id(workspace)]
    assert paper[["channel", "travel/bus_freq", "travel/routes", "postcode", "comments"]
                 ].tolist() == ["paper", "daily", "bus tram", "MB1 2QT", "Late buses"]
    assert paper[KOBO_METADATA].tolist() == [""] * len(KOBO_METADATA)

    codebook = pd.read_csv(tmp_path / "dataset.codebook.csv", dtype=str, keep_default_na=False)
    assert codebook["column"].tolist() == list(frame.columns)  # every column, in order
    codebook = codebook[~codebook["column"].isin([*LEADING, *PROVENANCE])]
    assert codebook[["question", "column"]].values.tolist() == [
        ["bus_freq", "travel/bus_freq"], ["routes", "travel/routes"], ["postcode", "postcode"],
        ["comments", "comments"], *([["", c] for c in KOBO_METADATA])]
    start = codebook[codebook["column"] == "start"].iloc[0]
    assert start[["label", "type", "channels"]].tolist() == [
        "when the form was opened, by the device's clock (a column of KoboToolbox's export)",
        "metadata", "online"]


def test_short_columns_are_the_question_names_without_metadata(workspace: Workspace,
                                                                tmp_path: Path) -> None:
    imported(workspace, tmp_path, "kobo.csv", KOBO)
    frame = exported(workspace, tmp_path, columns="short")
    assert list(frame.columns) == SHORT
    assert frame.set_index("response_id").loc["k-2", ["bus_freq", "routes"]].tolist() == [
        "never", ""]
    codebook = pd.read_csv(tmp_path / "dataset.codebook.csv", dtype=str, keep_default_na=False)
    assert codebook["column"].tolist() == SHORT


def test_split_choices_take_the_exports_own_columns(workspace: Workspace,
                                                   tmp_path: Path) -> None:
    imported(workspace, tmp_path, "kobo.csv", KOBO)
    frame = exported(workspace, tmp_path, split_multiple=True)
    routes = ["travel/routes", "travel/routes/bus", "travel/routes/tram", "travel/routes/train"]
    assert list(frame.columns) == [*LEADING, "travel/bus_freq", *routes, "postcode", "comments",
                                   *KOBO_METADATA, *PROVENANCE]
    rows = frame.set_index("response_id")
    assert rows.loc["k-1", routes].tolist() == ["bus train", "1", "0", "1"]
    assert rows.loc["k-2", routes].tolist() == ["", "", "", ""]
    assert rows.loc[paper_id(workspace), routes].tolist() == ["bus tram", "1", "1", "0"]


def test_an_odk_central_export_names_groups_with_hyphens(workspace: Workspace,
                                                         tmp_path: Path) -> None:
    imported(workspace, tmp_path, "odk.csv", ODK)
    frame = exported(workspace, tmp_path, split_multiple=True)
    # Central writes a multiple choice's 0/1 columns as group-question/choice.
    assert list(frame.columns) == [
        *LEADING, "travel-bus_freq", "travel-routes", "travel-routes/bus", "travel-routes/tram",
        "travel-routes/train", "postcode", "comments", *ODK_METADATA, *PROVENANCE]
    online = frame.set_index("response_id").loc["uuid:o-1"]
    assert online[["submitted_at", "travel-bus_freq", "travel-routes", "travel-routes/tram"]
                  ].tolist() == ["2027-03-03T09:00:01+00:00", "daily", "tram", "1"]
    assert online[ODK_METADATA].tolist() == [
        "2027-03-03T08:55:00.000+00:00", "2027-03-03T08:59:30.000+00:00", "2027-03-03",
        "collect:Xy12", "uuid:o-1", "7", "Clerk", "0", "0", "", "approved", "collect:Xy12", "0",
        "3"]
    paper = frame.set_index("response_id").loc[paper_id(workspace)]
    assert paper[ODK_METADATA].tolist() == [""] * len(ODK_METADATA)


def test_importing_again_replaces_and_a_later_export_adds_its_names(workspace: Workspace,
                                                                    tmp_path: Path) -> None:
    imported(workspace, tmp_path, "kobo.csv", KOBO)
    imported(workspace, tmp_path, "kobo.csv", KOBO.replace('"vA1"', '"vA2"'))
    frame = exported(workspace, tmp_path)
    assert frame["__version__"].tolist() == ["", "vA2", "vA2"]
    # An ODK Central export of the same questionnaire now names its columns; Kobo's metadata
    # columns stay for the responses that hold them.
    imported(workspace, tmp_path, "odk.csv", ODK)
    frame = exported(workspace, tmp_path)
    assert list(frame.columns) == [
        *LEADING, "travel-bus_freq", "travel-routes", "postcode", "comments", *ODK_METADATA,
        *[c for c in KOBO_METADATA if c not in ODK_METADATA], *PROVENANCE]
    assert frame.set_index("response_id")["_id"].to_dict() == {
        paper_id(workspace): "", "k-1": "501", "k-2": "502", "uuid:o-1": ""}


def test_a_workspace_imported_before_the_names_were_kept_exports_short_names(
        workspace: Workspace, tmp_path: Path) -> None:
    """A store of revision 0009 holds online rows without metadata and no naming: once opened
    (and so migrated), its export keeps the question names."""
    Store.open(workspace.store_url).close()
    engine = create_engine(workspace.store_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0009")
            conn.execute(text(
                "INSERT INTO online_responses (questionnaire_id, response_id, submitted_at, "
                "respondent_ref, answers, source, imported_at) VALUES ('bus_survey', 'old-1', "
                "'2027-01-05T10:00:00', '', :answers, 'old.csv row 1', "
                "'2027-01-06T00:00:00+00:00')"), {"answers": '{"bus_freq": "weekly"}'})
    finally:
        engine.dispose()
    frame = exported(workspace, tmp_path)
    assert list(frame.columns) == SHORT
    assert frame.set_index("response_id").loc["old-1", ["channel", "bus_freq"]].tolist() == [
        "online", "weekly"]


def test_online_names_is_a_pure_renaming() -> None:
    frame = pd.DataFrame({"response_id": ["p", "o"], "channel": ["paper", "online"],
                          "bus_freq": ["daily", "weekly"], "routes/bus": ["1", "0"],
                          "start": ["x", "y"], "_needs_review": ["", ""]})
    naming = OnlineNaming("kobo", "/", {"bus_freq": "travel/bus_freq", "routes": "t/routes"},
                          {}, ("end", "start"))
    metadata = pd.DataFrame({"response_id": ["o"], "end": ["e1"], "start": ["s1"]})
    named = online_names(frame, naming, metadata)
    # A metadata column whose name the dataset has already is left out.
    assert named.frame.to_dict("list") == {
        "response_id": ["p", "o"], "channel": ["paper", "online"],
        "travel/bus_freq": ["daily", "weekly"], "t/routes/bus": ["1", "0"],
        "start": ["x", "y"], "end": ["", "e1"], "_needs_review": ["", ""]}
    assert dict(named.short_names) == {"travel/bus_freq": "bus_freq",
                                       "t/routes/bus": "routes/bus"}
    assert [c for c, _ in named.metadata] == ["end"]
    assert list(frame.columns) == ["response_id", "channel", "bus_freq", "routes/bus", "start",
                                   "_needs_review"]  # the input is left alone


def test_the_command_line_option(tmp_path: Path) -> None:
    parser = build_parser()
    base = ["export", "--out", "d.csv"]
    assert export_options(parser.parse_args(base)).columns == "online"
    assert export_options(parser.parse_args([*base, "--columns", "short"])).columns == "short"
    with pytest.raises(SystemExit):
        parser.parse_args([*base, "--columns", "long"])
    with pytest.raises(UsageError, match="--columns long"):
        export_dataset(Workspace.resolve(tmp_path / "ws"), tmp_path / "d.csv",
                       options=ExportOptions(columns="long"))
