"""Photocopied returns: a serial that comes back twice with different answers is another
person's response, not a rescan. Told apart by the store on SQLite and PostgreSQL, settled by a
reviewer's keystroke in the review app (Debian's Chromium), and exported as a second row with
the serial but none of the addressee's contact details. Inputs: an addressed mailing of the
shipped form, filled by the simulator twice with different seeds (the same serials, other
answers), and a copy of one batch's pages scanned again."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from pipeline.dataset.build import is_further_response
from pipeline.dataset.dualchannel import find_pairs
from pipeline.dataset.export import ExportOptions, export_dataset
from pipeline.errors import UsageError
from pipeline.ingest.batch import FileReading, PageChunk, read_chunk
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.records import Answer, ArchivedFile, BoxResult, Layout, PageRef, PageResult
from pipeline.registry import register_layout
from pipeline.review.accounts import add_user
from pipeline.review.pages import another_response, duplicate_groups, page_decisions
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.store import schema
from pipeline.store.copies import CopyPage, Reading, copy_runs, differing_answers
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow
from tests.review_site import CHROMIUM_ARGS, PASSWORD, chromium_executable, serving

from .conftest import TEMPLATE

ReadingCache = dict[tuple[str, int, int], FileReading]
SEEDS = (11, 23)  # the respondents of the mailing, and those who filled in its photocopies
DPI = 200


@dataclass(frozen=True)
class Mailing:
    source: Workspace  # where the form was built and registered
    layout: Layout
    contacts: dict[str, dict[str, str]]  # serial -> recipient
    answers: dict[str, dict[str, object]]  # serial -> answers on the copies sent back
    copied: dict[str, dict[str, object]]  # serial -> answers on photocopies of the same copies
    photocopied: str  # the serial whose photocopy comes back too
    rescanned: str  # the serial whose pages are fed through the scanner again
    files: dict[str, Path]  # returns.pdf, photocopy.pdf, rescan.pdf


@pytest.fixture(scope="module")
def mailing(tmp_path_factory: pytest.TempPathFactory) -> Mailing:
    root = tmp_path_factory.mktemp("photocopies")
    source = Workspace.resolve(root / "workspace").ensure()
    recipients = root / "recipients.csv"
    contacts = {}
    with recipients.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "address"])
        for n in range(1, 4):
            writer.writerow([f"Resident {n}", f"{n} Mill Lane"])
    built = build_forms(TEMPLATE, None, root / "form", source, recipients_file=recipients)
    layout = built.layout
    serials = [copy.serial for copy in layout.copies]
    contacts = {serial: {"name": f"Resident {n}", "address": f"{n} Mill Lane"}
                for n, serial in enumerate(serials, start=1)}
    pages: dict[int, list[np.ndarray]] = {}
    truths: dict[int, dict[str, dict[str, object]]] = {}
    for seed in SEEDS:
        batch = simulate_returns(built.pdf_path.parent, root / f"returns-{seed}", seed=seed,
                                 damage=Damage.none())
        truths[seed] = {r["serial"]: r["answers"]
                        for r in json.loads(batch.truth_path.read_text())["responses"]}
        pages[seed] = [gray.copy() for _, gray in
                       iter_pdf_pages(batch.pdf_path, "returns.pdf", DPI)]
    answers, copied = truths[SEEDS[0]], truths[SEEDS[1]]
    on_page_one = {f.question for f in layout.page_layout(1).fields if f.kind == "choice"}
    # A photocopy whose first page is ticked otherwise than the copy it was made from.
    photocopied = next(s for s in serials if any(
        truth_value(answers[s][q]) != truth_value(copied[s][q]) for q in on_page_one))
    rescanned = next(s for s in serials if s != photocopied)
    per_copy = len(layout.pages)

    def copy_of(seed: int, serial: str) -> list[np.ndarray]:
        at = serials.index(serial) * per_copy
        return pages[seed][at:at + per_copy]

    files = {"returns": _pdf(root / "returns.pdf", pages[SEEDS[0]]),
             "photocopy": _pdf(root / "photocopy.pdf", copy_of(SEEDS[1], photocopied)),
             # the same sheets again, a little darker: other bytes, the same answers
             "rescan": _pdf(root / "rescan.pdf", [
                 np.clip(g.astype(np.int16) - 6, 0, 255).astype(np.uint8)
                 for g in copy_of(SEEDS[0], rescanned)])}
    return Mailing(source, layout, contacts, answers, copied, photocopied, rescanned, files)


def _pdf(path: Path, grays: Sequence[np.ndarray]) -> Path:
    pngs = [bytes(cv2.imencode(".png", g)[1].tobytes()) for g in grays]
    path.write_bytes(img2pdf.convert(pngs, layout_fun=img2pdf.get_fixed_dpi_layout_fun(
        (DPI, DPI))))
    return path


@pytest.fixture(scope="module")
def cache() -> ReadingCache:
    """Readings by file hash and pages: each file is read once for every store it goes to."""
    return {}


def workspace_for(mailing: Mailing, root: Path) -> Workspace:
    """A workspace with the mailing's form registered and its recipients recorded."""
    workspace = Workspace.resolve(root).ensure()
    register_layout(workspace, mailing.layout)
    store = Store.open(workspace.store_url)
    try:
        store.record_contacts(mailing.layout.form_key, mailing.contacts)
    finally:
        store.close()
    return workspace


@pytest.fixture
def ws(mailing: Mailing, store_url: str, tmp_path: Path,
       monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("PAPERTWIN_STORE_URL", store_url)
    return workspace_for(mailing, tmp_path / "ws")


def ingest(paths: Sequence[Path], workspace: Workspace, cache: ReadingCache) -> list[str]:
    def read(chunk: PageChunk, layouts: dict[str, Layout]) -> FileReading:
        key = (chunk.archived.sha256, chunk.first, chunk.last)
        if key not in cache:
            cache[key] = read_chunk(chunk, layouts, ReaderSettings())
        return replace(cache[key], archived=chunk.archived)

    return ingest_without_flow(paths, workspace, read)


def stored_pages(store: Store) -> dict[tuple[str, int], tuple[str, str, bool, str | None, str]]:
    """(file name, page index) -> (outcome, serial, photocopy, copy_of, reason)."""
    p, f = schema.pages, schema.files
    with store.engine.connect() as conn:
        rows = conn.execute(select(f.c.name, p.c.page_index, p.c.outcome, p.c.serial,
                                   p.c.photocopy, p.c.copy_of, p.c.reason)
                            .join(f, f.c.sha256 == p.c.file_sha256)).all()
    return {(r.name, int(r.page_index)): (str(r.outcome), str(r.serial), bool(r.photocopy),
                                          r.copy_of, str(r.reason)) for r in rows}


def file_hash(store: Store, name: str) -> str:
    f = schema.files
    with store.engine.connect() as conn:
        return str(conn.execute(select(f.c.sha256).where(f.c.name == name)).scalar_one())


def exported(workspace: Workspace, out: Path) -> list[dict[str, str]]:
    export_dataset(workspace, out, options=ExportOptions(with_contacts=True))
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    return [{str(k): str(v) for k, v in row.items()} for row in frame.to_dict("records")]


def assert_as_written(row: dict[str, str], written: dict[str, object]) -> None:
    """Every single choice the reader was sure of, as the respondent ticked it."""
    waiting = set(row["_needs_review"].split())
    checked = [q for q in ("visit_frequency", "opening_hours", "relocation") if q not in waiting]
    assert checked
    for question in checked:
        assert row[question] == truth_value(written[question]), question


# -- told apart on ingest, and made a response of its own ---------------------------------------

def test_a_photocopy_is_told_from_a_rescan_and_becomes_a_response_of_its_own(
        ws: Workspace, mailing: Mailing, cache: ReadingCache, tmp_path: Path) -> None:
    copied, rescanned, key = mailing.photocopied, mailing.rescanned, mailing.layout.form_key
    per_copy = len(mailing.layout.pages)
    assert ingest([mailing.files["returns"]], ws, cache) == ["identified"] * 3 * per_copy
    assert ingest([mailing.files["photocopy"]], ws, cache) == ["duplicate"] * per_copy
    assert ingest([mailing.files["rescan"]], ws, cache) == ["duplicate"] * per_copy

    first_of_rescanned = [c.serial for c in mailing.layout.copies].index(rescanned) * per_copy
    store = Store.open(ws.store_url)
    try:
        pages = stored_pages(store)
        for n in range(1, per_copy + 1):
            outcome, serial, photocopy, copy_of, reason = pages[("photocopy.pdf", n)]
            assert (outcome, serial, photocopy, copy_of) == ("duplicate", copied, True, None)
            assert "probably a photocopy" in reason
            outcome, serial, photocopy, copy_of, reason = pages[("rescan.pdf", n)]
            assert (outcome, serial, photocopy, copy_of) == ("duplicate", rescanned, False, None)
            assert reason == (f"serial {rescanned} page {n} already read from returns.pdf "
                              f"p{first_of_rescanned + n}")
        # The page of the photocopy that differs names the answers that do.
        assert "answers differ (" in pages[("photocopy.pdf", 1)][4]
        # Probable photocopies wait first: they change how many responses there are.
        assert [(g.serial, g.page, g.photocopy) for g in duplicate_groups(store)] == [
            *((copied, n, True) for n in range(1, per_copy + 1)),
            *((rescanned, n, False) for n in range(1, per_copy + 1))]

        made = another_response(store, file_hash(store, "photocopy.pdf"), 1, "alice",
                                why="other handwriting")
        assert [(i.serial, i.copy_of, i.page, i.outcome, i.file_name) for i in made] == [
            (f"{copied}-2", copied, n, "identified", "photocopy.pdf")
            for n in range(1, per_copy + 1)]
        assert [(d.action, d.serial, d.page, d.reviewer, d.why) for d in page_decisions(store)] \
            == [("another_response", f"{copied}-2", n, "alice", "other handwriting")
                for n in range(1, per_copy + 1)]
        # Settled with its whole copy; the rescan still waits for someone to say which stands.
        assert [(g.serial, g.photocopy) for g in duplicate_groups(store)] == [
            (rescanned, False)] * per_copy
        responses = {r.serial: r for r in store.responses({key: mailing.layout})}
        assert responses[copied].complete and responses[f"{copied}-2"].complete
        assert responses[f"{copied}-2"].sources == tuple(
            f"photocopy.pdf p{n}" for n in range(1, per_copy + 1))
        assert rescanned in responses and f"{rescanned}-2" not in responses
        answers = {a.serial: a.copy_of for a in store.paper_answers([key])}
        assert (answers[copied], answers[f"{copied}-2"]) == ("", copied)
    finally:
        store.close()

    rows = exported(ws, tmp_path / "dataset.csv")
    first, second = [r for r in rows if r["respondent_ref"] == copied]
    assert (first["response_id"], second["response_id"]) == (
        f"paper-{key}-{copied}", f"paper-{key}-{copied}-2")
    assert (first["contact_name"], first["contact_address"]) == (
        mailing.contacts[copied]["name"], mailing.contacts[copied]["address"])
    assert (second["contact_name"], second["contact_address"]) == ("", "")
    assert second["_source"] == "; ".join(f"photocopy.pdf p{n}" for n in range(1, per_copy + 1))
    assert_as_written(first, mailing.answers[copied])
    assert_as_written(second, mailing.copied[copied])
    assert not is_further_response(first["response_id"], copied)
    assert is_further_response(second["response_id"], copied)
    (again,) = [r for r in rows if r["respondent_ref"] == rescanned]
    assert again["response_id"] == f"paper-{key}-{rescanned}"
    assert again["contact_name"] == mailing.contacts[rescanned]["name"]
    assert len(rows) == 4
    # Exported again, the photocopy keeps its id.
    assert [r["response_id"] for r in exported(ws, tmp_path / "again.csv")] == [
        r["response_id"] for r in rows]


# -- the rules, on pages made by hand -----------------------------------------------------------

FORM = "f-v1-abc"


def _page(name: str, index: int, serial: str, page: int, *answers: tuple[str, str, bool],
          text: tuple[str, str] | None = None) -> PageResult:
    """A page read as `serial` page `page`: tick answers (question, value, needs review) and
    optionally one written answer."""
    read = tuple(Answer(q, v, 0.5 if unsure else 0.99, needs_review=unsure,
                        reason="ambiguous: 2 marked" if unsure else "")
                 for q, v, unsure in answers)
    boxes = tuple(BoxResult(q, v or "none", "marked" if v else "empty", 0.5, 0.99)
                  for q, v, _ in answers)
    if text is not None:
        read += (Answer(text[0], text[1], 0.95),)
    return PageResult(PageRef(f"{name:0<64}"[:64], name, index), "identified", form_key=FORM,
                      serial=serial, page=page, answers=read, boxes=boxes)


def _record(store: Store, batch: int, name: str, results: Sequence[PageResult],
            tmp_path: Path) -> list[PageResult]:
    sha = f"{name:0<64}"[:64]
    archived = ArchivedFile(sha, name, tmp_path / name, tmp_path / name, "pdf", 1)
    return store.record_file(batch, archived, [replace(r, ref=PageRef(sha, name, r.ref.index))
                                               for r in results], tmp_path / "crops")


def test_a_copy_that_differs_anywhere_is_a_photocopy_in_all_its_pages(
        store: Store, tmp_path: Path) -> None:
    batch = store.begin_batch(["by hand"])
    serial = "000007"

    def copy(name: str, tick: str, unsure: bool = False, comment: str = "Open on Sundays please",
             ) -> list[PageResult]:
        return [_page(name, 1, serial, 1, ("often", tick, unsure), ("hours", "evenings", False)),
                _page(name, 2, serial, 2, ("move", "", False), text=("comments", comment))]

    assert [r.outcome for r in _record(store, batch, "a.pdf", copy("a.pdf", "weekly"),
                                       tmp_path)] == ["identified", "identified"]
    # Other answers on page 1; page 2 blank on both but for the comment, read a little
    # differently: the whole copy is a probable photocopy.
    _record(store, batch, "b.pdf", copy("b.pdf", "monthly", comment="Open on Sundys please"),
            tmp_path)
    # Page 1's answer undecided on the rescan, the comment's OCR a letter off: a rescan.
    _record(store, batch, "c.pdf", copy("c.pdf", "", unsure=True,
                                        comment="0pen on Sundays please"), tmp_path)
    pages = stored_pages(store)
    assert [pages[("b.pdf", n)][:4] for n in (1, 2)] == [("duplicate", serial, True, None)] * 2
    assert "answers differ (often)" in pages[("b.pdf", 1)][4]
    assert "other pages of this copy differ from every copy" in pages[("b.pdf", 2)][4]
    assert [pages[("c.pdf", n)][:4] for n in (1, 2)] == [("duplicate", serial, False, None)] * 2

    made = another_response(store, "b.pdf".ljust(64, "0"), 2, "bob")
    assert [(i.serial, i.page, i.outcome) for i in made] == [
        (f"{serial}-2", 1, "identified"), (f"{serial}-2", 2, "identified")]
    # A rescan of the photocopy is a duplicate of the response it made, not a third one, in
    # all its pages (page 2 agrees with the first response's as well).
    _record(store, batch, "d.pdf", copy("d.pdf", "monthly"), tmp_path)
    pages = stored_pages(store)
    assert [pages[("d.pdf", n)][:4] for n in (1, 2)] == [
        ("duplicate", f"{serial}-2", False, serial)] * 2
    assert pages[("d.pdf", 1)][4].endswith(f"(response {serial}-2)")
    # Yet another photocopy, ticked otherwise again, makes response -3.
    _record(store, batch, "e.pdf", copy("e.pdf", "never"), tmp_path)
    assert stored_pages(store)[("e.pdf", 1)][:3] == ("duplicate", serial, True)
    assert [i.serial for i in another_response(store, "e.pdf".ljust(64, "0"), 1, "bob")] == [
        f"{serial}-3"] * 2
    # A reviewer may find the rescan of a photocopy is yet another photocopy after all.
    assert [(i.serial, i.copy_of, i.file_name) for i in another_response(
        store, "d.pdf".ljust(64, "0"), 1, "bob")] == [(f"{serial}-4", serial, "d.pdf")] * 2
    # A copy and its photocopy in one envelope: the second run of pages is the photocopy.
    both = [replace(r, serial="000009") for r in [
        *copy("f.pdf", "yearly"),
        *(replace(r, ref=replace(r.ref, index=r.ref.index + 2)) for r in copy("f.pdf", "never"))]]
    stored = _record(store, batch, "f.pdf", both, tmp_path)
    assert [(r.outcome, r.serial) for r in stored] == [
        ("identified", "000009"), ("identified", "000009"), ("duplicate", "000009"),
        ("duplicate", "000009")]
    pages = stored_pages(store)
    assert [pages[("f.pdf", n)][2] for n in range(1, 5)] == [False, False, True, True]
    # A page that is no second copy cannot be made another response.
    with pytest.raises(UsageError, match="not a second copy"):
        another_response(store, "a.pdf".ljust(64, "0"), 1, "bob")


def test_only_the_addressee_response_pairs_with_an_online_one() -> None:
    frame = pd.DataFrame({
        "response_id": ["paper-k-000001", "paper-k-000001-2", "uuid:1"],
        "channel": ["paper", "paper", "online"],
        "respondent_ref": ["000001", "000001", "000001"]})
    assert find_pairs(frame, []) == [("paper-k-000001", "uuid:1")]
    assert find_pairs(frame, [("uuid:1", "000001")]) == [("paper-k-000001", "uuid:1")]


def test_answers_compared_are_those_read_with_confidence() -> None:
    first = {"often": Reading("weekly", False), "services": Reading("books study", False),
             "comments": Reading("I would like Sunday opening", False),
             "hours": Reading("", True)}
    same = {"often": Reading("weekly", False), "services": Reading("study books", False),
            "comments": Reading("I wou1d like Sunday opening.", False),
            "hours": Reading("evenings", False)}
    assert differing_answers(first, same, {"often", "services", "hours"}) == ()
    other = {"often": Reading("monthly", False), "services": Reading("books", True),
             "comments": Reading("Keep it where it is", False)}
    assert differing_answers(first, other, {"often", "services", "hours"}) == (
        "often", "comments")
    assert differing_answers(first, {"comments": Reading("", False)}, set()) == ("comments",)
    runs = copy_runs([CopyPage("f", "1", 1), CopyPage("f", "1", 2), CopyPage("f", "1", 1),
                      CopyPage("f", "2", 2), CopyPage("f", "2", 3)])
    assert runs == [[0, 1], [2], [3, 4]]


# -- in the review app, by keyboard -------------------------------------------------------------

@pytest.fixture(scope="module")
def site(mailing: Mailing, cache: ReadingCache,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Workspace]]:
    workspace = workspace_for(mailing, tmp_path_factory.mktemp("review") / "ws")
    for name in ("returns", "photocopy", "rescan"):
        ingest([mailing.files[name]], workspace, cache)
    store = Store.open(workspace.store_url)
    try:
        add_user(store, "rita", PASSWORD, "reviewer")
    finally:
        store.close()
    with serving(workspace) as url:
        yield url, workspace


@pytest.mark.slow
def test_a_reviewer_makes_a_photocopy_another_response_by_keyboard(
        mailing: Mailing, site: tuple[str, Workspace], tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_executable()
    url, workspace = site
    copied, rescanned, key = mailing.photocopied, mailing.rescanned, mailing.layout.form_key
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(url + "/login")
            page.wait_for_function("document.activeElement === document.querySelector('#name')")
            page.keyboard.type("rita")
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url == url + "/"

            page.goto(url + "/duplicates")
            rows = page.locator("#duplicates tbody tr")
            assert "probably a photocopy" in rows.nth(0).inner_text()
            assert copied in rows.nth(0).inner_text()
            assert "probably a photocopy" not in rows.nth(rows.count() - 1).inner_text()
            page.wait_for_function("document.activeElement.tagName === 'A'")
            with page.expect_navigation():
                page.keyboard.press("Enter")  # "Choose" of the first group has the focus
            assert page.url == f"{url}/duplicates/{key}/{copied}/1"
            assert page.is_visible("#photocopy")
            assert page.locator(".side .card").count() == 2
            with page.expect_navigation():
                page.keyboard.press("a")  # another response
            # The photocopy's page 2 went with it: next is the rescan, no photocopy.
            assert page.url == f"{url}/duplicates/{key}/{rescanned}/1"
            assert not page.is_visible("#photocopy")
            with page.expect_navigation():
                page.keyboard.press("Enter")  # the same response: the first scan stands
        finally:
            browser.close()

    store = Store.open(workspace.store_url)
    try:
        decisions = [(d.action, d.serial, d.page, d.reviewer) for d in page_decisions(store)]
    finally:
        store.close()
    per_copy = len(mailing.layout.pages)
    assert decisions == [*(("another_response", f"{copied}-2", n, "rita")
                           for n in range(1, per_copy + 1)),
                         ("stands", rescanned, 1, "rita")]
    rows = exported(workspace, tmp_path / "dataset.csv")
    twice = [r for r in rows if r["respondent_ref"] == copied]
    assert [r["response_id"] for r in twice] == [f"paper-{key}-{copied}",
                                                 f"paper-{key}-{copied}-2"]
    assert [r["contact_name"] for r in twice] == [mailing.contacts[copied]["name"], ""]
    assert_as_written(twice[1], mailing.copied[copied])
    assert [r["response_id"] for r in rows if r["respondent_ref"] == rescanned] == [
        f"paper-{key}-{rescanned}"]
    assert len(rows) == 4
