"""The exported dataset opened with the libraries its users use: typed Parquet (pandas/pyarrow),
typed XLSX (openpyxl), SPSS and Stata files with their labels and missing-value codes
(pyreadstat), and the codebook; paper and online rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from openpyxl import load_workbook

from pipeline.dataset.export import ExportOptions, export_dataset
from pipeline.errors import ExitCode, NotWritableError, UsageError
from pipeline.online import import_online_export
from pipeline.publish import build_forms
from pipeline.records import Answer, flag_reason
from pipeline.registry import registered_layouts
from pipeline.workspace import Workspace

from .test_reconcile import paper_page, store_file

TEMPLATE = Path(__file__).parent / "data" / "dataset" / "travel_typed.yaml"
# Times as the platforms write them: an offset with milliseconds (ODK), none (LimeSurvey's
# server time, taken as UTC).
ONLINE = """\
response_id,submitted_at,uses_bus,bus_trips,bus_rating,modes,distance_km,moved_in,comments
o-1,2026-12-01T10:07:49.000+01:00,yes,5,2,cycle,10.25,2001-12-31,More buses
o-2,2026-12-02 08:00:00,no,,,,,,
"""


@pytest.fixture
def travel(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Three paper copies and two online responses of a bilingual form.

    000001 answered everything; 000002 said no to the bus, answered bus_trips anyway (off its
    route), and its distance waits for a person; 000003's first page was never identified.
    """
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(TEMPLATE, 3, tmp_path / "form", workspace)
    (key,) = registered_layouts(workspace)
    unsure = flag_reason("OCR low confidence", "2?5")
    store_file(workspace, "batch-01.pdf", [
        paper_page(key, "000001", 1, 1, (
            Answer("uses_bus", "yes", 0.99), Answer("bus_trips", "12", 0.93),
            Answer("bus_rating", "4", 0.97), Answer("modes", "walk car", 0.98),
            Answer("distance_km", "2.5", 0.91), Answer("moved_in", "2019-04-01", 0.9))),
        paper_page(key, "000001", 2, 2, (Answer("comments", "Más autobuses", 0.8),)),
        paper_page(key, "000002", 1, 3, (
            Answer("uses_bus", "no", 0.99), Answer("bus_trips", "3", 0.95),
            Answer("bus_rating", "", 0.99), Answer("modes", "", 0.99),
            Answer("distance_km", "", 0.4, needs_review=True, reason=unsure),
            Answer("moved_in", "", 0.99))),
        paper_page(key, "000002", 2, 4, (Answer("comments", "", 0.99),)),
        paper_page(key, "000003", 2, 5, (Answer("comments", "No bus here", 0.85),)),
    ])
    online = tmp_path / "online.csv"
    online.write_text(ONLINE)
    import_online_export(online, workspace)
    return workspace


def _ids(workspace: Workspace) -> list[str]:
    (key,) = registered_layouts(workspace)
    return [f"paper-{key}-00000{n}" for n in (1, 2, 3)] + ["o-1", "o-2"]


def test_csv_has_every_time_in_one_format(travel: Workspace, tmp_path: Path) -> None:
    export_dataset(travel, tmp_path / "d.csv")
    frame = pd.read_csv(tmp_path / "d.csv", dtype=str, keep_default_na=False)
    assert list(frame["response_id"]) == _ids(travel)
    online = frame["submitted_at"].tolist()[3:]
    assert online == ["2026-12-01T09:07:49+00:00", "2026-12-02T08:00:00+00:00"]
    for stamp in frame["submitted_at"].tolist()[:3]:
        assert datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert stamp.endswith("+00:00") and "." not in stamp
    assert frame["bus_trips"].tolist() == ["12", "3", "", "5", ""]
    assert frame["moved_in"].tolist() == ["2019-04-01", "", "", "2001-12-31", ""]


def test_parquet_keeps_each_questions_type(travel: Workspace, tmp_path: Path) -> None:
    export_dataset(travel, tmp_path / "d.parquet", "parquet")
    schema = pq.read_schema(tmp_path / "d.parquet")
    types = {name: str(schema.field(name).type) for name in schema.names}
    assert types["bus_trips"] == "int64"
    assert types["bus_rating"] == "int64"  # number codes stay numbers, as ODK's typed exports
    assert types["uses_bus"] in ("string", "large_string")  # word codes stay words
    assert types["distance_km"] == "double"
    assert types["moved_in"] == "date32[day]"
    assert types["submitted_at"] == "timestamp[us, tz=UTC]"
    assert types["_confidence"] == "double"
    frame = pd.read_parquet(tmp_path / "d.parquet")
    assert frame["bus_trips"].tolist()[:2] == [12, 3]
    assert pd.isna(frame["bus_trips"].iloc[2])
    assert frame["distance_km"].tolist()[0] == 2.5
    assert frame["distance_km"].tolist()[3] == 10.25
    assert frame["moved_in"].tolist()[0] == date(2019, 4, 1)
    assert frame["submitted_at"].iloc[3] == pd.Timestamp("2026-12-01T09:07:49Z")
    assert frame["_confidence"].iloc[0] == pytest.approx(0.8)
    assert pd.isna(frame["_confidence"].iloc[3])


def test_xlsx_holds_numbers_and_dates_as_such(travel: Workspace, tmp_path: Path) -> None:
    export_dataset(travel, tmp_path / "d.xlsx", "xlsx")
    workbook = load_workbook(tmp_path / "d.xlsx")
    sheet = workbook["dataset"]
    header = [c.value for c in sheet[1]]
    first = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert first["bus_trips"].value == 12 and first["bus_trips"].data_type == "n"
    assert first["distance_km"].value == 2.5
    assert first["moved_in"].is_date
    assert first["moved_in"].value.date() == date(2019, 4, 1)
    assert first["submitted_at"].is_date
    online = {name: cell for name, cell in zip(header, sheet[5], strict=True)}
    assert online["submitted_at"].value == datetime(2026, 12, 1, 9, 7, 49)  # UTC
    assert online["uses_bus"].value == "yes"
    blank = {name: cell for name, cell in zip(header, sheet[6], strict=True)}
    assert blank["bus_trips"].value is None


def test_spss_file_has_labels_names_and_missing_codes(travel: Workspace,
                                                      tmp_path: Path) -> None:
    summary = export_dataset(travel, tmp_path / "d.sav", "sav",
                             options=ExportOptions(language="cy"))
    assert [p.name for p in summary.written] == ["d.sav", "d.codebook.csv", "d.summary.csv",
                                                 "d.codebook.md"]
    frame, meta = pyreadstat.read_sav(tmp_path / "d.sav", user_missing=True)
    # names SPSS accepts: no leading underscore
    assert "needs_review" in frame.columns and "_needs_review" not in frame.columns
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["uses_bus"] == "Ydych chi'n defnyddio'r bws?"
    assert labels["bus_trips"] == "Sawl taith bws a wnaethoch chi yr wythnos diwethaf?"
    values = meta.variable_value_labels
    assert values["uses_bus"][1.0] == "Ydw" and values["uses_bus"][2.0] == "Nac ydw"
    assert values["bus_rating"][5.0] == "Da iawn"
    assert values["bus_trips"][-99.0] == "not asked: not on the respondent's route"
    assert meta.missing_ranges["bus_trips"] == [{"lo": -99.0, "hi": -96.0}]
    assert meta.file_label == "Teithio o gwmpas Millbrook"
    assert (meta.variable_measure["bus_trips"], meta.variable_measure["uses_bus"]) == (
        "scale", "nominal")
    assert meta.original_variable_types["bus_trips"] == "F8.0"
    # word codes numbered in the form's order; number codes kept
    assert frame["uses_bus"].tolist() == [1.0, 2.0, -96.0, 1.0, 2.0]
    assert frame["bus_rating"].tolist() == [4.0, -99.0, -96.0, 2.0, -99.0]
    # 000002 answered bus_trips off its route: the answer stays (flagged in _off_route);
    # o-2 was not asked; 000003's page was never read
    assert frame["bus_trips"].tolist() == [12.0, 3.0, -96.0, 5.0, -99.0]
    # waiting for a person; left blank; page not read
    assert frame["distance_km"].tolist() == [2.5, -97.0, -96.0, 10.25, -98.0]
    assert frame["comments"].tolist() == ["Más autobuses", "", "No bus here", "More buses", ""]
    assert meta.original_variable_types["comments"] == "A14"  # 13 letters; "á" is two bytes
    assert frame["moved_in"].tolist()[0] == date(2019, 4, 1)
    assert frame["submitted_at"].tolist()[3] == datetime(2026, 12, 1, 9, 7, 49)
    plain, _ = pyreadstat.read_sav(tmp_path / "d.sav")  # codes read as missing by default
    assert plain["distance_km"].isna().tolist() == [False, True, True, False, True]


def test_stata_file_has_labels_names_and_extended_missing(travel: Workspace,
                                                         tmp_path: Path) -> None:
    export_dataset(travel, tmp_path / "d.dta", "dta",
                   options=ExportOptions(split_multiple=True))
    frame, meta = pyreadstat.read_dta(tmp_path / "d.dta", user_missing=True)
    assert "_needs_review" in frame.columns  # a valid Stata name
    assert "modes_walk" in frame.columns and "modes/walk" not in frame.columns
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["uses_bus"] == "Do you use the bus?"
    assert labels["modes_walk"] == "How else do you travel?: Walking"
    assert all(len(text or "") <= 80 for text in labels.values())
    values = meta.variable_value_labels
    assert values["uses_bus"] == {1: "Yes", 2: "No"}
    assert values["modes_walk"] == {0: "not selected", 1: "selected"}
    assert frame["bus_trips"].tolist() == [12, 3, "d", 5, "a"]
    assert frame["distance_km"].tolist() == [2.5, "c", "d", 10.25, "b"]
    assert frame["modes_walk"].tolist() == [1, "b", "d", 0, "b"]  # a blank choice is no 0
    # Stata declares no missing values: pyreadstat lists the extended ones the column holds
    assert sorted(meta.missing_user_values["distance_km"]) == ["b", "c", "d"]


def test_codebook_describes_every_column_in_every_language(travel: Workspace,
                                                           tmp_path: Path) -> None:
    export_dataset(travel, tmp_path / "d.csv", options=ExportOptions(split_multiple=True))
    dataset = pd.read_csv(tmp_path / "d.csv", dtype=str, keep_default_na=False)
    book = pd.read_csv(tmp_path / "d.codebook.csv", dtype=str, keep_default_na=False)
    assert book["column"].tolist() == dataset.columns.tolist()
    row = book.set_index("column").loc["bus_trips"]
    assert row["number"] == "2"
    assert row["label_en"] == "How many bus trips did you make last week?"
    assert row["label_cy"] == "Sawl taith bws a wnaethoch chi yr wythnos diwethaf?"
    assert row["relevant"] == "${uses_bus} = 'yes'"
    assert "question 1" in row["asked_if_en"] and "Yes" in row["asked_if_en"]
    assert "gwestiwn 1" in row["asked_if_cy"]  # Welsh mutates after "i"
    assert row["type"] == "integer" and row["typed_as"] == "Int64"
    assert row["missing"].startswith("SPSS -99, Stata .a: not asked")
    uses_bus = book.set_index("column").loc["uses_bus"]
    assert uses_bus["choices_cy"] == "yes = Ydw; no = Nac ydw"
    assert uses_bus["numbered"] == "1 = yes; 2 = no"
    split = book.set_index("column").loc["modes/cycle"]
    assert (split["sav_name"], split["dta_name"]) == ("modes_cycle", "modes_cycle")
    assert split["label_en"] == "How else do you travel?: Cycling"
    needs = book.set_index("column").loc["_needs_review"]
    assert (needs["sav_name"], needs["dta_name"]) == ("needs_review", "_needs_review")
    assert "waits for a person" in needs["description"]
    page = (tmp_path / "d.codebook.md").read_text()
    assert "## `bus_trips` (question 2)" in page
    assert "Sawl taith bws" in page


def test_a_language_the_form_lacks_is_refused(travel: Workspace, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--language fr: the form is in en, cy"):
        export_dataset(travel, tmp_path / "d.sav", "sav", options=ExportOptions(language="fr"))


def test_an_export_that_cannot_be_written_names_the_file(travel: Workspace,
                                                         tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    for fmt in ("csv", "sav"):
        with pytest.raises(NotWritableError) as raised:
            export_dataset(travel, tmp_path / "taken" / f"d.{fmt}", fmt)
        assert str(tmp_path / "taken") in str(raised.value)
        assert "choose another place for it" in str(raised.value)


def test_a_closed_output_ends_the_command_quietly(travel: Workspace, tmp_path: Path,
                                                  store_url: str) -> None:
    if not store_url.startswith("sqlite"):
        pytest.skip("the command line is the same on both stores")
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head -1` does once it has its line
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90"}
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "--workspace", str(travel.root), "export",
         "--out", str(tmp_path / "d.csv")],
        stdout=write_end, stderr=subprocess.PIPE, env=env, timeout=300, check=False)
    os.close(write_end)
    assert done.returncode == int(ExitCode.OUTPUT_CLOSED), done.stderr
    assert done.stderr.decode() == ""
    assert len(pd.read_csv(tmp_path / "d.csv")) == 5  # the file written is whole


def test_a_value_its_type_cannot_hold_keeps_the_column_as_text(travel: Workspace,
                                                               tmp_path: Path) -> None:
    more = tmp_path / "more.csv"
    more.write_text("response_id,submitted_at,uses_bus,bus_trips,distance_km\n"
                    "o-3,2026-12-03T08:00:00Z,yes,about 40,3\n")
    import_online_export(more, travel)
    summary = export_dataset(travel, tmp_path / "d.parquet", "parquet")
    assert summary.kept_as_text == {
        "bus_trips": "1 value(s) are not whole numbers, such as 'about 40': kept as text"}
    frame = pd.read_parquet(tmp_path / "d.parquet")
    assert frame["bus_trips"].tolist()[-1] == "about 40"  # never dropped
    assert frame["bus_trips"].tolist()[0] == "12"
    assert str(pq.read_schema(tmp_path / "d.parquet").field("distance_km").type) == "double"
