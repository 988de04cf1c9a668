"""Repeat groups as tables of their own: an online export's repeat tables read under the paper
copies' names, and the dataset's repeat groups written as tables keyed the way the reconciled
online export keys them (DESIGN.md, "Unified dataset")."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipeline.dataset.build import combine_channels
from pipeline.dataset.export import ExportOptions, export_dataset
from pipeline.dataset.repeats import repeat_tables
from pipeline.errors import InputFileError
from pipeline.forms.sources import load_questionnaire
from pipeline.online import import_online_export, read_online_export
from pipeline.online.repeats import RepeatRead
from pipeline.publish import build_forms
from pipeline.records import Answer, ArchivedFile, PageRef, PageResult
from pipeline.registry import registered_layouts
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import PROJECT
from .test_repeats import HOUSEHOLD, REAL_FORMS, write_form

DATA = PROJECT / "tests" / "data" / "repeats"
ODK_FILES = ("household.csv", "household-member.csv", "household-visit.csv",
             "household-plot.csv")
KOBO_SHEETS = {"Household survey": "main", "member": "member", "visit": "visit", "plot": "plot"}
A = "0b6f4c3e-1d2a-4e8b-9f70-3c5a7d9e1b24"  # the online submissions' instance ids
B = "7e2d9a51-c4b8-4f13-a6e0-58b1f2c3d490"
# What the two paper copies say: serial -> question -> (value, waits for a person).
PAPER = {
    "000001": {"hh_size": "3", "member[1]/first_name": "Jo", "member[1]/sex": "f",
               "member[1]/age": "45", "member[2]/first_name": "Kit", "member[2]/sex": "m",
               "member[2]/age": "47", "member[3]/first_name": "Lu", "member[3]/sex": "f",
               "member[3]/age": ("15", True), "visit[1]/seen": "no", "visit[1]/paid": "no",
               "visit[2]/plot[1]/area": "2.5", "visit[2]/plot[1]/crops": "maize",
               "again": "yes"},
    "000002": {"hh_size": "1", "member[1]/first_name": "Mo", "member[1]/sex": "m",
               "member[1]/age": "80", "again": "no"},
}
MEMBERS = [("Ana", "f", "34"), ("Ben", "m", "36"), ("Dan", "m", "70"), ("Eve", "f", "68"),
           ("Fay", "f", "40"), ("Gus", "m", "38"), ("Hal", "m", "12"), ("Ivy", "f", "9")]


# -- the online exports, as the tools write them -------------------------------------------------

def odk_zip(path: Path) -> Path:
    """ODK Central's CSV zip of the household form, from the hand-written CSV files."""
    with zipfile.ZipFile(path, "w") as archive:
        for name in ODK_FILES:
            archive.write(DATA / name, name)
    return path


def kobo_xlsx(path: Path, sheets: dict[str, str] = KOBO_SHEETS) -> Path:
    """Kobo's XLSX export: its sheets from the hand-written CSVs, numbers as number cells."""
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, part in sheets.items():
        sheet = book.create_sheet(title)
        with (DATA / f"kobo_household-{part}.csv").open(encoding="utf-8", newline="") as f:
            records = list(csv.reader(f, delimiter=";"))
        sheet.append(records[0])
        for record in records[1:]:
            sheet.append([_kobo_cell(name, value) for name, value in zip(records[0], record,
                                                                          strict=True)])
    book.save(path)
    return path


def _kobo_cell(column: str, value: str) -> object:
    if column == "_submission_time":
        return datetime.fromisoformat(value)
    if re.fullmatch(r"\d+", value):
        return int(value)
    if re.fullmatch(r"\d+\.\d+", value):
        return float(value)
    return value or None


# -- the paper returns, stored as the ingest flow stores them ------------------------------------

def household_workspace(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch,
                        ) -> tuple[Workspace, str]:
    """The household form built (2 copies) and both copies' pages stored as read."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    build_forms(write_form(tmp_path / "household.xlsx", HOUSEHOLD), 2, tmp_path / "form",
                workspace)
    ((key, layout),) = registered_layouts(workspace).items()
    results = []
    for serial, answers in PAPER.items():
        for page in layout.pages:
            read = []
            for question in dict.fromkeys(f.question for f in page.fields):
                given = answers.get(question, "")
                value, waits = given if isinstance(given, tuple) else (given, False)
                read.append(Answer(question, value, 0.6 if waits else 0.97, waits,
                                   "OCR low confidence: 0.60" if waits else ""))
            results.append(PageResult(PageRef("c" * 64, "returns.pdf", len(results) + 1),
                                      "identified", form_key=key, serial=serial,
                                      page=page.page, answers=tuple(read)))
    archived = ArchivedFile("c" * 64, "returns.pdf", workspace.root / "returns.pdf",
                            workspace.root / "archive.pdf", "pdf", 1000)
    store = Store.open(workspace.store_url)
    try:
        store.record_file(store.begin_batch(["returns.pdf"]), archived, results,
                          workspace.crops_dir)
    finally:
        store.close()
    return workspace, key


# -- reading the online exports ------------------------------------------------------------------

@pytest.fixture
def form(tmp_path: Path) -> object:
    return load_questionnaire(write_form(tmp_path / "household.xlsx", HOUSEHOLD)).questionnaire


ONLINE_REPEAT_ANSWERS = {
    "member[1]/first_name": "Ana", "member[1]/sex": "f", "member[1]/age": "34",
    "member[2]/first_name": "Ben", "member[2]/sex": "m", "member[2]/age": "36",
    "visit[1]/seen": "yes", "visit[1]/wait": "20", "visit[1]/paid": "no",
    "visit[2]/seen": "no", "visit[2]/wait": "", "visit[2]/paid": "yes",
    "visit[1]/plot[1]/area": "1.5", "visit[1]/plot[1]/crops": "maize beans",
    "visit[1]/plot[2]/area": "0.25", "visit[1]/plot[2]/crops": "rice",
}


@pytest.mark.parametrize("export", ["zip", "beside", "kobo"])
def test_repeat_tables_are_read_under_the_copies_names(tmp_path: Path, form: object,
                                                        export: str) -> None:
    path = {"zip": lambda: odk_zip(tmp_path / "household.zip"),
            "beside": lambda: DATA / "household.csv",
            "kobo": lambda: kobo_xlsx(tmp_path / "household.xlsx")}[export]()
    imported = read_online_export(path, form)  # type: ignore[arg-type]
    kobo = export == "kobo"
    assert imported.convention == ("kobo" if kobo else "odk")
    tables = ("member", "visit", "plot") if kobo else ODK_FILES[1:]
    assert imported.repeats == tuple(RepeatRead(name, table, rows) for name, table, rows in zip(
        ("member", "visit", "plot"), tables, (8, 3, 3), strict=True))
    first, second = (dict(row.answers) for row in imported.rows)
    assert {k: v for k, v in first.items() if "[" in k and v} == \
        {k: v for k, v in ONLINE_REPEAT_ANSWERS.items() if v}
    # Six members online, five printed: the sixth is kept under the name a sixth copy has.
    assert [second[f"member[{k}]/first_name"] for k in range(1, 7)] == \
        ["Dan", "Eve", "Fay", "Gus", "Hal", "Ivy"]
    assert second["member[6]/age"] == "9" and "member[6]/age" not in imported.missing
    assert second["visit[1]/plot[1]/crops"] == "beans" and second["visit[2]/seen"] == ""
    assert imported.missing == ()  # copies no one filled in online are matched, not missing
    assert imported.invalid == () and imported.disagreements == ()
    assert [row.source for row in imported.rows] == [
        f"{path.name} row {n} ({imported.convention})" for n in (1, 2)]


def test_a_repeat_file_alone_is_refused_and_a_kobo_csv_says_it_holds_no_repeats(
        tmp_path: Path, form: object) -> None:
    with pytest.raises(InputFileError, match=r"household-member.csv is the file of a repeat "
                                             r"group \(ODK Central.*the CSV zip"):
        read_online_export(DATA / "household-member.csv", form)  # type: ignore[arg-type]
    kobo_csv = tmp_path / "household.csv"
    kobo_csv.write_bytes((DATA / "kobo_household-main.csv").read_bytes())
    imported = read_online_export(kobo_csv, form)  # type: ignore[arg-type]
    assert imported.warnings == (
        "repeat groups member, visit, plot not imported: a KoboToolbox CSV export holds the "
        "main table only; export XLSX, which holds each repeat group as a sheet",)
    alone = tmp_path / "main.csv"  # an ODK main CSV whose repeat files are elsewhere
    alone.write_bytes((DATA / "household.csv").read_bytes())
    assert read_online_export(alone, form).warnings == (  # type: ignore[arg-type]
        "repeat groups member, visit, plot not imported: ODK Central writes them to "
        "main-member.csv, main-visit.csv, main-plot.csv; download the CSV zip, or put those "
        "files beside the main CSV",)


def test_a_repeat_row_whose_parent_is_not_in_the_export_is_refused(tmp_path: Path,
                                                                    form: object) -> None:
    path = tmp_path / "household.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(DATA / "household.csv", "household.csv")
        archive.writestr("household-member.csv", "first_name,PARENT_KEY,KEY\n"
                                                 "Zoe,uuid:elsewhere,uuid:elsewhere/member[1]\n")
    with pytest.raises(InputFileError, match=r"household-member.csv\): row 1 names parent "
                                             r"PARENT_KEY 'uuid:elsewhere'"):
        read_online_export(path, form)  # type: ignore[arg-type]


# -- the dataset's repeat tables -----------------------------------------------------------------

def expected_tables(key: str, kobo: bool) -> dict[str, pd.DataFrame]:
    """The member, visit and plot tables of the two paper copies and the two online
    submissions, keyed as ODK Central or Kobo keys them."""
    paper1, paper2 = f"paper-{key}-000001", f"paper-{key}-000002"
    a, b = (A, B) if kobo else (f"uuid:{A}", f"uuid:{B}")
    members = [(paper1, "paper", "Jo", "f", "45", "", ()), (paper1, "paper", "Kit", "m", "47",
                                                             "", ()),
               (paper1, "paper", "Lu", "f", "15", "age", ()),
               (paper2, "paper", "Mo", "m", "80", "", ()),
               *((a if i < 2 else b, "online", *m, "", ()) for i, m in enumerate(MEMBERS))]
    copies = [1, 2, 3, 1, 1, 2, 1, 2, 3, 4, 5, 6]
    parents = [1, 1, 1, 2, 3, 3, 4, 4, 4, 4, 4, 4]
    visits = [(paper1, "paper", "no", "", "no", 1, 1), (paper1, "paper", "", "", "", 2, 1),
              (a, "online", "yes", "20", "no", 1, 3), (a, "online", "no", "", "yes", 2, 3),
              (b, "online", "yes", "45", "yes", 1, 4)]
    plots = [(paper1, "paper", "2.5", "maize", (2, 1), 2), (a, "online", "1.5", "maize beans",
                                                            (1, 1), 3),
             (a, "online", "0.25", "rice", (1, 2), 3), (b, "online", "3", "beans", (1, 1), 5)]

    def keyed(rows: list[list[str]], names: list[str], parent_table: str,
              parent_index: list[int], parent_key: list[str], own: list[str]) -> pd.DataFrame:
        if kobo:
            columns = [*names, "_index", "_parent_table_name", "_parent_index",
                       "_submission__uuid"]
            data = [[*row, str(i), parent_table, str(p), row[0]]
                    for i, (row, p) in enumerate(zip(rows, parent_index, strict=True), start=1)]
        else:
            columns = [*names, "PARENT_KEY", "KEY"]
            data = [[*row, pk, k] for row, pk, k in zip(rows, parent_key, own, strict=True)]
        return pd.DataFrame(data, columns=columns, dtype=str)

    # columns named as the platform's own repeat tables name them (Kobo: with the group path)
    within = {"member": "member/", "visit": "visit/", "plot": "visit/plot/"} if kobo else {}
    member_names = ["response_id", "channel",
                    *(within.get("member", "") + n for n in ("first_name", "sex", "age")),
                    "_needs_review"]
    visit_names = ["response_id", "channel",
                   *(within.get("visit", "") + n for n in ("seen", "wait", "paid")),
                   "_needs_review"]
    plot_names = ["response_id", "channel",
                  *(within.get("plot", "") + n for n in ("area", "crops")), "_needs_review"]
    return {
        "member": keyed([list(m[:6]) for m in members], member_names, "dataset", parents, [
            m[0] for m in members], [f"{m[0]}/member[{k}]" for m, k in zip(
                members, copies, strict=True)]),
        "visit": keyed([[*v[:5], ""] for v in visits], visit_names, "dataset",
                       [v[6] for v in visits], [v[0] for v in visits],
                       [f"{v[0]}/visit[{v[5]}]" for v in visits]),
        "plot": keyed([[*p[:4], ""] for p in plots], plot_names, "visit",
                      [p[5] for p in plots], [f"{p[0]}/visit[{p[4][0]}]" for p in plots],
                      [f"{p[0]}/visit[{p[4][0]}]/plot[{p[4][1]}]" for p in plots]),
    }


def _text(value: object) -> str:
    """A typed cell as the text export writes it (a decimal 3.0 was answered 3)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_back(path: Path, fmt: str, name: str) -> pd.DataFrame:
    """A written table as text, read by pandas (CSV, Parquet) or openpyxl (XLSX)."""
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True)[name]
        rows = [["" if v is None else str(v) for v in row]
                for row in sheet.iter_rows(values_only=True)]
        return pd.DataFrame(rows[1:], columns=rows[0], dtype=str)
    target = path.with_name(f"dataset.{name}.{fmt}") if name != "dataset" else path
    if fmt == "parquet":  # typed: numbers as numbers (test_dataset_files.py checks the types)
        table = pd.read_parquet(target)
        return pd.DataFrame({c: [_text(v) for v in table[c]] for c in table.columns}, dtype=str)
    return pd.read_csv(target, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("platform", ["odk", "kobo"])
def test_paper_and_online_instances_share_each_repeats_table_keyed_as_the_platform_keys_them(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    workspace, key = household_workspace(tmp_path, store_url, monkeypatch)
    export = odk_zip(tmp_path / "household.zip") if platform == "odk" else \
        kobo_xlsx(tmp_path / "household.xlsx")
    import_online_export(export, workspace)
    kobo = platform == "kobo"
    wanted = expected_tables(key, kobo)
    for fmt in ("csv", "parquet", "xlsx"):
        out = tmp_path / f"dataset.{fmt}"
        summary = export_dataset(workspace, out, fmt)
        assert summary.repeats == {"member": 12, "visit": 5, "plot": 4}
        assert summary.repeat_keys == platform
        if fmt != "xlsx":
            assert summary.written[:4] == (out, *(tmp_path / f"dataset.{name}.{fmt}"
                                                  for name in ("member", "visit", "plot")))
        else:
            assert openpyxl.load_workbook(out, read_only=True).sheetnames == [
                "dataset", "member", "visit", "plot", "codebook", "summary"]
        for name, table in wanted.items():
            pd.testing.assert_frame_equal(read_back(out, fmt, name), table, obj=f"{fmt} {name}")
        main = read_back(out, fmt, "dataset")
        metadata = [c for c in main.columns[7:] if c not in (  # the platform's own
            "_needs_review", "_confidence", "_source", "_pages_missing", "_off_route", "_index")]
        assert list(main.columns) == [
            "response_id", "channel", "submitted_at", "respondent_ref", "hh_size", "again",
            "member_count", *metadata, "_needs_review", "_confidence", "_source",
            "_pages_missing", "_off_route", *(["_index"] if kobo else [])]
        assert list(main["_needs_review"]) == ["member[3]/age", "", "", ""]
        if kobo:
            assert list(main["_index"]) == ["1", "2", "3", "4"]


def test_the_wide_columns_stay_reachable(tmp_path: Path, store_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, _ = household_workspace(tmp_path, store_url, monkeypatch)
    import_online_export(odk_zip(tmp_path / "household.zip"), workspace)
    out = tmp_path / "wide.csv"
    summary = export_dataset(workspace, out, options=ExportOptions(repeats="wide"))
    assert summary.repeats is None and not (tmp_path / "wide.member.csv").exists()
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame["member[3]/first_name"]) == ["Lu", "", "", "Fay"]
    assert list(frame["member[6]/first_name"]) == ["", "", "", "Ivy"]  # beyond the printed 5


def test_without_an_online_export_the_tables_are_keyed_as_odk_central_keys_them(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, key = household_workspace(tmp_path, store_url, monkeypatch)
    summary = export_dataset(workspace, tmp_path / "dataset.csv")
    assert summary.repeat_keys == "odk"
    plot = pd.read_csv(tmp_path / "dataset.plot.csv", dtype=str, keep_default_na=False)
    paper = f"paper-{key}-000001"
    assert plot.to_dict("records") == [
        {"response_id": paper, "channel": "paper", "area": "2.5", "crops": "maize",
         "_needs_review": "", "PARENT_KEY": f"{paper}/visit[2]",
         "KEY": f"{paper}/visit[2]/plot[1]"}]


# -- a real form ---------------------------------------------------------------------------------

NESTED = REAL_FORMS / "kc_nested_repeats.xls"
SUBMISSION = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
              "_submitted_by", "__version__", "_tags"]


@pytest.mark.skipif(not NESTED.is_file(), reason="the real XLSForms are not beside the project")
def test_a_real_forms_nested_repeats_from_a_kobo_export(tmp_path: Path) -> None:
    """kobocat's nested repeats form (kids, and each kid's immunizations, inside a group) as
    Kobo's XLSX export holds two submissions of it."""
    questionnaire = load_questionnaire(NESTED).questionnaire
    first, second = "3c9a1f6e-5b2d-4e7a-8c01-9d4f2b6a7e15", "e81b4d2c-7f3a-4a96-b5c8-0a2e6d9f1c37"
    times = [datetime(2027, 3, 4, 9, 30, 12), datetime(2027, 3, 5, 14, 2, 45)]
    book = openpyxl.Workbook()
    main = book.active
    assert main is not None
    main.title = "Nested repeats Test"
    main.append(["start", "end", "kids/has_kids", "kids/nested_group/nested_name",
                 "kids/nested_group/nested_age", "address", "gps", "_gps_latitude",
                 "_gps_longitude", "_gps_altitude", "_gps_precision", "web_browsers",
                 "web_browsers/firefox", "web_browsers/chrome", "web_browsers/ie",
                 "web_browsers/safari", "meta/instanceID", *SUBMISSION, "_index"])
    copied = [[601, first, times[0], None, None, "submitted_via_web", None, "v1", None],
              [602, second, times[1], None, None, "submitted_via_web", None, "v1", None]]
    main.append(["2027-03-04T09:21:00+03:00", "2027-03-04T09:30:01+03:00", "1", "Halima", 35,
                 "Plot 12, Kisumu", None, None, None, None, None, "firefox chrome", 1, 1, 0, 0,
                 f"uuid:{first}", *copied[0], 1])
    main.append(["2027-03-05T13:55:10+03:00", "2027-03-05T14:02:40+03:00", "0", None, None,
                 "Box 88, Eldoret", None, None, None, None, None, "safari", 0, 0, 0, 1,
                 f"uuid:{second}", *copied[1], 2])
    auto = ["_index", "_parent_table_name", "_parent_index",
            *(f"_submission_{c}" for c in SUBMISSION)]
    kids = book.create_sheet("kids_details")
    kids.append(["kids/kids_details/kids_name", "kids/kids_details/kids_age", *auto])
    kids.append(["Amina", 7, 1, "Nested repeats Test", 1, *copied[0]])
    kids.append(["Juma", 4, 2, "Nested repeats Test", 1, *copied[0]])
    shots = book.create_sheet("kids_immunization")
    shots.append(["kids/kids_details/kids_immunization/immunization_info", *auto])
    shots.append(["BCG 2020-03-01", 1, "kids_details", 1, *copied[0]])
    shots.append(["Polio 2020-05-10", 2, "kids_details", 1, *copied[0]])
    shots.append(["BCG 2023-01-15", 3, "kids_details", 2, *copied[0]])
    book.save(tmp_path / "nested.xlsx")

    imported = read_online_export(tmp_path / "nested.xlsx", questionnaire)
    assert imported.repeats == (RepeatRead("kids_details", "kids_details", 2),
                                RepeatRead("kids_immunization", "kids_immunization", 3))
    answers = dict(imported.rows[0].answers)
    assert answers["kids_details[2]/kids_immunization[1]/immunization_info"] == "BCG 2023-01-15"
    assert answers["kids_details[1]/kids_age"] == "7" and answers["web_browsers"] == \
        "firefox chrome"
    dataset = combine_channels([], list(imported.rows), questionnaire)
    main_frame, tables = repeat_tables(dataset.frame, questionnaire, "kobo")
    assert "kids_details[1]/kids_name" not in main_frame.columns
    assert list(main_frame["_index"]) == ["1", "2"]
    assert tables["kids_details"].to_dict("records") == [
        {"response_id": first, "channel": "online", "kids_name": name, "kids_age": age,
         "_needs_review": "", "_index": index, "_parent_table_name": "dataset",
         "_parent_index": "1", "_submission__uuid": first}
        for name, age, index in (("Amina", "7", "1"), ("Juma", "4", "2"))]
    assert tables["kids_immunization"][["immunization_info", "_index", "_parent_table_name",
                                        "_parent_index"]].values.tolist() == [
        ["BCG 2020-03-01", "1", "kids_details", "1"],
        ["Polio 2020-05-10", "2", "kids_details", "1"],
        ["BCG 2023-01-15", "3", "kids_details", "2"]]


def test_what_a_person_reads_of_the_repeat_tables(
        tmp_path: Path, form: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.present import exported, print_import_report
    from pipeline.dataset.export import ExportSummary

    out = io.StringIO()
    path = odk_zip(tmp_path / "household.zip")
    print_import_report(read_online_export(path, form), path, out)  # type: ignore[arg-type]
    assert [line for line in out.getvalue().splitlines() if "repeat group" in line] == [
        f"  repeat group {name}: {rows} rows from household-{name}.csv, kept under the copies' "
        "names" for name, rows in (("member", 8), ("visit", 3), ("plot", 3))]
    exported(ExportSummary(tmp_path / "d.csv", 4, {"paper": 2, "online": 2}, 1, 3,
                           repeats={"member": 12, "visit": 5}, repeat_keys="kobo"), False)
    assert "  repeat groups as tables, keyed by KoboToolbox's _index and _parent_index: " \
           "member (12 rows), visit (5 rows)" in capsys.readouterr().out.splitlines()
