"""Letters are responses: a typed letter scanned among the forms becomes one response of channel
`letter`, its text read close to what was typed, kept together, correctable and in the export."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import pandas as pd
import pytest
import zxingcpp

from flows.ingest import ingest_batch
from pipeline.dataset.export import export_dataset
from pipeline.errors import WorkspaceError
from pipeline.forms.build import BuiltForm
from pipeline.ingest.letters import letter_questionnaire, letter_runs, register_file_letters
from pipeline.programs.poppler import page_count, rasterise_page
from pipeline.read.letter import LETTER_REASON, letter_text
from pipeline.read.page import ReaderSettings, read_page
from pipeline.records import ArchivedFile, PageRef, PageResult
from pipeline.registry import register_layout
from pipeline.review.pages import unidentified_pages
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import SimulatedBatch, simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.store.channels import link_serial
from pipeline.store.letters import PageText as LetterPageText
from pipeline.store.letters import (
    add_page,
    correct_text,
    letter,
    letter_of_page,
    letters,
    register_letter,
    set_questionnaire,
)
from pipeline.store.store import Store
from pipeline.textdistance import edit_distance
from pipeline.workspace import Workspace
from tests.review_site import (
    CHROMIUM_ARGS,
    PASSWORD,
    chromium_executable,
    ingest,
    serving,
    workspace_with_user,
)

from .conftest import PROJECT

REAL_SCANS = PROJECT.parent / "shared" / "real_scans" / "quexf"


def cer(read: str, truth: str) -> float:
    """Character error rate, whitespace made single spaces on both sides (line breaks and
    paragraph gaps are layout, not characters the writer typed)."""
    got, expected = " ".join(read.split()), " ".join(truth.split())
    return edit_distance(got, expected) / len(expected)


@pytest.fixture(scope="module")
def with_letter(built: tuple[Workspace, BuiltForm],
                tmp_path_factory: pytest.TempPathFactory) -> SimulatedBatch:
    _, form = built
    return simulate_returns(form.pdf_path.parent, tmp_path_factory.mktemp("letter"), seed=1,
                            damage=Damage.mild(), letter=True)


def test_the_simulator_puts_a_two_page_letter_among_the_forms(
        with_letter: SimulatedBatch) -> None:
    truth = json.loads(with_letter.truth_path.read_text())
    files = truth["files"]["returns.pdf"]
    assert with_letter.pages == 14 == len(files) == page_count(with_letter.pdf_path)
    assert [f.get("letter") for f in files[2:4]] == [1, 1]
    assert [f["serial"] for f in files[:2]] == ["000001", "000001"]
    assert files[4] == {"serial": "000002", "page": 1}
    (letter,) = truth["letters"]
    assert letter["pages"] == [3, 4]
    assert letter["text"].startswith(letter["sender"])
    assert "Yours faithfully," in letter["text"] and len(letter["text"]) > 1500


@pytest.mark.slow
def test_a_scanned_letter_among_the_forms_is_one_letter_response(
    prefect_harness: None, built: tuple[Workspace, BuiltForm], with_letter: SimulatedBatch,
    tmp_path: Path,
) -> None:
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    register_layout(workspace, form.layout)
    truth = json.loads(with_letter.truth_path.read_text())

    summary = ingest_batch([with_letter.pdf_path], workspace)
    assert summary.outcomes == {"identified": 12, "not_a_form": 2}
    assert [(p.index, p.reason) for p in summary.pages if p.outcome == "not_a_form"] == [
        (3, LETTER_REASON), (4, LETTER_REASON)]

    with Store.open(workspace.store_url) as store:
        (letter,) = letters(store)
    assert letter.response.channel == "letter"
    assert letter.response.questionnaire_id == form.layout.questionnaire.id
    assert [(p.page_index, p.position) for p in letter.pages] == [(3, 1), (4, 2)]
    assert all(p.confidence > 0.8 for p in letter.pages)
    rate = cer(letter.text, truth["letters"][0]["text"])
    print(f"letter CER {rate:.4f} over {len(truth['letters'][0]['text'])} characters")
    assert rate < 0.05

    # Read again: the pages are known, no second letter.
    ingest_batch([with_letter.pdf_path], workspace)
    with Store.open(workspace.store_url) as store:
        assert len(letters(store)) == 1

    out = tmp_path / "dataset.csv"
    exported = export_dataset(workspace, out)
    assert exported.by_channel == {"paper": 6, "letter": 1}
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns)[-3:] == ["_pages_missing", "_off_route", "_letter_text"]
    row = frame[frame["channel"] == "letter"].iloc[0]
    assert row["response_id"] == letter.response.response_id
    assert row["_source"] == "returns.pdf p3; returns.pdf p4"
    assert row["_letter_text"] == letter.text
    assert row["respondent_ref"] == ""
    questions = [q.name for q in form.layout.questionnaire.questions]
    assert all(row[q] == "" for q in questions)
    # The forms of the batch are read as without the letter.
    paper = frame[frame["channel"] == "paper"].set_index("respondent_ref")
    assert (frame.loc[frame["channel"] == "paper", "_letter_text"] == "").all()
    for response in truth["responses"]:
        for question in form.layout.questionnaire.questions:
            if question.type == "text":
                continue
            got = paper.loc[response["serial"], question.name]
            if question.name in paper.loc[response["serial"], "_needs_review"].split():
                continue
            expected = truth_value(response["answers"].get(question.name))
            if question.type == "select_multiple":
                assert set(got.split()) == set(expected.split()), (response["serial"], question)
            else:
                assert got == expected, (response["serial"], question.name)


def test_a_dataset_without_letters_has_no_letter_column(
        built: tuple[Workspace, BuiltForm], tmp_path: Path) -> None:
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    register_layout(workspace, form.layout)
    out = tmp_path / "dataset.csv"
    export_dataset(workspace, out)
    assert "_letter_text" not in pd.read_csv(out, dtype=str).columns


def _without_barcodes(gray: np.ndarray) -> np.ndarray:
    """The page with every barcode painted over: what reading sees of a form with no code."""
    out = gray.copy()
    for barcode in zxingcpp.read_barcodes(gray):
        p = barcode.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
        cv2.rectangle(out, (min(xs) - 30, min(ys) - 30), (max(xs) + 30, max(ys) + 30), 255, -1)
    return out


@pytest.mark.skipif(not REAL_SCANS.is_dir(), reason="the shared real scans are not beside "
                                                    "this checkout (../shared/real_scans)")
def test_real_filled_forms_are_never_letters() -> None:
    """Real hand-filled forms of another system: full of printed text, but rows of boxes. With
    their barcode they are another system's form; without it, not a form, never a letter."""
    settings = ReaderSettings()
    seen = 0
    for pdf in sorted(REAL_SCANS.glob("test_*.pdf")):
        for number in range(1, page_count(pdf) + 1):
            gray = rasterise_page(pdf, number, 200)
            ref = PageRef("0" * 64, pdf.name, number)
            assert letter_text(gray, 30.0) is None, (pdf.name, number)
            assert read_page(gray, ref, {}, settings).outcome == "unknown_form"
            bare = read_page(_without_barcodes(gray), ref, {}, settings)
            assert bare.reason != LETTER_REASON, (pdf.name, number, bare)
            seen += 1
    assert seen == 10


# -- in the review app ---------------------------------------------------------------------------

def _letter_site(root: Path, form: BuiltForm, batch: SimulatedBatch) -> Workspace:
    """A workspace with one reviewer, the form registered, and a scan file of the letter's two
    pages followed by a page of black bars (no form, no letter) read into it."""
    workspace = workspace_with_user(root, "rita", "reviewer")
    register_layout(workspace, form.layout)
    truth = json.loads(batch.truth_path.read_text())
    first, second = truth["letters"][0]["pages"]
    bars = np.full((2339, 1654), 250, np.uint8)
    for row in range(300, 2000, 60):
        bars[row : row + 16, 200:1450] = 40
    pages = [rasterise_page(batch.pdf_path, n, 200) for n in (first, second)] + [bars]
    scan = root / "post.pdf"
    scan.write_bytes(img2pdf.convert([cv2.imencode(".png", p)[1].tobytes() for p in pages],
                                     layout_fun=img2pdf.get_fixed_dpi_layout_fun((200, 200))))
    assert ingest([scan], workspace, ReaderSettings()) == ["not_a_form"] * 3
    return workspace


@pytest.mark.slow
def test_a_reviewer_corrects_a_letter_and_links_its_serial_by_keyboard(
        built: tuple[Workspace, BuiltForm], with_letter: SimulatedBatch, tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    _, form = built
    workspace = _letter_site(tmp_path, form, with_letter)
    with Store.open(workspace.store_url) as store:
        (letter,) = letters(store)
        assert [p.page_index for p in letter.pages] == [1, 2]
        assert [p.page_index for p in unidentified_pages(store)] == [3]  # the bars only
    response_id = letter.response.response_id
    corrected = letter.text.replace("Dear Sir or Madam,", "Dear Consultation Team,")
    assert corrected != letter.text
    shots = os.environ.get("PAPERTWIN_SCREENSHOTS")
    with serving(workspace) as url, playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(),
                                             args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(url + "/login")
        page.fill("#name", "rita")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")

        # The list: the letter's row has the focus; Enter opens it.
        page.goto(url + "/letters")
        assert response_id in page.inner_text("#letters")
        page.wait_for_function("document.activeElement.tagName === 'A'")
        if shots:
            page.screenshot(path=str(Path(shots) / "letters-list.png"), full_page=True)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{url}/letters/{response_id}"
        assert page.locator(".scan img").count() == 2
        assert [t for t in page.locator(".conf").all_inner_texts()] == [
            f"{p.confidence:.2f}" for p in letter.pages]
        if shots:
            page.screenshot(path=str(Path(shots) / "letter.png"), full_page=True)
        # The text has the focus: corrected by keyboard, then the serial, then saved.
        page.wait_for_function("document.activeElement.id === 'text'")
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(corrected)
        page.keyboard.press("Tab")
        page.keyboard.type("000004")
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
        assert page.is_visible("[role=status]")
        assert page.input_value("#serial") == "000004"

        # The page of bars, from the page screen: marked as a letter of its own with Alt+L.
        page.goto(url + "/pages/next")
        if shots:
            page.screenshot(path=str(Path(shots) / "page-as-letter.png"), full_page=True)
        with page.expect_navigation():
            page.keyboard.press("Alt+L")
        assert page.url.startswith(url + "/letters/letter-")
        if shots:
            page.screenshot(path=str(Path(shots) / "letter-marked.png"), full_page=True)
        browser.close()

    with Store.open(workspace.store_url) as store:
        saved, marked = letters(store)
        assert not unidentified_pages(store)
    assert saved.response.response_id == response_id
    assert saved.text == corrected and saved.corrections[-1].edited_by == "rita"
    assert saved.read_text == letter.text  # what was read stays
    assert saved.response.serial == "000004"
    assert [(p.page_index, p.position) for p in marked.pages] == [(3, 1)]
    assert marked.response.created_by == "rita"

    out = tmp_path / "dataset.csv"
    export_dataset(workspace, out)
    frame = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("response_id")
    assert frame.loc[response_id, "_letter_text"] == corrected
    assert frame.loc[response_id, "respondent_ref"] == "000004"
    assert frame.loc[response_id, "channel"] == "letter"
    assert frame.loc[response_id, "_source"] == "post.pdf p1; post.pdf p2"


# -- pages of one letter, and the store ----------------------------------------------------------

def _page(index: int, outcome: str, reason: str = "", form_key: str = "") -> PageResult:
    return PageResult(PageRef("f" * 64, "post.pdf", index), outcome,  # type: ignore[arg-type]
                      reason, form_key=form_key)


def test_consecutive_letter_pages_of_a_file_are_one_letter() -> None:
    letter_page = LETTER_REASON
    pages = [_page(1, "not_a_form", letter_page), _page(2, "blank"),
             _page(3, "not_a_form", letter_page), _page(4, "identified", form_key="k"),
             _page(5, "not_a_form", letter_page), _page(6, "not_a_form", "a leaflet"),
             _page(7, "not_a_form", letter_page)]
    assert letter_runs(pages) == [(1, 3), (5,), (7,)]


def test_a_letter_answers_the_questionnaire_of_the_forms_beside_it(
        built: tuple[Workspace, BuiltForm]) -> None:
    _, form = built
    other = replace(form.layout, form_key="other-key",
                    questionnaire=replace(form.layout.questionnaire, id="another"))
    layouts = {form.layout.form_key: form.layout, "other-key": other}
    ours = form.layout.questionnaire.id
    beside = [_page(1, "identified", form_key=form.layout.form_key), _page(2, "not_a_form")]
    assert letter_questionnaire(beside, layouts) == ours
    assert letter_questionnaire([_page(1, "not_a_form")], layouts) == ""  # a reviewer chooses
    assert letter_questionnaire([_page(1, "not_a_form")], {"k": form.layout}) == ours
    both = [*beside, _page(3, "identified", form_key="other-key")]
    assert letter_questionnaire(both, layouts) == ""


def test_a_letter_in_the_store_keeps_its_pages_and_every_correction(store: Store) -> None:
    first = LetterPageText("a" * 64, 3, "Dear Sir,\nThe library", 0.91)
    second = LetterPageText("a" * 64, 4, "must stay open.", 0.87)
    response = register_letter(store, "library_services", [first, second], "ingest")
    assert response.channel == "letter"
    with pytest.raises(WorkspaceError, match="already in letter"):
        register_letter(store, "library_services", [second], "ingest")
    assert letter_of_page(store, "a" * 64, 4) == response.response_id
    assert add_page(store, response.response_id, LetterPageText("b" * 64, 1, "P.S.", 0.5)) == 3

    correct_text(store, response.response_id, "Dear Sir, the library must stay open.", "rita")
    correct_text(store, response.response_id, "Dear Sir, the library must stay open!", "sam")
    link_serial(store, response.response_id, "000004")
    set_questionnaire(store, response.response_id, "another")
    found = letter(store, response.response_id)
    assert found is not None
    assert [(p.page_index, p.position) for p in found.pages] == [(3, 1), (4, 2), (1, 3)]
    assert found.read_text == "Dear Sir,\nThe library\n\nmust stay open.\n\nP.S."
    assert found.text == "Dear Sir, the library must stay open!"
    assert [c.edited_by for c in found.corrections] == ["rita", "sam"]
    assert (found.response.serial, found.response.questionnaire_id) == ("000004", "another")
    assert found.confidence == 1.0
    assert [f.response.response_id for f in letters(store, ["another"])] == [
        response.response_id]
    assert letters(store, ["library_services"]) == []
    # A file stored again: its letter pages are known, no letter is made of them twice.
    archived = ArchivedFile("a" * 64, "post.pdf", Path("post.pdf"), Path("post.pdf"), "pdf", 1)
    again = [replace(_page(i, "not_a_form", LETTER_REASON), ref=PageRef("a" * 64, "post.pdf", i))
             for i in (3, 4)]
    assert register_file_letters(store, archived, again, {}) == ()
    assert len(letters(store)) == 1
