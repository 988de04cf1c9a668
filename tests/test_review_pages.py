"""Reviewing whole pages on SQLite and PostgreSQL: a page whose code is gone keyed by hand, a page
scanned twice and the copy that stands, a page that is no form, the page image, and the context
crop of a flagged answer. Inputs come from the real pipeline: the built form and its simulated
returns, cut into single-page scan files, read once per session."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sqlalchemy import select

from pipeline.dataset.export import export_dataset
from pipeline.errors import UsageError, WorkspaceError
from pipeline.forms.build import BuiltForm
from pipeline.ingest.batch import (
    FileReading,
    PageChunk,
    read_chunk,
)
from pipeline.read.page import ReaderSettings, read_page
from pipeline.records import Layout, PageRef, PaperAnswer
from pipeline.registry import register_layout, registered_layouts
from pipeline.review.pages import (
    choose_standing,
    duplicate_groups,
    key_page,
    mark_not_a_form,
    page_decisions,
    page_image_png,
    unidentified_pages,
)
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.simulate.returns import SimulatedBatch
from pipeline.simulate.truth import truth_value
from pipeline.store import schema
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow

ReadingCache = dict[tuple[str, int, int], FileReading]
SETTINGS = ReaderSettings()


# -- inputs --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def first_page(simulated: SimulatedBatch) -> np.ndarray:
    """Page 1 of the first simulated copy, as scanned (200 dpi, grey, mildly damaged)."""
    for _, gray in iter_pdf_pages(simulated.pdf_path, "returns.pdf", 200, 1, 1):
        return gray
    raise AssertionError("returns.pdf has no first page")


@pytest.fixture(scope="session")
def scans(first_page: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Single-page scan files of that page: as scanned; scanned again (other bytes); and with
    its page code and printed key whited out."""
    out = tmp_path_factory.mktemp("page-scans")
    Image.fromarray(first_page).save(out / "scan.png")
    Image.fromarray(first_page).save(out / "rescan.png", compress_level=1)
    blanked = first_page.copy()
    height, width = blanked.shape
    blanked[:int(0.14 * height), int(0.55 * width):] = 255
    Image.fromarray(blanked).save(out / "no-code.png")
    return {name: out / f"{name}.png" for name in ("scan", "rescan", "no-code")}


@pytest.fixture(scope="session")
def second_page_scan(simulated: SimulatedBatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Page 2 of the same copy, as scanned, in a file of its own."""
    out = tmp_path_factory.mktemp("second-page")
    for _, gray in iter_pdf_pages(simulated.pdf_path, "returns.pdf", 200, 2, 2):
        Image.fromarray(gray).save(out / "page2.png")
    return out / "page2.png"


@pytest.fixture(scope="session")
def reading_cache() -> ReadingCache:
    """Readings by file hash and pages: each file is read once and stored in every test's store."""
    return {}


@pytest.fixture(scope="session")
def truth(simulated: SimulatedBatch) -> dict[str, dict[str, object]]:
    """Serial -> the answers the simulator wrote."""
    return {r["serial"]: r["answers"]
            for r in json.loads(simulated.truth_path.read_text())["responses"]}


@pytest.fixture
def ws(built: tuple[Workspace, BuiltForm], store_url: str, tmp_path: Path,
       monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace with the built form registered and its store at store_url."""
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    register_layout(workspace, form.layout)
    return workspace


@pytest.fixture
def store(ws: Workspace) -> Iterator[Store]:
    opened = Store.open(ws.store_url)
    yield opened
    opened.close()


def ingest(paths: Sequence[Path], workspace: Workspace, cache: ReadingCache) -> list[str]:
    return ingest_without_flow(paths, workspace, lambda chunk, layouts: _read(chunk, layouts,
                                                                              cache))


def _read(chunk: PageChunk, layouts: dict[str, Layout], cache: ReadingCache) -> FileReading:
    key = (chunk.archived.sha256, chunk.first, chunk.last)
    if key not in cache:
        cache[key] = read_chunk(chunk, layouts, SETTINGS)
    return replace(cache[key], archived=chunk.archived)


def the_form(workspace: Workspace) -> Layout:
    (layout,) = registered_layouts(workspace).values()
    return layout


def first_serial(layout: Layout) -> str:
    """The copy whose first page the scans hold: the first the simulator filled (000001)."""
    return "000001"


def assert_page_one_as_written(answers: list[PaperAnswer], expected: dict[str, object]) -> None:
    """Every choice question of page 1 as the simulator marked it."""
    choices = {a.question: a.value for a in answers if a.page == 1 and a.question != "comments"}
    assert choices, "page 1 has choice questions"
    for question, value in choices.items():
        if question == "services":
            assert set(value.split()) == set(expected[question]), question  # type: ignore[arg-type]
        else:
            assert value == truth_value(expected[question]), question


# -- a page whose code could not be read ---------------------------------------------------------

def test_a_page_without_its_code_is_keyed_by_hand_and_read_as_written(
        ws: Workspace, store: Store, scans: dict[str, Path], reading_cache: ReadingCache,
        truth: dict[str, dict[str, object]]) -> None:
    assert ingest([scans["no-code"]], ws, reading_cache) == ["unreadable"]
    layout = the_form(ws)
    serial = first_serial(layout)
    (item,) = unidentified_pages(store)
    assert (item.file_name, item.page_index, item.outcome) == ("no-code.png", 1, "unreadable")
    assert store.paper_answers([layout.form_key]) == []

    keyed = key_page(store, ws, {layout.form_key: layout}, item.file_sha256, 1, layout.form_key,
                     serial.lstrip("0"), 1, "alice", SETTINGS, why="code torn off")
    assert (keyed.outcome, keyed.serial, keyed.page) == ("identified", serial, 1)
    # The white-out took the top right corner mark too: three marks are enough.
    assert keyed.reason == "identified by hand; registered on 3 corner marks"
    assert unidentified_pages(store) == []
    answers = store.paper_answers([layout.form_key])
    assert {a.source for a in answers} == {"no-code.png p1"}
    assert_page_one_as_written(answers, truth[serial])
    assert [(d.action, d.file_sha256, d.page_index, d.form_key, d.serial, d.page, d.reviewer,
             d.why) for d in page_decisions(store)] == [
        ("keyed", item.file_sha256, 1, layout.form_key, serial, 1, "alice", "code torn off")]


def test_a_page_not_identified_is_waiting_in_the_dataset_until_it_is_keyed(
        ws: Workspace, store: Store, scans: dict[str, Path], second_page_scan: Path,
        reading_cache: ReadingCache, truth: dict[str, dict[str, object]],
        tmp_path: Path) -> None:
    """A lost page's questions are never exported as blank answers: they wait in _needs_review,
    the response names the page in _pages_missing, and the summary counts them as waiting."""
    assert ingest([scans["no-code"], second_page_scan], ws, reading_cache) == [
        "unreadable", "identified"]
    layout = the_form(ws)
    serial = first_serial(layout)
    on_page_one = [q.name for q in layout.questionnaire.questions
                   if q.name in {f.question for f in layout.page_layout(1).fields}]
    assert on_page_one

    def exported() -> tuple[pd.Series, pd.DataFrame]:
        export_dataset(ws, tmp_path / "d.csv")
        frame = pd.read_csv(tmp_path / "d.csv", dtype=str, keep_default_na=False)
        summary = pd.read_csv(tmp_path / "d.summary.csv", dtype=str, keep_default_na=False)
        (row,) = frame[frame["respondent_ref"] == serial].to_dict("records")
        return pd.Series(row), summary

    row, summary = exported()
    assert row["_pages_missing"] == "1"
    assert row["_needs_review"].split()[:len(on_page_one)] == on_page_one
    assert all(row[name] == "" for name in on_page_one)
    waiting = summary[summary["value"] == "(waiting for a person)"]
    assert sorted(waiting["question"]) == sorted(on_page_one)
    assert set(waiting["count"]) == {"1"}
    assert not ((summary["question"].isin(on_page_one)) & (summary["value"] == "(blank)")
                & (summary["count"] != "0")).any()

    (item,) = unidentified_pages(store)
    key_page(store, ws, {layout.form_key: layout}, item.file_sha256, 1, layout.form_key, serial,
             1, "alice", SETTINGS)
    row, _ = exported()
    assert row["_pages_missing"] == ""
    flagged = {a.question for a in store.paper_answers([layout.form_key]) if a.needs_review}
    assert set(row["_needs_review"].split()) == flagged
    for name in on_page_one:
        if name not in flagged and name != "services":
            assert row[name] == truth_value(truth[serial][name]), name


def test_keying_a_page_read_already_makes_it_a_duplicate(
        ws: Workspace, store: Store, scans: dict[str, Path], reading_cache: ReadingCache) -> None:
    assert ingest([scans["scan"], scans["no-code"]], ws, reading_cache) == [
        "identified", "unreadable"]
    layout = the_form(ws)
    (item,) = unidentified_pages(store)
    keyed = key_page(store, ws, {layout.form_key: layout}, item.file_sha256, 1, layout.form_key,
                     first_serial(layout), 1, "alice", SETTINGS)
    assert keyed.outcome == "duplicate"
    assert "already read from scan.png p1" in keyed.reason
    (group,) = duplicate_groups(store)
    assert (group.standing.file_name, [o.file_name for o in group.others]) == (
        "scan.png", ["no-code.png"])


def test_keying_what_was_not_printed_is_refused(
        ws: Workspace, store: Store, scans: dict[str, Path], reading_cache: ReadingCache) -> None:
    ingest([scans["no-code"]], ws, reading_cache)
    layout = the_form(ws)
    layouts = {layout.form_key: layout}
    (item,) = unidentified_pages(store)
    sha = item.file_sha256
    with pytest.raises(UsageError, match="serial 000999 was not printed for this form"):
        key_page(store, ws, layouts, sha, 1, layout.form_key, "000999", 1, "alice", SETTINGS)
    with pytest.raises(UsageError, match="form nosuchform is not registered"):
        key_page(store, ws, layouts, sha, 1, "nosuchform", first_serial(layout), 1, "alice",
                 SETTINGS)
    with pytest.raises(UsageError, match="has no page 7"):
        key_page(store, ws, layouts, sha, 1, layout.form_key, first_serial(layout), 7, "alice",
                 SETTINGS)
    with pytest.raises(UsageError, match="name of the person"):
        key_page(store, ws, layouts, sha, 1, layout.form_key, first_serial(layout), 1, " ",
                 SETTINGS)
    with pytest.raises(WorkspaceError, match="no page 2"):
        key_page(store, ws, layouts, sha, 2, layout.form_key, first_serial(layout), 1, "alice",
                 SETTINGS)
    assert page_decisions(store) == []
    assert [i.file_sha256 for i in unidentified_pages(store)] == [sha]


def test_a_page_that_is_no_form_leaves_the_queue(
        ws: Workspace, store: Store, scans: dict[str, Path], reading_cache: ReadingCache) -> None:
    ingest([scans["no-code"]], ws, reading_cache)
    (item,) = unidentified_pages(store)
    marked = mark_not_a_form(store, item.file_sha256, 1, "bob", why="a leaflet")
    assert (marked.outcome, marked.reason) == (
        "not_a_form", "a person saw it is not a form page: a leaflet")
    assert unidentified_pages(store) == []
    assert [(d.action, d.reviewer, d.why) for d in page_decisions(store)] == [
        ("not_a_form", "bob", "a leaflet")]


# -- a page scanned twice ------------------------------------------------------------------------

def test_the_copy_a_person_chooses_stands_and_its_answers_count(
        ws: Workspace, store: Store, scans: dict[str, Path], reading_cache: ReadingCache,
        truth: dict[str, dict[str, object]]) -> None:
    assert ingest([scans["scan"]], ws, reading_cache) == ["identified"]
    assert ingest([scans["rescan"]], ws, reading_cache) == ["duplicate"]
    layout = the_form(ws)
    serial = first_serial(layout)
    before = store.paper_answers([layout.form_key])
    assert {a.source for a in before} == {"scan.png p1"}

    (group,) = duplicate_groups(store)
    assert (group.form_key, group.serial, group.page) == (layout.form_key, serial, 1)
    assert group.standing.file_name == "scan.png"
    (other,) = group.others
    assert (other.file_name, other.outcome) == ("rescan.png", "duplicate")

    chosen = choose_standing(store, other.file_sha256, 1, "carol", why="the sharper scan")
    assert (chosen.standing.file_name, chosen.standing.outcome) == ("rescan.png", "identified")
    assert [(o.file_name, o.outcome) for o in chosen.others] == [("scan.png", "duplicate")]
    assert "carol chose rescan.png p1 to stand" in chosen.others[0].reason
    assert duplicate_groups(store) == []

    after = store.paper_answers([layout.form_key])
    assert {a.source for a in after} == {"rescan.png p1"}
    assert_page_one_as_written(after, truth[serial])
    assert [(a.question, a.value) for a in after] == [(a.question, a.value) for a in before]
    assert [(d.action, d.serial, d.reviewer) for d in page_decisions(store)] == [
        ("stands", serial, "carol")]
    (response,) = store.responses({layout.form_key: layout})
    assert response.sources == ("rescan.png p1",)


def test_only_an_identified_page_can_stand(
        ws: Workspace, store: Store, scans: dict[str, Path], reading_cache: ReadingCache) -> None:
    ingest([scans["no-code"]], ws, reading_cache)
    (item,) = unidentified_pages(store)
    with pytest.raises(UsageError, match="key its form, serial and page first"):
        choose_standing(store, item.file_sha256, 1, "carol")


# -- the page image ------------------------------------------------------------------------------

def test_the_page_image_is_a_png_of_the_width_asked_for(
        ws: Workspace, store: Store, scans: dict[str, Path], reading_cache: ReadingCache) -> None:
    ingest([scans["scan"]], ws, reading_cache)
    (sha256,) = _file_hashes(store)
    data = page_image_png(store, ws, sha256, 1, width=500)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert data.startswith(b"\x89PNG")
    height, width = image.shape[:2]
    assert width == 500
    assert 1.3 < height / width < 1.5  # an A4 page, upright as scanned
    assert list((ws.root / "page-images").rglob("*.png"))
    assert page_image_png(store, ws, sha256, 1, width=500) == data
    with pytest.raises(WorkspaceError, match="no page 3"):
        page_image_png(store, ws, sha256, 3)


def _file_hashes(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [str(s) for s in conn.execute(select(schema.files.c.sha256)).scalars()]


# -- the context of a flagged answer ------------------------------------------------------------

def test_a_flagged_choice_shows_its_question_across_the_page(
        built: tuple[Workspace, BuiltForm], first_page: np.ndarray) -> None:
    _, form = built
    layout = form.layout
    # Every confident answer sent to a person (the audit): choice answers are flagged too.
    result = read_page(first_page, PageRef("0" * 64, "scan.png", 1), {layout.form_key: layout},
                       replace(SETTINGS, audit_share=1.0))
    assert result.outcome == "identified"
    page = layout.page_layout(1)
    choice = {f.question for f in page.fields if f.kind == "choice"}
    flagged = [a for a in result.answers if a.needs_review and a.question in choice]
    assert flagged
    page_width = layout.page_size[0] * SETTINGS.scale
    for answer in flagged:
        assert answer.crop_png
        crop = cv2.imdecode(np.frombuffer(answer.crop_png, np.uint8), cv2.IMREAD_UNCHANGED)
        height, width = crop.shape[:2]
        assert width > height, answer.question
        assert width > 0.6 * page_width, answer.question
        boxes = [f.box for f in page.fields if f.question == answer.question]
        span = (max(b[3] for b in boxes) - min(b[1] for b in boxes) + 40) * SETTINGS.scale
        assert height == pytest.approx(span, abs=3), answer.question
    unflagged = read_page(first_page, PageRef("0" * 64, "scan.png", 1),
                          {layout.form_key: layout}, SETTINGS)
    assert not any(a.crop_png for a in unflagged.answers
                   if a.question in choice and not a.needs_review)
