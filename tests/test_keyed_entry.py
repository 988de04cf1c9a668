"""Keyed entry: responses phoned in or typed from a paper return, keyed once or twice (blind),
settled, and in the dataset. The store on each backend; the review app in Debian's headless
Chromium, by keyboard (tests/review_site.py). Screenshots go to $PAPERTWIN_SCREENSHOTS when set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import img2pdf
import pandas as pd
import pytest

from pipeline.dataset.export import export_dataset
from pipeline.dataset.keyed import with_keyed
from pipeline.errors import UsageError, WorkspaceError
from pipeline.forms.routing import apply_routing
from pipeline.forms.sources import load_questionnaire
from pipeline.ingest.batch import read_chunk
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.records import Layout
from pipeline.review.accounts import add_user
from pipeline.review.keying import check_entry, key_fields, keyed_value
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.store.channels import ChannelResponse, new_channel_response
from pipeline.store.keyed import (
    KeyedEntry,
    KeyedResponse,
    keyed_response,
    keyed_responses,
    record_decision,
    record_entry,
)
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow
from tests.review_site import CHROMIUM_ARGS, PASSWORD, chromium_executable, serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PROJECT = Path(__file__).resolve().parent.parent
TOWN_CENTRE = PROJECT / "form_templates" / "town_centre.yaml"
WELSH = PROJECT / "form_templates" / "town_centre_xlsform.md"


# -- the store ------------------------------------------------------------------------------------

def test_a_single_entry_is_settled_by_itself_and_a_decision_corrects_it(store: Store) -> None:
    response = new_channel_response(store, "town_centre", "phone", "kim", form_key="k1",
                                    language="en")
    assert keyed_response(store, response.response_id).answers() is None  # not keyed yet
    entry = record_entry(store, response.response_id, 1, {"age": "41", "gender": "woman"}, "kim")
    assert (entry.entry, entry.keyed_by, dict(entry.answers)) == (
        1, "kim", {"age": "41", "gender": "woman"})
    keyed = keyed_response(store, response.response_id)
    assert keyed is not None and keyed.settled
    assert keyed.answers() == {"age": "41", "gender": "woman"}
    with pytest.raises(UsageError, match="keyed once"):
        record_entry(store, response.response_id, 2, {"age": "14"}, "lee")
    with pytest.raises(UsageError, match="keyed already"):
        record_entry(store, response.response_id, 1, {"age": "14"}, "lee")
    record_decision(store, response.response_id, "age", "42", "sam", "called back")
    record_decision(store, response.response_id, "age", "43", "sam", "called again")
    keyed = keyed_response(store, response.response_id)
    assert keyed is not None
    assert keyed.answers() == {"age": "43", "gender": "woman"}  # the latest decision wins
    assert [(d.value, d.why) for d in keyed.decisions] == [("42", "called back"),
                                                         ("43", "called again")]
    assert dict(keyed.entries[0].answers) == {"age": "41", "gender": "woman"}  # as keyed


def test_double_entry_is_settled_where_the_entries_agree_or_by_decision(store: Store) -> None:
    response = new_channel_response(store, "town_centre", "paper-keyed", "sam", form_key="k1",
                                    serial="000004", language="en", double_entry=True)
    rid = response.response_id
    with pytest.raises(UsageError, match="no first entry"):
        record_entry(store, rid, 2, {"age": "41"}, "lee")
    record_entry(store, rid, 1, {"age": "41", "gender": "woman", "postcode": "MB1 1AA",
                                 "comments": "More  buses"}, "kim")
    with pytest.raises(UsageError, match="another person"):
        record_entry(store, rid, 2, {"age": "41"}, "kim")
    with pytest.raises(UsageError, match="not keyed in full"):
        record_decision(store, rid, "age", "41", "sam")
    keyed = keyed_response(store, rid)
    assert keyed is not None and not keyed.settled and keyed.answers() is None
    record_entry(store, rid, 2, {"age": "47", "gender": "man", "postcode": "MB1 1AA",
                                 "comments": "More buses"}, "lee")
    keyed = keyed_response(store, rid)
    assert keyed is not None
    assert keyed.differing == ("age", "gender")  # spacing alone is no difference
    assert keyed.undecided == ("age", "gender") and keyed.answers() is None
    record_decision(store, rid, "age", "47", "sam", "entry 2 kept")
    keyed = keyed_response(store, rid)
    assert keyed is not None and keyed.undecided == ("gender",) and not keyed.settled
    record_decision(store, rid, "gender", "woman", "sam", "entry 1 kept")
    (keyed,) = keyed_responses(store, ["town_centre"])
    assert keyed.settled
    assert keyed.answers() == {"age": "47", "gender": "woman", "postcode": "MB1 1AA",
                               "comments": "More  buses"}
    assert [(e.entry, e.keyed_by) for e in keyed.entries] == [(1, "kim"), (2, "lee")]
    assert keyed_responses(store, ["another"]) == []


def test_only_phone_and_paper_keyed_responses_are_keyed(store: Store) -> None:
    letter = new_channel_response(store, "town_centre", "letter", "kim")
    with pytest.raises(UsageError, match="only phone and paper-keyed"):
        record_entry(store, letter.response_id, 1, {}, "kim")
    with pytest.raises(WorkspaceError, match="no response"):
        record_entry(store, "phone-nothing", 1, {}, "kim")
    assert keyed_responses(store) == []


# -- keyed rows in the dataset ---------------------------------------------------------------

def _keyed(response_id: str, channel: str, serial: str, form_key: str,
           answers: dict[str, str], double: bool = False) -> KeyedResponse:
    response = ChannelResponse(response_id, "town_centre", channel, form_key, serial, "en",
                               double, "kim", "2026-12-01T10:00:00+00:00", "")
    entry = KeyedEntry(1, response_id, 1, answers, "kim", "2026-12-01T10:05:00+00:00")
    return KeyedResponse(response, (entry,), ())


def test_keyed_rows_join_the_scan_of_their_own_variant_and_unsettled_ones_wait() -> None:
    columns = ["response_id", "channel", "submitted_at", "respondent_ref", "age", "gender",
               "_needs_review", "_confidence", "_source", "_pages_missing"]
    frame = pd.DataFrame([
        ["paper-en1-000001", "paper", "t1", "000001", "52", "man", "age", "0.41", "a.pdf p1", ""],
        ["paper-cy1-000001", "paper", "t2", "000001", "30", "woman", "", "0.97", "b.pdf p1", ""],
        ["paper-en1-000001-2", "paper", "t3", "000001", "66", "", "", "0.9", "c.pdf p1", ""],
    ], columns=columns)
    keyed = [
        _keyed("paper-keyed-1", "paper-keyed", "000001", "cy1", {"age": "31", "gender": ""}),
        _keyed("paper-keyed-2", "paper-keyed", "000009", "en1", {"age": "40"}),
        _keyed("phone-1", "phone", "", "en1", {"age": "70", "gender": "man"}),
        _keyed("phone-2", "phone", "", "en1", {"age": "71"}, double=True),  # one entry of two
    ]
    out = with_keyed(frame, keyed)
    assert out[["response_id", "channel", "respondent_ref", "age", "gender", "_needs_review",
                "_confidence"]].values.tolist() == [
        ["paper-en1-000001", "paper", "000001", "52", "man", "age", "0.41"],
        ["paper-cy1-000001", "paper-keyed", "000001", "31", "woman", "", "0.97"],
        ["paper-en1-000001-2", "paper", "000001", "66", "", "", "0.9"],
        ["paper-keyed-2", "paper-keyed", "000009", "40", "", "", ""],
        ["phone-1", "phone", "", "70", "man", "", ""],
    ]
    assert out.loc[1, "_source"] == ("keyed paper-keyed-1 (paper-keyed); entry 1 by kim at "
                                     "2026-12-01T10:05:00+00:00; b.pdf p1")
    assert out.loc[4, "submitted_at"] == "2026-12-01T10:05:00+00:00"


# -- what is keyed, checked as the reader checks it ---------------------------------------------

@pytest.fixture(scope="module")
def town_centre() -> Layout:
    """The questionnaire as a layout holds it (routed), with no workspace."""
    routed, _ = apply_routing(load_questionnaire(TOWN_CENTRE).questionnaire)
    return Layout("k", "t", (595.0, 842.0), (), routed)


def test_keyed_values_are_validated_as_the_reader_validates_cells(town_centre: Layout) -> None:
    q = town_centre.questionnaire.question
    assert keyed_value(q("age"), "41") == ("41", "")
    assert keyed_value(q("age"), "150") == ("", "150 is outside the question's limits "
                                                "(at most 110: . <= 110)")
    assert keyed_value(q("age"), "forty")[1] == "not a number"
    assert keyed_value(q("postcode"), "mb1 1aa") == ("MB1 1AA", "")
    assert keyed_value(q("postcode"), "MB1") == ("", "not a UK postcode")
    assert keyed_value(q("completed_on"), "05/03/2027") == ("2027-03-05", "")
    assert keyed_value(q("completed_on"), "31 02 2027") == ("", "not a date (day, month, year)")
    assert keyed_value(q("travel_mode"), "4, 1") == ("car walk", "")
    assert keyed_value(q("gender"), "1 2") == ("", "this question takes one answer: key one "
                                                   "number")
    assert keyed_value(q("gender"), "7") == ("", "7 is not a choice here: key a number from 1 "
                                                 "to 4")
    assert keyed_value(q("gender"), "prefer_not") == ("prefer_not", "")


def test_the_route_skips_what_the_answers_leave_off_it(town_centre: Layout) -> None:
    checked = check_entry(town_centre.questionnaire, {
        "visit_frequency": "5", "travel_mode": "1", "heard_before": "1", "heard_where": "2",
        "age": "33"})
    assert checked.ok
    assert checked.skipped == ("travel_mode", "travel_mode_other", "visit_reasons")
    assert "travel_mode" not in checked.answers
    assert (checked.answers["visit_frequency"], checked.answers["heard_where"],
            checked.answers["age"]) == ("never", "social_media", "33")
    fields = {f.name: f for f in key_fields(town_centre.questionnaire, "en")}
    assert (fields["heard_where"].number, fields["heard_where"].when) == (
        "6", (("heard_before", "yes", True),))
    assert fields["travel_mode_other"].when == (("travel_mode", "other", True),)
    assert [fields[n].number for n in ("pedestrian_high_street", "library_move")] == ["4", "4"]


def test_the_questions_are_worded_in_the_language_chosen() -> None:
    welsh = load_questionnaire(WELSH).questionnaire
    assert "cy" in welsh.languages
    english = {f.name: f.label for f in key_fields(welsh, "en")}
    cymraeg = {f.name: f.label for f in key_fields(welsh, "cy")}
    assert english["visit_frequency"] == welsh.question("visit_frequency").label.text("en")
    assert cymraeg["visit_frequency"] == welsh.question("visit_frequency").label.text("cy")
    assert cymraeg["visit_frequency"] != english["visit_frequency"]


# -- the review app, in Chromium ----------------------------------------------------------------

COPIES = 4
DPI = 200


@dataclass(frozen=True)
class KeyingSite:
    url: str
    workspace: Workspace
    layout: Layout
    returns: Path  # the simulated scans of every copy, as one PDF
    truth: dict[str, dict[str, object]]  # serial -> answers as written


@pytest.fixture(scope="module")
def keying_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyingSite]:
    """The town centre form (with routing, postcode and digit cells), four copies printed and
    filled in by the simulator (scanned later by a test), and three people to key."""
    root = tmp_path_factory.mktemp("keying")
    workspace = Workspace.resolve(root / "workspace").ensure()
    built = build_forms(TOWN_CENTRE, COPIES, root / "form", workspace)
    batch = simulate_returns(built.pdf_path.parent, root / "returns", seed=5,
                             damage=Damage.none(), off_route=0.0)
    truth = {r["serial"]: r["answers"]
             for r in json.loads(batch.truth_path.read_text())["responses"]}
    with Store.open(workspace.store_url) as store:
        add_user(store, "kim", PASSWORD, "reviewer")
        add_user(store, "lee", PASSWORD, "reviewer")
        add_user(store, "sam", PASSWORD, "supervisor")
    with serving(workspace) as url:
        yield KeyingSite(url, workspace, built.layout, batch.pdf_path, truth)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api")  # only the browser tests need it
    executable = chromium_executable()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def logged_in(browser: Browser, site: KeyingSite,
              name: str) -> Page:
    """A new browser session, logged in by typing, on the keyed-entry list."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(site.url + "/keyed")
    focused(page)
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == site.url + "/keyed", page.inner_text("main")
    return page


def focused(page: Page) -> str:
    """The id of the element with the focus, once the page's own focus has landed."""
    page.wait_for_function("document.activeElement && document.activeElement !== document.body")
    return str(page.evaluate("document.activeElement.id"))


def press(page: Page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("PAPERTWIN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"keyed-{name}.png"), full_page=True)


def exported(site: KeyingSite, tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / "dataset.csv"
    export_dataset(site.workspace, out, "csv")
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def start(page: Page, channel: str, serial: str = "",
          double: bool = False) -> str:
    """Start a keyed response from the list; its id, from the keying screen's address."""
    page.select_option("#channel", channel)
    page.fill("#serial", serial)
    if double:
        page.check("#double")
    with page.expect_navigation():
        page.click("#begin")
    assert page.url.endswith("/entry/1"), page.inner_text("main")
    return page.url.split("/keyed/")[1].split("/")[0]


def key(page: Page, answers: dict[str, str]) -> None:
    """Fill the keying screen and save it."""
    for name, typed in answers.items():
        page.fill(f"#q-{name}", typed)
    with page.expect_navigation():
        page.click("#save")


@pytest.mark.slow
def test_a_phone_response_keyed_by_keyboard_alone_lands_in_the_export(
        browser: Browser, keying_site: KeyingSite, tmp_path: Path) -> None:
    page = logged_in(browser, keying_site, "kim")
    assert focused(page) == "variant"
    page.keyboard.press("Tab")  # the channel: a phone call is the first
    assert page.input_value("#channel") == "phone"
    page.keyboard.press("Tab")
    press(page, "Enter")  # Enter in the serial field starts the response
    assert "/entry/1" in page.url
    response_id = page.url.split("/keyed/")[1].split("/")[0]
    assert focused(page) == "q-visit_frequency"
    assert page.inner_text("#field-visit_frequency .no") == "1"
    assert "How often do you visit Millbrook town centre?" in page.inner_text(
        "#field-visit_frequency")
    page.keyboard.type("5")  # never: the next two questions are off the route
    assert page.inner_text("#picked-visit_frequency") == "Never"
    page.keyboard.press("Enter")
    assert focused(page) == "q-pedestrian_high_street"
    assert page.is_disabled("#q-travel_mode") and page.is_disabled("#q-visit_reasons")
    for typed in ("1", "2", "4", "3", "5"):  # the grid's five rows
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
    assert focused(page) == "q-heard_before"
    page.keyboard.type("2")  # no: where they heard of it is skipped
    page.keyboard.press("Enter")
    assert focused(page) == "q-priorities"
    for typed in ("A covered market", "mb1 1aa", "150", "1", "2", "05 03 2027"):
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
    assert focused(page) == "q-comments"
    shot(page, "01-keying")
    page.keyboard.type("Keep the bus station open")
    press(page, "Enter")  # the last field: saves, and the age comes back to correct
    assert page.url.endswith(f"/keyed/{response_id}/entry/1")
    assert page.inner_text("#error-age") == ("150 is outside the question's limits "
                                             "(at most 110: . <= 110)")
    assert page.input_value("#q-comments") == "Keep the bus station open"  # nothing lost
    assert page.input_value("#q-postcode") == "mb1 1aa"
    assert focused(page) == "q-age"
    shot(page, "02-validation")
    page.keyboard.type("41")  # the field's text is selected: typing replaces it
    press(page, "Control+Enter")
    assert page.url == f"{keying_site.url}/keyed/{response_id}"
    assert "settled" in page.inner_text("#state")

    frame = exported(keying_site, tmp_path)
    (row,) = frame[frame["response_id"] == response_id].to_dict("records")
    expected = {
        "channel": "phone", "respondent_ref": "", "visit_frequency": "never", "travel_mode": "",
        "visit_reasons": "", "pedestrian_high_street": "strongly_support",
        "market_square": "support", "station_road_car_park": "oppose", "cycle_lanes": "neutral",
        "library_move": "strongly_oppose", "heard_before": "no", "heard_where": "",
        "priorities": "A covered market", "postcode": "MB1 1AA", "age": "41",
        "gender": "woman", "disability": "no", "completed_on": "2027-03-05",
        "comments": "Keep the bus station open", "_needs_review": "", "_off_route": ""}
    assert {k: row[k] for k in expected} == expected
    assert row["_source"].startswith(f"keyed {response_id} (phone); entry 1 by kim at ")
    summary = pd.read_csv(tmp_path / "dataset.summary.csv", dtype=str, keep_default_na=False)
    phoned = summary[(summary["channel"] == "phone") & (summary["question"] == "age")]
    assert phoned[["value", "count"]].values.tolist() == [["(answered)", "1"], ["(blank)", "0"]]


@pytest.mark.slow
def test_a_double_keyed_return_is_settled_and_the_log_keeps_all_three(
        browser: Browser, keying_site: KeyingSite, tmp_path: Path) -> None:
    sam = logged_in(browser, keying_site, "sam")
    response_id = start(sam, "paper-keyed", double=True)
    kim = logged_in(browser, keying_site, "kim")
    kim.goto(f"{keying_site.url}/keyed/{response_id}/entry/1")
    first = {"visit_frequency": "2", "travel_mode": "1 3", "heard_before": "1",
             "heard_where": "2", "age": "41", "gender": "1", "comments": "Cheaper parking"}
    key(kim, first)
    assert kim.url == f"{keying_site.url}/keyed/{response_id}"
    lee = logged_in(browser, keying_site, "lee")
    lee.goto(f"{keying_site.url}/keyed/{response_id}")
    assert "hidden until the second, blind entry" in lee.inner_text("#blind")
    assert "Cheaper parking" not in lee.content()
    lee.goto(f"{keying_site.url}/keyed/{response_id}/entry/2")
    assert "Cheaper parking" not in lee.content()  # blind: entry 1 is nowhere on the page
    assert lee.input_value("#q-age") == ""
    key(lee, {**first, "age": "47", "gender": "2"})
    kim.goto(f"{keying_site.url}/keyed/{response_id}/entry/2")
    assert "keyed already" in kim.inner_text("main")

    assert frame_ids(exported(keying_site, tmp_path)).isdisjoint({response_id})  # unsettled
    sam.goto(f"{keying_site.url}/keyed/{response_id}/settle")
    rows = sam.locator("#differ tbody tr")
    assert [rows.nth(i).get_attribute("data-question") for i in range(rows.count())] == [
        "age", "gender"]
    assert "1 Woman" in rows.nth(1).inner_text() and "2 Man" in rows.nth(1).inner_text()
    shot(sam, "03-settle")
    sam.check("#pick-age-2")
    sam.check("#pick-gender-other")
    sam.fill("#other-gender", "4")
    sam.fill("#why", "checked the return")
    with sam.expect_navigation():
        sam.click("#decide")
    assert sam.url == f"{keying_site.url}/keyed/{response_id}"
    entries = sam.inner_text("#entries")
    assert "Entry 1" in entries and "kim" in entries and "Entry 2" in entries and "lee" in entries
    decisions = sam.locator("#decisions tbody tr")
    assert [decisions.nth(i).locator("td").all_inner_texts()[1:] for i in range(2)] == [
        ["sam", "age", "47", "entry 2 kept: checked the return"],
        ["sam", "gender", "prefer_not", "neither entry: keyed from the return: checked the "
                                        "return"]]
    shot(sam, "04-log")

    frame = exported(keying_site, tmp_path)
    (row,) = frame[frame["response_id"] == response_id].to_dict("records")
    expected = {"channel": "paper-keyed", "visit_frequency": "weekly", "travel_mode": "walk bus",
                "heard_where": "social_media", "age": "47", "gender": "prefer_not",
                "comments": "Cheaper parking", "respondent_ref": ""}
    assert {k: row[k] for k in expected} == expected
    assert "entry 1 by kim" in row["_source"] and "entry 2 by lee" in row["_source"]
    assert "2 fields decided by sam" in row["_source"]


def frame_ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["response_id"])


@pytest.mark.slow
def test_a_return_keyed_by_its_serial_and_then_scanned_counts_once(
        browser: Browser, keying_site: KeyingSite, tmp_path: Path) -> None:
    layout = keying_site.layout
    serial = layout.copies[2].serial
    truth = keying_site.truth[serial]
    kim = logged_in(browser, keying_site, "kim")
    kim.select_option("#channel", "paper-keyed")
    kim.fill("#serial", "999999")
    with kim.expect_navigation():
        kim.click("#begin")
    assert "serial 999999 was never issued for town_centre" in kim.inner_text("#problem")
    shot(kim, "00-start")
    abandoned = start(kim, "paper-keyed", serial)  # opened, then left without saving
    kim.goto(f"{keying_site.url}/keyed")
    response_id = start(kim, "paper-keyed", serial)  # the copy is still to key
    assert response_id != abandoned
    assert kim.inner_text(".head .meta").startswith(f"paper-keyed · copy {serial}")
    key(kim, {"age": "29", "comments": "Typed in from the return"})
    assert kim.url == f"{keying_site.url}/keyed/{response_id}"
    kim.goto(f"{keying_site.url}/keyed")
    with kim.expect_navigation():
        kim.select_option("#channel", "paper-keyed")
        kim.fill("#serial", serial)
        kim.click("#begin")
    assert f"copy {serial} is keyed already ({response_id}, by kim)" in kim.inner_text(
        "#problem")
    # The keying left open earlier cannot key the copy a second time either.
    kim.goto(f"{keying_site.url}/keyed/{abandoned}/entry/1")
    key(kim, {"age": "30"})
    assert f"copy {serial} was keyed meanwhile ({response_id}, by kim)" in kim.inner_text("main")

    # The same copy comes back through the scanner later.
    per_copy = len(layout.pages)
    at = [c.serial for c in layout.copies].index(serial) * per_copy
    pages = [gray for n, gray in iter_pdf_pages(keying_site.returns, "returns.pdf", DPI)][
        at:at + per_copy]
    scan = tmp_path / "late-return.pdf"
    scan.write_bytes(img2pdf.convert([cv2.imencode(".png", g)[1].tobytes() for g in pages],
                                     layout_fun=img2pdf.get_fixed_dpi_layout_fun((DPI, DPI))))
    settings = ReaderSettings()
    ingest_without_flow([scan], keying_site.workspace,
                        lambda chunk, layouts: read_chunk(chunk, layouts, settings))

    frame = exported(keying_site, tmp_path)
    copy = frame[frame["respondent_ref"] == serial]
    assert len(copy) == 1  # one copy, one row
    (row,) = copy.to_dict("records")
    assert frame_ids(frame).isdisjoint({response_id})
    assert (row["response_id"], row["channel"]) == (f"paper-{layout.form_key}-{serial}",
                                                    "paper-keyed")
    assert (row["age"], row["comments"]) == ("29", "Typed in from the return")  # keyed wins
    for name in ("visit_frequency", "heard_before", "gender"):  # the scan's, where not keyed
        assert row[name] == str(truth.get(name) or ""), name
    assert row["_source"].startswith(f"keyed {response_id} (paper-keyed); entry 1 by kim at ")
    assert "late-return.pdf" in row["_source"]
