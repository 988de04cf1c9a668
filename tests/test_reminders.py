"""Reminders: the addressed copies that have not come back on any channel get a reminder letter
and a fresh copy with the same serial; a reminder copy scanned later counts once; the tracking
counts each round. Inputs: an addressed mailing of the shipped form (seven recipients), filled
by the simulator twice with different seeds (the copies sent back first, and the same serials
filled in again on the reminder copies, whose pages are the same as the first copies'), an
online export naming a serial, and a paper return keyed by its serial."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import openpyxl
import pandas as pd
import pytest
import zxingcpp
from sqlalchemy import select

from pipeline.dataset.export import export_dataset
from pipeline.dataset.report import tracking_report
from pipeline.dataset.tracking import ReminderRound
from pipeline.errors import ExitCode, TemplateError, WorkspaceError
from pipeline.forms.build import BuiltForm
from pipeline.forms.layout import LayoutOptions
from pipeline.ingest.batch import read_chunk
from pipeline.online import import_online_export
from pipeline.print_record import reprint_plan
from pipeline.programs.poppler import page_count, rasterise_page
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.records import Layout, decode_page_code
from pipeline.reminders import send_reminders
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.store import schema
from pipeline.store.channels import new_channel_response
from pipeline.store.forms import form_template
from pipeline.store.keyed import record_entry
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow

from .conftest import TEMPLATE

SEEDS = (5, 17)  # the copies sent back first, and the reminder copies filled in later
DPI = 200
RECIPIENTS = 7
SCANNED, ONLINE, KEYED = ("000001", "000002"), "000003", "000004"
SILENT = ("000005", "000006", "000007")
ONLY_REMINDER, BOTH_COPIES, STILL_SILENT = SILENT


@dataclass(frozen=True)
class Mailing:
    workspace: Workspace
    root: Path
    layout: Layout
    form_pdf: Path
    answers: dict[str, dict[str, dict[str, object]]]  # seed -> serial -> answers written
    pages: dict[int, list[np.ndarray]]  # seed -> every page of the batch, in copy order

    def copy_pdf(self, name: str, seed: int, serials: Sequence[str]) -> Path:
        """The scanned pages of these copies, filled in as with `seed`, as one scan file."""
        per_copy = len(self.layout.pages)
        order = [c.serial for c in self.layout.copies]
        grays = [gray for serial in serials for gray in
                 self.pages[seed][order.index(serial) * per_copy:
                                  (order.index(serial) + 1) * per_copy]]
        pngs = [bytes(cv2.imencode(".png", g)[1].tobytes()) for g in grays]
        path = self.root / name
        path.write_bytes(img2pdf.convert(pngs, layout_fun=img2pdf.get_fixed_dpi_layout_fun(
            (DPI, DPI))))
        return path


@pytest.fixture(scope="module")
def mailing(tmp_path_factory: pytest.TempPathFactory) -> Mailing:
    root = tmp_path_factory.mktemp("reminders")
    workspace = Workspace.resolve(root / "workspace").ensure()
    recipients = root / "recipients.csv"
    with recipients.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "address", "town", "postcode"])
        for n in range(1, RECIPIENTS + 1):
            writer.writerow([f"Resident {n}", f"{n} Mill Lane", "Millbrook", f"MB1 {n}AA"])
    built = build_forms(TEMPLATE, None, root / "form", workspace, recipients_file=recipients)
    answers: dict[str, dict[str, dict[str, object]]] = {}
    pages: dict[int, list[np.ndarray]] = {}
    for seed in SEEDS:
        batch = simulate_returns(built.pdf_path.parent, root / f"returns-{seed}", seed=seed,
                                 damage=Damage.none())
        answers[str(seed)] = {r["serial"]: r["answers"] for r in
                              json.loads(batch.truth_path.read_text())["responses"]}
        pages[seed] = [gray.copy() for _, gray in
                       iter_pdf_pages(batch.pdf_path, "returns.pdf", DPI)]
    return Mailing(workspace, root, built.layout, built.pdf_path, answers, pages)


def ingest(paths: Sequence[Path], workspace: Workspace) -> list[str]:
    return ingest_without_flow(paths, workspace,
                               lambda chunk, layouts: read_chunk(chunk, layouts, ReaderSettings()))


def papertwin(workspace: Workspace, tmp_path: Path, *args: str
              ) -> subprocess.CompletedProcess[str]:
    """The real command line, as a person runs it."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90"}
    return subprocess.run([sys.executable, "-m", "flows.cli", "--workspace",
                           str(workspace.root), *args], capture_output=True, text=True,
                          env=env, timeout=600, check=False)


def listed(out: Path) -> list[dict[str, str]]:
    with (out / "reminders.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def codes_on_pages(pdf: Path) -> list[tuple[int, str, str, int]]:
    """(page of the PDF, form key, serial, page of the copy) of every page code read back from
    the printed file, as a scanner would see it."""
    found = []
    for number in range(1, page_count(pdf) + 1):
        gray = rasterise_page(pdf, number, 150)
        for barcode in zxingcpp.read_barcodes(gray):
            code = decode_page_code(barcode.text)
            if code is not None:
                found.append((number, code.form_key, code.serial, code.page))
    return found


@pytest.mark.slow
def test_reminders_go_to_exactly_the_silent_and_count_once(mailing: Mailing,
                                                           tmp_path: Path) -> None:
    ws, key = mailing.workspace, mailing.layout.form_key
    first, later = (str(seed) for seed in SEEDS)
    per_copy = len(mailing.layout.pages)
    today = date.today().isoformat()

    # The replies: two scanned, one online with its reference, one keyed by its serial.
    assert ingest([mailing.copy_pdf("returns.pdf", SEEDS[0], SCANNED)], ws) == \
        ["identified"] * 2 * per_copy
    online = tmp_path / "online.csv"
    online.write_text("response_id,submitted_at,respondent_ref,visit_frequency\n"
                      f"o-1,2026-11-10T08:00:00Z,{ONLINE},weekly\n"
                      "o-2,2026-11-11T08:00:00Z,,never\n", encoding="utf-8")
    import_online_export(online, ws)
    with Store.open(ws.store_url) as store:
        keyed = new_channel_response(store, mailing.layout.questionnaire.id, "paper-keyed",
                                     "keyer", form_key=key, serial=KEYED)
        record_entry(store, keyed.response_id, 1, {"visit_frequency": "weekly"}, "keyer")

    # Not yet due: every copy went out after the day before.
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    early = papertwin(ws, tmp_path, "reminders", "--after", yesterday, "--out",
                      str(tmp_path / "early"))
    assert early.returncode == 0, early.stderr
    assert "nobody is due" in early.stdout
    assert "3 of them posted or reminded after" in early.stdout
    assert not (tmp_path / "early" / "reminders.pdf").exists()

    # Round 1: exactly the three silent copies, letter and questionnaire with their serials.
    out = tmp_path / "round1"
    done = papertwin(ws, tmp_path, "reminders", "--after", today, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "7 addressed copies of library_services: 4 replied, 3 not yet" in done.stdout
    assert "printed 3 reminders (3 in round 1)" in done.stdout
    rows = listed(out)
    assert [(r["serial"], r["round"], r["form_key"], r["name"]) for r in rows] == [
        (serial, "1", key, f"Resident {int(serial)}") for serial in SILENT]
    letter_pages = mailing.layout.letter_pages
    each = letter_pages + per_copy + mailing.layout.padding_pages
    assert [int(r["first_page"]) for r in rows] == [1, 1 + each, 1 + 2 * each]
    assert page_count(out / "reminders.pdf") == 3 * each
    codes = codes_on_pages(out / "reminders.pdf")
    assert codes == [(int(r["first_page"]) + letter_pages + page - 1, key, r["serial"], page)
                     for r in rows for page in range(1, per_copy + 1)]

    # The fresh copy is the copy first printed, page for page.
    order = [c.serial for c in mailing.layout.copies]
    for row in rows:
        for page in range(1, per_copy + 1):
            original = rasterise_page(mailing.form_pdf, order.index(row["serial"]) * each
                                      + letter_pages + page, 60)
            again = rasterise_page(out / "reminders.pdf",
                                   int(row["first_page"]) + letter_pages + page - 1, 60)
            assert np.array_equal(original, again), (row["serial"], page)

    # Later: only the reminder copy of one serial comes back; both copies of another.
    assert ingest([mailing.copy_pdf("late.pdf", SEEDS[0], [BOTH_COPIES])], ws) == \
        ["identified"] * per_copy
    assert ingest([mailing.copy_pdf("reminded.pdf", SEEDS[1], [ONLY_REMINDER, BOTH_COPIES])],
                  ws) == ["identified"] * per_copy + ["duplicate"] * per_copy
    with Store.open(ws.store_url) as store, store.engine.connect() as conn:
        p, f = schema.pages, schema.files
        second = conn.execute(select(p.c.serial, p.c.photocopy, p.c.copy_of, p.c.reason)
                              .join(f, f.c.sha256 == p.c.file_sha256)
                              .where(f.c.name == "reminded.pdf", p.c.outcome == "duplicate")
                              ).all()
    assert {(r.serial, r.photocopy, r.copy_of) for r in second} == {(BOTH_COPIES, False, None)}
    assert all("sent a reminder" in r.reason for r in second)

    dataset = tmp_path / "dataset.csv"
    export_dataset(ws, dataset)
    frame = pd.read_csv(dataset, dtype=str, keep_default_na=False)
    paper = frame[frame["channel"] == "paper"]
    assert sorted(paper["respondent_ref"]) == sorted([*SCANNED, ONLY_REMINDER, BOTH_COPIES])
    for serial, seed in ((BOTH_COPIES, first), (ONLY_REMINDER, later)):
        row = paper[paper["respondent_ref"] == serial].iloc[0]
        waiting = set(row["_needs_review"].split())
        checked = [q for q in ("visit_frequency", "opening_hours", "relocation")
                   if q not in waiting]
        assert checked
        for question in checked:
            assert row[question] == truth_value(mailing.answers[seed][serial][question])

    # Round 2: the one still silent.
    out2 = tmp_path / "round2"
    again = papertwin(ws, tmp_path, "reminders", "--after", today, "--out", str(out2))
    assert again.returncode == 0, again.stderr
    assert [(r["serial"], r["round"]) for r in listed(out2)] == [(STILL_SILENT, "2")]
    assert [code[2] for code in codes_on_pages(out2 / "reminders.pdf")] == \
        [STILL_SILENT] * per_copy

    # The tracking counts each round, and the report prints it.
    tracking = tracking_report(ws).tracking
    assert tracking.reminders == (ReminderRound(1, 3, 2), ReminderRound(2, 1, 0))
    report = papertwin(ws, tmp_path, "report")
    assert report.returncode == 0, report.stderr
    assert "reminders: round 1: 3 reminded, 2 replied since; round 2: 1 reminded, 0 " \
           "replied since" in report.stdout
    assert "reminders by round" in report.stdout


def test_how_a_form_was_printed_is_kept(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    built = build_forms(TEMPLATE, 2, tmp_path / "form", workspace,
                        LayoutOptions(large_print=True), duplex=True)
    with Store.open(workspace.store_url) as store:
        record = form_template(store, built.layout.form_key)
        assert record is not None
        kept = workspace.root / record["template"]
        assert record["template"].startswith("templates/")
        assert kept.read_bytes() == TEMPLATE.read_bytes()
        assert record["options"] == {"languages": ["en"], "large_print": True}
        assert record["duplex"] is True
        reprint = reprint_plan(workspace, store, built.layout.form_key)
    assert reprint.plan.layout.form_key == built.layout.form_key
    assert reprint.plan.layout.large_print and reprint.duplex
    # The template beside the PDF may change; the kept one does not.
    edited = tmp_path / "edited.yaml"
    edited.write_text(TEMPLATE.read_text(encoding="utf-8").replace(
        "How often", "How frequently", 1), encoding="utf-8")
    assert edited.read_text(encoding="utf-8") != TEMPLATE.read_text(encoding="utf-8")
    other = build_forms(edited, 1, tmp_path / "form2", workspace)
    assert other.layout.form_key != built.layout.form_key
    with Store.open(workspace.store_url) as store:
        assert form_template(store, built.layout.form_key) == record


def addressed_to_ann(template: Path, tmp_path: Path) -> tuple[Workspace, BuiltForm, Path]:
    """One addressed copy of the template, in a new workspace: the workspace, the form, and the
    template as the workspace keeps it."""
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    recipients = tmp_path / "people.csv"
    recipients.write_text("name,address\nAnn,1 Mill Lane\n", encoding="utf-8")
    built = build_forms(template, None, tmp_path / "form", workspace, recipients_file=recipients)
    assert isinstance(built, BuiltForm)
    with Store.open(workspace.store_url) as store:
        record = form_template(store, built.layout.form_key)
    assert record is not None
    return workspace, built, workspace.root / record["template"]


def test_a_changed_kept_template_is_a_clear_error(tmp_path: Path) -> None:
    workspace, built, kept = addressed_to_ann(TEMPLATE, tmp_path)
    kept.write_text(kept.read_text(encoding="utf-8").replace("How often", "How frequently", 1),
                    encoding="utf-8")
    with pytest.raises(TemplateError) as raised:
        send_reminders(workspace, date.today(), tmp_path / "out")
    assert built.layout.form_key in str(raised.value)
    assert "not as the form" in str(raised.value)
    assert not (tmp_path / "out" / "reminders.pdf").exists()
    with Store.open(workspace.store_url) as store, store.engine.connect() as conn:
        assert conn.execute(select(schema.reminders)).all() == []
    assert raised.value.exit_code == ExitCode.TEMPLATE == 3


def test_no_addressed_copies_is_said_not_a_crash(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    build_forms(TEMPLATE, 2, tmp_path / "form", workspace)
    run = send_reminders(workspace, date.today(), tmp_path / "out")
    assert (run.addressed, run.reminded, run.written) == (0, (), ())
    assert not (tmp_path / "out").exists()


def test_a_form_registered_without_its_template_says_what_to_do(tmp_path: Path) -> None:
    workspace, built, _ = addressed_to_ann(TEMPLATE, tmp_path)
    with Store.open(workspace.store_url) as store, store.engine.begin() as conn:
        conn.execute(schema.forms.update().values(template=None))
    with pytest.raises(WorkspaceError) as raised:
        send_reminders(workspace, date.today(), tmp_path / "out")
    assert f"form {built.layout.form_key} was registered without its template" in \
        str(raised.value)


def test_the_files_a_template_names_are_kept_with_it(tmp_path: Path) -> None:
    """A logo in a folder beside the template's: both kept, in the same places relative to each
    other, so the kept template prints the same letterhead after the originals are gone."""
    source = tmp_path / "consultation"
    (source / "forms").mkdir(parents=True)
    (source / "art").mkdir()
    crest = np.full((40, 120, 3), 255, np.uint8)
    crest[10:30, 10:110] = (40, 80, 160)
    cv2.imwrite(str(source / "art" / "crest.png"), crest)
    template = source / "forms" / "library.yaml"
    template.write_text(TEMPLATE.read_text(encoding="utf-8")
                        + "logo: ../art/crest.png\n", encoding="utf-8")
    workspace, built, kept = addressed_to_ann(template, tmp_path)
    assert kept.parent.name == "forms"
    assert (kept.parent.parent / "art" / "crest.png").read_bytes() == \
        (source / "art" / "crest.png").read_bytes()
    for path in (template, source / "art" / "crest.png"):
        path.unlink()
    run = send_reminders(workspace, date.today(), tmp_path / "out")
    assert [copy.serial for copy in run.reminded] == ["000001"]
    original, again = (rasterise_page(pdf, 1, 60) for pdf in (built.pdf_path,
                                                               tmp_path / "out" / "reminders.pdf"))
    top = slice(0, 60)  # the letterhead, logo included, is the same as the first letter's
    assert original[top].min() < 128  # the logo and the organisation's name are drawn there
    assert np.array_equal(original[top], again[top])


def test_an_xlsforms_choices_file_is_kept_with_it(tmp_path: Path) -> None:
    """select_one_from_file takes its choices from a CSV beside the form: kept beside the kept
    form, so the reprint has the same choices (the same form key), the recipient list not."""
    source = tmp_path / "forms"
    source.mkdir()
    (source / "towns.csv").write_text("name,label\ncardiff,Cardiff\nnewport,Newport\n",
                                      encoding="utf-8")
    people = source / "people.csv"
    people.write_text("name,address\nAnn,1 Mill Lane\n", encoding="utf-8")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in (["type", "name", "label"],
                ["select_one_from_file towns.csv", "town", "Which town?"],
                ["text", "why", "Why?"]):
        sheet.append(row)
    book.create_sheet("settings").append(["form_id", "version"])
    book["settings"].append(["towns", "1"])
    template = source / "towns.xlsx"
    book.save(template)
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    built = build_forms(template, None, tmp_path / "form", workspace, recipients_file=people)
    with Store.open(workspace.store_url) as store:
        record = form_template(store, built.layout.form_key)
    assert record is not None
    kept = workspace.root / record["template"]
    assert sorted(path.name for path in kept.parent.iterdir()) == ["towns.csv", "towns.xlsx"]
    (source / "towns.csv").write_text("name,label\nswansea,Swansea\n", encoding="utf-8")
    run = send_reminders(workspace, date.today(), tmp_path / "out")
    assert [(copy.serial, copy.form_key) for copy in run.reminded] == \
        [("000001", built.layout.form_key)]


def test_a_long_run_is_printed_in_parts_joined_into_one_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a long build, the reminders are drawn some copies at a time (memory stays flat);
    the print file joins them in order, each reminder where the list says it starts."""
    monkeypatch.setattr("pipeline.reminders.PART_COPIES", 2)
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    people = tmp_path / "people.csv"
    people.write_text("name,address\n" + "".join(f"Resident {n},{n} Mill Lane\n"
                                                 for n in range(1, 4)), encoding="utf-8")
    built = build_forms(TEMPLATE, None, tmp_path / "form", workspace, recipients_file=people)
    run = send_reminders(workspace, date.today(), tmp_path / "out", today=date(2026, 11, 20))
    pdf = tmp_path / "out" / "reminders.pdf"
    each = page_count(pdf) // 3
    assert [(c.serial, c.first_page) for c in run.reminded] == [
        ("000001", 1), ("000002", 1 + each), ("000003", 1 + 2 * each)]
    letter = built.layout.letter_pages
    per_copy = len(built.layout.pages)
    assert codes_on_pages(pdf) == [
        (c.first_page + letter + page - 1, built.layout.form_key, c.serial, page)
        for c in run.reminded for page in range(1, per_copy + 1)]
    assert [r["serial"] for r in listed(tmp_path / "out")] == ["000001", "000002", "000003"]


def test_the_reminder_letter_says_so_in_every_printed_language(tmp_path: Path) -> None:
    import pdfplumber

    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    people = tmp_path / "people.csv"
    people.write_text("name,address,postcode\nAnn Jones,1 Bute Street,CF10 1AA\n",
                      encoding="utf-8")
    template = TEMPLATE.parent / "town_centre_xlsform.md"
    build_forms(template, None, tmp_path / "form", workspace,
                LayoutOptions(languages=("en", "cy"), large_print=True),
                recipients_file=people, duplex=True)
    run = send_reminders(workspace, date.today(), tmp_path / "out", today=date(2026, 11, 20))
    assert [(c.variant, c.languages) for c in run.reminded] == [("en-cy-large-print", "en,cy")]
    with pdfplumber.open(tmp_path / "out" / "reminders.pdf") as pdf:
        letter = " ".join(" ".join((page.extract_text() or "").split())
                          for page in pdf.pages[:2])
    for said in ("Ann Jones", "1 Bute Street", "CF10 1AA", "Our reference: 000001",
                 "Ein cyfeirnod: 000001", "20 November 2026", "Dear Ann Jones,",
                 "Annwyl Ann Jones,", "Reminder: ", "Nodyn atgoffa: ",
                 "we have not yet received your reply",
                 "If you have already replied, thank you",
                 "Os ydych eisoes wedi ateb, diolch", "Yours sincerely,"):
        assert said in letter, said
    assert "Please find enclosed a questionnaire about" not in letter  # not the first letter
