"""Recipients' preferences: a mailing whose `language` and `format` columns ask for different
variants prints each person's copy in their variant, as sorted runs with serials unique across
them, and the reading of every variant lands in the same columns of one dataset. Inputs: a short
English and Welsh poll (tests/data/preferences/), a recipient list written here, and a real
XLSForm in English and French from the shared corpus."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pdfplumber
import pytest

from flows.cli import main
from pipeline.dataset.export import export_dataset
from pipeline.errors import ExitCode, InputFileError, UsageError
from pipeline.forms.build import BuiltForm, preview_form
from pipeline.forms.layout import LayoutOptions
from pipeline.ingest.batch import read_chunk
from pipeline.mailing import BuiltMailing
from pipeline.print_record import reprint_plan
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.registry import registered_layouts
from pipeline.reminders import send_reminders
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow

from .conftest import PROJECT

POLL = PROJECT / "tests" / "data" / "preferences" / "park_poll_cy.yaml"
REAL_XLSFORM = PROJECT.parent / "shared" / "xlsforms" / "forms" / "avoratovo_satisfaction.xlsx"
QUESTIONS = ("visits", "improve", "age")
WELSH_QUESTION = "Pa mor aml ydych chi"  # the poll's first question in Welsh
ENGLISH_QUESTION = "How often do you visit"
# name, language column, format column, the variant expected
PEOPLE = (
    ("Ann Jones", "en", "standard", "en-standard"),
    ("Bryn Owen", "cy,en", "standard", "cy-en-standard"),
    ("Carys Lewis", "en", "large-print", "en-large-print"),
    ("Dai Price", "", "", "en-standard"),  # blank: the run's options
    ("Eve Hughes", "CY; EN", "", "cy-en-standard"),
    ("Ffion Rees", "cy,en", "Large Print", "cy-en-large-print"),
)
RUNS = ("cy-en-large-print", "cy-en-standard", "en-large-print", "en-standard")


def write_recipients(path: Path, people: tuple[tuple[str, str, str, str], ...]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "address1", "town", "language", "format"])
        for number, (name, language, fmt, _) in enumerate(people, start=1):
            writer.writerow([name, f"{number} High Street", "Millbrook", language, fmt])
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Mailing:
    workspace: Workspace
    out: Path
    built: BuiltMailing


@pytest.fixture(scope="module")
def mailing(tmp_path_factory: pytest.TempPathFactory) -> Mailing:
    root = tmp_path_factory.mktemp("preferences")
    workspace = Workspace.resolve(root / "workspace").ensure()
    recipients = write_recipients(root / "recipients.csv", PEOPLE)
    built = build_forms(POLL, None, root / "mailing", workspace, recipients_file=recipients)
    assert isinstance(built, BuiltMailing)
    return Mailing(workspace, root / "mailing", built)


def test_a_mixed_mailing_prints_a_sorted_run_per_variant(mailing: Mailing) -> None:
    runs = read_csv(mailing.out / "runs.csv")
    assert [r["variant"] for r in runs] == list(RUNS)
    assert [(r["languages"], r["format"], r["copies"]) for r in runs] == [
        ("cy,en", "large-print", "1"), ("cy,en", "standard", "2"),
        ("en", "large-print", "1"), ("en", "standard", "2")]
    registered = registered_layouts(mailing.workspace)
    for run in runs:
        folder = mailing.out / run["variant"]
        assert run["file"] == f"{run['variant']}/form.pdf"
        assert {p.name for p in folder.iterdir()} == {"form.pdf", "layout.json", "contacts.csv"}
        layout = json.loads((folder / "layout.json").read_text())
        assert layout["form_key"] == run["form_key"]
        serials = [c["serial"] for c in layout["copies"]]
        assert (serials[0], serials[-1]) == (run["first_serial"], run["last_serial"])
        assert len(serials) == int(run["copies"])
        assert registered[run["form_key"]].languages == tuple(run["languages"].split(","))
        assert registered[run["form_key"]].large_print == (run["format"] == "large-print")
    assert len({r["form_key"] for r in runs}) == len(RUNS)

    contacts = read_csv(mailing.out / "contacts.csv")
    expected = {name: variant for name, _, _, variant in PEOPLE}
    assert {c["name"]: c["variant"] for c in contacts} == expected
    assert [c["variant"] for c in contacts] == sorted(c["variant"] for c in contacts)
    # the serials of one questionnaire never repeat across its variants, and follow the runs
    assert [c["serial"] for c in contacts] == [f"{n:06d}" for n in range(1, len(PEOPLE) + 1)]
    # each person's row keeps the variant printed for them, a blank filled with the run's
    dai = next(c for c in contacts if c["name"] == "Dai Price")
    assert (dai["language"], dai["format"]) == ("en", "standard")
    eve = next(c for c in contacts if c["name"] == "Eve Hughes")
    assert (eve["language"], eve["format"]) == ("cy,en", "standard")
    # the store keeps every contact under its variant's form key, with its preference
    with Store.open(mailing.workspace.store_url) as store:
        for run in runs:
            kept = store.contacts(run["form_key"])
            in_run = [c for c in contacts if c["variant"] == run["variant"]]
            assert {s: (r["name"], r["language"], r["format"]) for s, r in kept.items()} == {
                c["serial"]: (c["name"], c["language"], c["format"]) for c in in_run}


def test_each_variant_is_kept_so_a_reminder_reprints_it(mailing: Mailing) -> None:
    """Every serial belongs to one registered variant, which lays out again as printed."""
    contacts = read_csv(mailing.out / "contacts.csv")
    with Store.open(mailing.workspace.store_url) as store:
        for printed in mailing.built.runs:
            layout = printed.built.layout
            again = reprint_plan(mailing.workspace, store, layout.form_key)
            assert again.plan.layout.form_key == layout.form_key
            assert again.plan.languages == printed.run.variant.languages
            owned = {c["serial"] for c in contacts if c["variant"] == printed.run.variant.name}
            assert owned == {c.serial for c in layout.copies}


def _label_size(page: pdfplumber.page.Page, word: str) -> float:
    sizes = [w["size"] for w in page.extract_words(extra_attrs=["size"]) if w["text"] == word]
    assert sizes, f"'{word}' is not on the page"
    return float(max(sizes))


def test_each_copy_carries_its_languages_and_size(mailing: Mailing) -> None:
    contacts = read_csv(mailing.out / "contacts.csv")
    for printed in mailing.built.runs:
        variant, layout = printed.run.variant, printed.built.layout
        welsh = "cy" in variant.languages
        with pdfplumber.open(printed.built.pdf_path) as pdf:
            assert len(pdf.pages) == len(layout.copies) * layout.pages_per_copy
            for index, copy in enumerate(layout.copies):
                first = index * layout.pages_per_copy
                letter = pdf.pages[first].extract_text()
                page_one = pdf.pages[first + layout.letter_pages]
                text = page_one.extract_text()
                person = next(c for c in contacts if c["serial"] == copy.serial)
                assert f"Dear {person['name']}" in letter
                assert (f"Annwyl {person['name']}" in letter) == welsh
                assert copy.serial in text
                assert ENGLISH_QUESTION in text
                assert (WELSH_QUESTION in text) == welsh
                if welsh:  # Welsh first, as the list asked
                    assert text.index(WELSH_QUESTION) < text.index(ENGLISH_QUESTION)
                size = _label_size(page_one, "often")
                assert size == (17 if variant.format == "large-print" else 13)


def test_the_reading_of_every_variant_lands_in_the_same_columns(mailing: Mailing,
                                                                 tmp_path: Path) -> None:
    truth: dict[str, dict[str, object]] = {}
    batches = []
    for number, printed in enumerate(mailing.built.runs, start=1):
        batch = simulate_returns(printed.built.pdf_path.parent, tmp_path / f"returns-{number}",
                                 seed=number, damage=Damage.none())
        for response in json.loads(batch.truth_path.read_text())["responses"]:
            truth[response["serial"]] = response["answers"]
        batches.append(batch.pdf_path)
    assert len(truth) == len(PEOPLE)
    assert all(truth_value(answers.get("visits")) for answers in truth.values())  # filled in
    settings = ReaderSettings()
    outcomes = ingest_without_flow(batches, mailing.workspace,
                                   lambda chunk, layouts: read_chunk(chunk, layouts, settings))
    assert set(outcomes) == {"identified"}
    out = tmp_path / "dataset.csv"
    export_dataset(mailing.workspace, out)
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert sorted(frame["respondent_ref"]) == sorted(truth)
    assert set(QUESTIONS) <= set(frame.columns)
    assert not [c for c in frame.columns if c.startswith(("visits.", "improve.", "age."))]
    for row in frame.to_dict("records"):
        answers = truth[row["respondent_ref"]]
        assert row["_needs_review"] == "", row
        for question in QUESTIONS:
            got, expected = row[question], truth_value(answers.get(question))
            if question == "improve":
                assert set(got.split()) == set(expected.split()), (row, question)
            else:
                assert got == expected, (row, question)


def test_one_variant_prints_as_before_in_its_options(mailing: Mailing, tmp_path: Path) -> None:
    everyone_welsh = tuple((name, "cy,en", "", "cy-en-standard") for name, *_ in PEOPLE[:2])
    recipients = write_recipients(tmp_path / "welsh.csv", everyone_welsh)
    built = build_forms(POLL, None, tmp_path / "form", mailing.workspace,
                        recipients_file=recipients)
    assert isinstance(built, BuiltForm)
    assert {p.name for p in (tmp_path / "form").iterdir()} == {
        "form.pdf", "layout.json", "contacts.csv"}
    assert built.layout.languages == ("cy", "en")
    # the same questionnaire's serials go on after the mixed mailing's
    assert [c.serial for c in built.layout.copies] == [f"{n:06d}" for n in
                                                       range(len(PEOPLE) + 1, len(PEOPLE) + 3)]


def test_a_reminder_reprints_each_persons_variant(tmp_path: Path) -> None:
    """The preference outlives the mailing: each silent person's reminder and fresh copy come in
    the languages and size they asked for, with their own serial."""
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    recipients = write_recipients(tmp_path / "people.csv", PEOPLE)
    build_forms(POLL, None, tmp_path / "mailing", workspace, recipients_file=recipients)
    contacts = {c["serial"]: c for c in read_csv(tmp_path / "mailing" / "contacts.csv")}
    run = send_reminders(workspace, date.today(), tmp_path / "reminders")
    assert sorted(c.serial for c in run.reminded) == sorted(contacts)
    runs = {r["variant"]: r for r in read_csv(tmp_path / "mailing" / "runs.csv")}
    with pdfplumber.open(tmp_path / "reminders" / "reminders.pdf") as pdf:
        for copy in run.reminded:
            person = contacts[copy.serial]
            assert copy.variant == person["variant"]
            assert copy.form_key == runs[copy.variant]["form_key"]
            assert copy.languages == person["language"]
            letter = pdf.pages[copy.first_page - 1].extract_text()
            assert f"Dear {person['name']}" in letter
            assert (f"Annwyl {person['name']}" in letter) == ("cy" in copy.languages)
    listed = read_csv(tmp_path / "reminders" / "reminders.csv")
    assert {r["serial"]: r["variant"] for r in listed} == {
        s: c["variant"] for s, c in contacts.items()}

def test_serials_continue_over_every_variant_of_a_questionnaire(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    standard = build_forms(POLL, 3, tmp_path / "standard", workspace)
    large = build_forms(POLL, 2, tmp_path / "large", workspace, LayoutOptions(large_print=True))
    again = build_forms(POLL, 1, tmp_path / "again", workspace)
    other = build_forms(PROJECT / "form_templates" / "quick_poll.yaml", 1, tmp_path / "other",
                        workspace)
    assert isinstance(standard, BuiltForm) and isinstance(large, BuiltForm)
    assert isinstance(again, BuiltForm) and isinstance(other, BuiltForm)
    assert standard.layout.form_key != large.layout.form_key
    assert [c.serial for c in standard.layout.copies] == ["000001", "000002", "000003"]
    assert [c.serial for c in large.layout.copies] == ["000004", "000005"]
    assert [c.serial for c in again.layout.copies] == ["000006"]
    assert [c.serial for c in other.layout.copies] == ["000001"]  # another questionnaire


@pytest.mark.parametrize(("language", "fmt", "said"), [
    ("fr", "", "line 3, column 'language': 'fr' is not a language of the template "
               "(its languages: en, cy)"),
    ("en,en", "", "line 3, column 'language': 'en' is named twice"),
    ("en", "huge", "line 3, column 'format': 'huge' is not a format papertwin prints "
                   "(standard, large-print)"),
])
def test_a_preference_the_template_cannot_print_is_refused_naming_the_row(
        tmp_path: Path, language: str, fmt: str, said: str) -> None:
    people = (PEOPLE[0], ("Gwen Ellis", language, fmt, ""))
    recipients = write_recipients(tmp_path / "recipients.csv", people)
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    with pytest.raises(InputFileError) as raised:
        build_forms(POLL, None, tmp_path / "form", workspace, recipients_file=recipients)
    assert str(raised.value) == f"recipient list {recipients} {said}" + (
        ", or leave it blank for the run's" if "format" in said else
        "; write them in the order to print, e.g. 'en,cy', or leave it blank for the run's"
        if "is not a language" in said else "")
    assert raised.value.exit_code == ExitCode.INPUT_FILE
    assert not (tmp_path / "form").exists()
    assert registered_layouts(workspace) == {}


def test_copies_and_recipients_together_are_refused(tmp_path: Path) -> None:
    recipients = write_recipients(tmp_path / "recipients.csv", PEOPLE)
    with pytest.raises(UsageError):
        build_forms(POLL, 3, tmp_path / "form", Workspace.resolve(tmp_path / "ws").ensure(),
                    recipients_file=recipients)


def test_preview_shows_the_first_copy_of_each_variant(tmp_path: Path) -> None:
    recipients = write_recipients(tmp_path / "recipients.csv", PEOPLE)
    pages, _ = preview_form(POLL, tmp_path / "preview", dpi=30, recipients_file=recipients)
    names = [p.name for p in pages]
    for variant in RUNS:
        assert f"{variant}-page-1.png" in names
    assert all(p.is_file() for p in pages)


@pytest.mark.skipif(not REAL_XLSFORM.is_file(), reason="the shared XLSForm corpus is not here")
def test_a_real_two_language_xlsform_prints_each_persons_variant(tmp_path: Path) -> None:
    people = (("Ana", "fr,en", "", "fr-en-standard"), ("Ben", "en", "", "en-standard"),
              ("Cleo", "fr", "large-print", "fr-large-print"))
    recipients = write_recipients(tmp_path / "recipients.csv", people)
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    built = build_forms(REAL_XLSFORM, None, tmp_path / "mailing", workspace,
                        recipients_file=recipients)
    assert isinstance(built, BuiltMailing)
    runs = read_csv(tmp_path / "mailing" / "runs.csv")
    assert [r["variant"] for r in runs] == ["en-standard", "fr-en-standard", "fr-large-print"]
    assert [r["first_serial"] for r in runs] == ["000001", "000002", "000003"]
    french, english = "Avez-vous déjà utilisé", "Have you"
    for printed in built.runs:
        layout = printed.built.layout
        with pdfplumber.open(printed.built.pdf_path) as pdf:
            text = " ".join(pdf.pages[layout.letter_pages + i].extract_text() or ""
                            for i in range(len(layout.pages)))
        languages = printed.run.variant.languages
        assert (french in text) == ("fr" in languages), printed.run.variant.name
        assert (english in text) == ("en" in languages), printed.run.variant.name

    # filled in and read back: every variant's choices land in the form's own columns
    truth: dict[str, dict[str, object]] = {}
    batches = []
    for number, printed in enumerate(built.runs, start=1):
        batch = simulate_returns(printed.built.pdf_path.parent, tmp_path / f"returns-{number}",
                                 seed=number, damage=Damage.none())
        truth.update({r["serial"]: r["answers"]
                      for r in json.loads(batch.truth_path.read_text())["responses"]})
        batches.append(batch.pdf_path)
    settings = ReaderSettings()
    outcomes = ingest_without_flow(batches, workspace,
                                   lambda chunk, layouts: read_chunk(chunk, layouts, settings))
    assert set(outcomes) == {"identified"}
    export_dataset(workspace, tmp_path / "dataset.csv")
    frame = pd.read_csv(tmp_path / "dataset.csv", dtype=str, keep_default_na=False)
    assert sorted(frame["respondent_ref"]) == ["000001", "000002", "000003"]
    layout = built.runs[0].built.layout
    choices = [q.name for q in layout.questionnaire.questions if q.type == "select_one"]
    assert set(choices) <= set(frame.columns)
    for row in frame.to_dict("records"):
        waiting = set(row["_needs_review"].split())
        assert not waiting & set(choices), row  # every tick read with confidence
        for question in choices:
            if question not in waiting:
                assert row[question] == truth_value(truth[row["respondent_ref"]].get(question)), (
                    row, question)
        assert waiting <= {q.name for q in layout.questionnaire.questions if q.type != "select_one"}


@pytest.mark.usefixtures("prefect_harness")
def test_forms_build_says_each_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    recipients = write_recipients(tmp_path / "recipients.csv", PEOPLE)
    out = tmp_path / "mailing"
    code = main(["--workspace", str(tmp_path / "ws"), "forms", "build", str(POLL),
                 "--recipients", str(recipients), "--out", str(out)])
    said = capsys.readouterr().out
    assert code == 0
    runs = read_csv(out / "runs.csv")
    assert said.splitlines()[0] == ("built a mailing of 6 addressed copies in 4 variants, one "
                                    "print run each:")
    for run in runs:
        assert (f"  {run['variant']}: {run['copies']} of form {run['form_key']}, serials "
                f"{run['first_serial']}-{run['last_serial']}, in {out / run['variant']}") in said
    assert f"  runs:     {out / 'runs.csv'}" in said


def test_forms_build_refuses_a_bad_row_with_exit_code_4(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    recipients = write_recipients(tmp_path / "recipients.csv",
                                  (PEOPLE[0], ("Gwen Ellis", "en", "tiny", "")))
    code = main(["--workspace", str(tmp_path / "ws"), "forms", "build", str(POLL),
                 "--recipients", str(recipients), "--out", str(tmp_path / "mailing")])
    assert code == ExitCode.INPUT_FILE == 4
    assert capsys.readouterr().err == (
        f"papertwin: recipient list {recipients} line 3, column 'format': 'tiny' is not a format "
        "papertwin prints (standard, large-print), or leave it blank for the run's\n")
    assert not (tmp_path / "mailing").exists()
