"""The review web app, driven in Debian's headless Chromium through Playwright: what a mailroom
reviewer and a supervisor do, with the keyboard only, against the real app and a real workspace
(tests/review_site.py). Screenshots of every screen go to $PAPERTWIN_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from flows.cli import main
from pipeline.dataset.export import export_dataset
from pipeline.review.app import create_app
from pipeline.review.pages import page_decisions, unidentified_pages
from pipeline.review.queue import flagged_fields
from pipeline.review.web import Settings
from pipeline.simulate.truth import truth_value
from pipeline.store.store import Store
from tests.review_site import (
    CHROMIUM_ARGS,
    PASSWORD,
    Site,
    chromium_executable,
    make_site,
    serve,
)

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve(make_site(tmp_path_factory.mktemp("review-site")))


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_api.Browser]:
    executable = chromium_executable()
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def logged_in(browser: playwright_api.Browser, site: Site,
              name: str) -> playwright_api.Page:
    """A new browser session, logged in by typing as a person would."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(site.url + "/")
    assert page.url.startswith(site.url + "/login")
    once_focused(page)
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    assert (page.input_value("#name"), page.input_value("#password")) == (name, PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == site.url + "/", page.inner_text("main")
    return page


def press(page: playwright_api.Page, key: str) -> None:
    """A key that submits: wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def once_focused(page: playwright_api.Page) -> playwright_api.Page:
    """Wait, as a person sees the focus ring before typing, until the page's autofocus lands."""
    page.wait_for_function("document.activeElement && document.activeElement !== document.body")
    return page


def field_url(site: Site, serial: str, question: str) -> str:
    return f"{site.url}/fields/{quote(site.layout.form_key)}/{serial}/{question}"


def shot(page: playwright_api.Page, name: str) -> None:
    folder = os.environ.get("PAPERTWIN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def store_of(site: Site) -> Store:
    return Store.open(site.workspace.store_url)


# -- access --------------------------------------------------------------------------------------

def test_every_page_but_login_needs_a_session(site: Site) -> None:
    """Each route of the app, asked for with no session: GETs go to the login page and show
    nothing; POSTs are refused."""
    store = store_of(site)
    try:
        item = flagged_fields(store, {site.layout.form_key: site.layout})[0]
        page = unidentified_pages(store)[0]
    finally:
        store.close()
    values = {"form_key": item.form_key, "serial": item.serial, "question": item.question,
              "file_sha256": page.file_sha256, "page_index": str(page.page_index), "page": "1",
              "paper_id": "p", "online_id": "o", "response_id": "letter-0",
              "entry": "1"}
    app = create_app(Settings(site.workspace))
    checked: set[str] = set()
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        for route in app.routes:
            # {question:path}: a repeat's answer names hold "/"; the converter is left out here
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", getattr(route, "path", ""))
            for method in sorted(getattr(route, "methods", None) or ()):
                if path == "/login" or method == "HEAD":
                    continue
                url = path.format(**values)
                response = client.request(method, url)
                if method == "GET":
                    assert response.status_code == 303, (method, url)
                    assert response.headers["location"].startswith("/login?next="), url
                    assert response.content == b""
                else:
                    assert response.status_code in (401, 403), (method, url)
                checked.add(path)
    # Every screen of the app is among them: the routes were really enumerated.
    assert {"/", "/fields", "/fields/next", "/fields/{form_key}/{serial}/{question}",
            "/fields/{form_key}/{serial}/{question}/crop.png", "/pages",
            "/pages/{file_sha256}/{page_index}", "/pages/{file_sha256}/{page_index}/image.png",
            "/duplicates", "/dual", "/dual/{paper_id}/{online_id}", "/team",
            "/logout"} <= checked
    with httpx.Client(base_url=site.url) as client:
        assert client.get("/login").status_code == 200


def test_wrong_password_is_refused(browser: playwright_api.Browser, site: Site) -> None:
    page = browser.new_context().new_page()
    page.goto(site.url + "/login")
    shot(once_focused(page), "01-login")
    page.keyboard.type("rita")
    page.keyboard.press("Tab")
    page.keyboard.type("not her password")
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    response = navigation.value
    assert response is not None and response.status == 401
    assert "Wrong name or password." in page.inner_text("[role=alert]")
    shot(page, "02-login-refused")
    assert not [c for c in page.context.cookies() if c["name"] == "papertwin_session"]
    page.goto(site.url + "/fields")
    assert page.url.startswith(site.url + "/login")


def test_a_post_without_the_csrf_token_is_refused(browser: playwright_api.Browser,
                                                   site: Site) -> None:
    page = logged_in(browser, site, "rita")
    serial, question = site.scrawled
    url = field_url(site, serial, question)
    store = store_of(site)
    try:
        before = len(store.review_log())
        refused = page.request.post(url, form={"action": "decide", "value": "forged"})
        wrong = page.request.post(url, form={"action": "decide", "value": "forged",
                                             "csrf": "not-the-token"})
        elsewhere = page.request.post(url, form={"action": "decide", "value": "forged"},
                                      headers={"Origin": "https://elsewhere.example"})
        assert (refused.status, wrong.status, elsewhere.status) == (403, 403, 403)
        assert len(store.review_log()) == before
    finally:
        store.close()
    page.context.close()


# -- reviewing -----------------------------------------------------------------------------------

def test_a_reviewer_resolves_a_tick_and_a_text_by_keyboard(browser: playwright_api.Browser,
                                                           site: Site, tmp_path: Path) -> None:
    page = logged_in(browser, site, "rita")
    shot(page, "03-batches")
    serial, question = site.ambiguous
    written = str(site.truth[serial][question])
    choices = [c.name for c in site.layout.questionnaire.question(question).choices]
    page.goto(field_url(site, serial, question))
    assert page.inner_text("#flag") == "ambiguous"
    assert page.is_visible("img#crop")
    shot(page, "04-field-ambiguous")
    page.keyboard.press(str(choices.index(written) + 1))
    press(page, "Enter")

    serial_t, question_t = site.scrawled
    page.goto(field_url(site, serial_t, question_t))
    assert page.inner_text("#flag") == "OCR low confidence"
    shot(page, "05-field-text")
    page.keyboard.type("Please open on Sundays")
    press(page, "Enter")

    out = tmp_path / "dataset.csv"
    export_dataset(site.workspace, out, "csv")
    with out.open(newline="", encoding="utf-8") as handle:
        rows = {r["respondent_ref"]: r for r in csv.DictReader(handle)}
    assert rows[serial][question] == written
    assert question not in rows[serial]["_needs_review"].split()
    assert rows[serial_t][question_t] == "Please open on Sundays"
    store = store_of(site)
    try:
        (tick,) = store.review_log(site.layout.form_key, serial, question)
        (text,) = store.review_log(site.layout.form_key, serial_t, question_t)
    finally:
        store.close()
    assert (tick.old_value, tick.new_value, tick.reviewer, tick.why) == \
        ("", written, "rita", "corrected")
    assert (text.new_value, text.reviewer, text.why) == \
        ("Please open on Sundays", "rita", "corrected")
    assert text.old_value not in ("", "Please open on Sundays")  # what the reader made of it


def test_only_a_supervisor_sees_contact_details(browser: playwright_api.Browser,
                                                site: Site) -> None:
    serial, question = site.scrawled
    recipient = site.contacts[serial]
    supervisor = logged_in(browser, site, "sam")
    supervisor.goto(field_url(site, serial, question))
    assert recipient["name"] in supervisor.inner_text("#contact")
    assert recipient["address"] in supervisor.inner_text("#contact")
    shot(supervisor, "06-field-supervisor")
    reviewer = logged_in(browser, site, "rob")
    reviewer.goto(field_url(site, serial, question))
    assert reviewer.query_selector("#contact") is None
    html = reviewer.content()
    assert recipient["name"] not in html and recipient["address"] not in html
    reviewer.goto(site.url + "/team")
    assert "supervisors" in reviewer.inner_text("main")
    supervisor.goto(site.url + "/team")
    shot(supervisor, "07-team")
    assert "rita" in supervisor.inner_text("#rates")


def test_fifty_answers_by_keyboard_alone(browser: playwright_api.Browser, site: Site) -> None:
    """From the queue page, fifty answers decided with Enter, digits, typing, skip and refer,
    never the mouse; each decision is in the log, and the referred one waits for a supervisor."""
    page = logged_in(browser, site, "rob")
    store = store_of(site)
    try:
        layouts = {site.layout.form_key: site.layout}
        waiting = len(flagged_fields(store, layouts))
        before = len(store.review_log())
        page.goto(site.url + "/fields")
        shot(page, "08-queue")
        press(once_focused(page), "Enter")  # "Start reviewing" has the focus
        decided = referred = skipped = 0
        while decided < 50:
            kind = page.get_attribute("#decision", "data-kind")
            if decided == 10 and not referred:
                page.keyboard.press("Alt+R")
                page.keyboard.type("Two answers crossed out: please look")
                press(page, "Enter")
                referred += 1
                continue
            if decided == 20 and not skipped:
                press(page, "Escape")
                skipped += 1
                continue
            if kind == "choice" and decided % 7 == 3:
                page.keyboard.press("Delete")  # nothing was meant to be ticked
            elif kind == "text" and decided % 2:
                page.keyboard.type(f"typed by rob {decided}")
            press(page, "Enter")
            decided += 1
        log = store.review_log()[before:]
        assert len(log) == 50 and {d.reviewer for d in log} == {"rob"}
        assert len(flagged_fields(store, layouts)) == waiting - 50 - 1
        referrals = flagged_fields(store, layouts, referred=True)
        assert [r.referral.referred_by for r in referrals if r.referral] == ["rob"]
        assert referrals[0].referral is not None
        assert referrals[0].referral.note == "Two answers crossed out: please look"
    finally:
        store.close()


def test_a_supervisor_settles_a_referral(browser: playwright_api.Browser, site: Site) -> None:
    store = store_of(site)
    try:
        (item,) = flagged_fields(store, {site.layout.form_key: site.layout}, referred=True)
    finally:
        store.close()
    page = logged_in(browser, site, "sam")
    page.goto(site.url + "/fields/next?queue=referred")
    assert "Two answers crossed out" in page.inner_text("main")
    shot(page, "09-referred")
    press(page, "Enter")
    store = store_of(site)
    try:
        assert not flagged_fields(store, {site.layout.form_key: site.layout}, referred=True)
        (decision,) = store.review_log(item.form_key, item.serial, item.question)
    finally:
        store.close()
    assert decision.reviewer == "sam" and "referred by rob" in decision.why


def test_a_page_without_its_code_is_keyed_by_hand(browser: playwright_api.Browser,
                                                  site: Site) -> None:
    serial, number = site.keyless
    page = logged_in(browser, site, "rita")
    page.goto(site.url + "/pages")
    shot(page, "10-pages")
    press(once_focused(page), "Enter")  # "Start with the first page"
    assert page.is_visible("img#page-image")
    shot(page, "11-page")
    page.keyboard.type("999999")  # a slip: no such copy was printed
    page.keyboard.press("Tab")
    page.keyboard.type(str(number))
    press(page, "Enter")
    assert "was not printed" in page.inner_text("[role=alert]")
    assert page.input_value("#page") == str(number)  # what was keyed stays
    shot(page, "11b-page-mistyped")
    once_focused(page).keyboard.press("Control+A")  # the serial field has the focus again
    page.keyboard.type(serial)
    press(page, "Enter")
    store = store_of(site)
    try:
        assert not unidentified_pages(store)
        (keyed,) = [d for d in page_decisions(store) if d.action == "keyed"]
        answers = {a.question: a.value for a in store.paper_answers([site.layout.form_key])
                   if a.serial == serial and a.page == number and not a.needs_review}
    finally:
        store.close()
    assert (keyed.action, keyed.serial, keyed.page, keyed.reviewer) == \
        ("keyed", serial, number, "rita")
    # The page's answers are read now, and equal what was written.
    assert answers["relocation"] == truth_value(site.truth[serial]["relocation"])
    assert all(value == truth_value(site.truth[serial][q]) for q, value in answers.items())


def test_a_page_scanned_twice_and_the_scan_that_stands(browser: playwright_api.Browser,
                                                        site: Site) -> None:
    serial, number = site.rescanned
    page = logged_in(browser, site, "rita")
    page.goto(site.url + "/duplicates")
    shot(page, "12-duplicates")
    press(once_focused(page), "Enter")  # "Choose" of the first group has the focus
    assert page.locator(".side .card").count() == 2
    shot(page, "13-duplicate")
    press(page, "2")  # the later scan stands
    store = store_of(site)
    try:
        decision = page_decisions(store)[-1]
        sources = {a.source for a in store.paper_answers([site.layout.form_key])
                   if a.serial == serial and a.page == number}
    finally:
        store.close()
    assert (decision.action, decision.serial, decision.page, decision.reviewer) == \
        ("stands", serial, number, "rita")
    assert sources == {"batch-2.png p1"}


def test_a_person_on_both_channels_is_settled_and_the_export_follows(
        browser: playwright_api.Browser, site: Site, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    serial, online_id = site.online_twin
    page = logged_in(browser, site, "rita")
    page.goto(site.url + "/dual")
    assert online_id in page.inner_text("#pairs")
    shot(page, "14-dual")
    press(once_focused(page), "Enter")  # "Start with the first pair"
    assert "Answered online as well" in page.inner_text("#answers")
    shot(page, "15-dual-pair")
    press(page, "o")  # keep the online response
    out = tmp_path / "dataset.csv"
    assert main(["export", "--format", "csv", "--out", str(out),
                 "--workspace", str(site.workspace.root)]) == 0
    assert "1 person answered on paper and online (keep-both): 1 settled by a person in the " \
           "review app, 0 pairs kept" in capsys.readouterr().out
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    kept = [r for r in rows if r["respondent_ref"] == serial]
    assert [(r["channel"], r["response_id"]) for r in kept] == [("online", online_id)]
    assert "decided by a person" in kept[0]["_dual_channel"]
