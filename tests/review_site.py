"""A review app on a real workspace, for the browser tests: an addressed mailing of the shipped
form, filled and scanned by the simulator, with the troubles a mailroom meets drawn onto the scans
(a second tick, an unreadable scrawl, a page whose code is gone), read by the real pipeline and
served by uvicorn on loopback."""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import httpx
import img2pdf
import numpy as np
import pytest
import uvicorn

from pipeline.ingest.batch import read_chunk
from pipeline.online import import_online_export
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.records import Layout
from pipeline.review.accounts import add_user
from pipeline.review.app import create_app
from pipeline.review.web import Settings
from pipeline.scan.pdf_images import iter_pdf_pages
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.store.store import Store
from pipeline.workspace import Workspace
from tests.ingesting import ingest_without_flow

TEMPLATE = Path(__file__).resolve().parent.parent / "form_templates" / "library_services.yaml"
PASSWORD = "correct horse battery staple"
COPIES = 20
DPI = 200
# Share of confident answers sent to a person all the same: enough work for 50 decisions.
AUDIT_SHARE = 0.6
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as root in a sandbox with no network: no sandbox, no GPU, no phoning home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_executable() -> str:
    """Debian's Chromium; skipped only where nobody meant to install it (a developer's machine),
    failed where tests/run.sh did (as root, or in CI)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI") or os.environ.get("PAPERTWIN_TEST_BROWSER_REQUIRED"):
        pytest.fail(f"{CHROMIUM} is missing although tests/run.sh installs it")
    pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (tests/run.sh installs it)")


@dataclass(frozen=True)
class Site:
    url: str
    workspace: Workspace
    layout: Layout
    truth: dict[str, dict[str, object]]  # serial -> answers as written
    contacts: dict[str, dict[str, str]]  # serial -> recipient
    ambiguous: tuple[str, str]  # (serial, question) of the doubly ticked answer
    scrawled: tuple[str, str]  # (serial, question) of the unreadable text
    keyless: tuple[str, int]  # (serial, page) of the page whose code was whited out
    rescanned: tuple[str, int]  # (serial, page) scanned again in a second batch
    online_twin: tuple[str, str]  # (serial, online response id) of a person on both channels


def ingest(paths: Sequence[Path], workspace: Workspace, settings: ReaderSettings) -> list[str]:
    return ingest_without_flow(paths, workspace,
                               lambda chunk, layouts: read_chunk(chunk, layouts, settings))


def make_site(root: Path) -> Site:
    workspace = Workspace.resolve(root / "workspace").ensure()
    recipients = root / "recipients.csv"
    with recipients.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "address"])
        for n in range(1, COPIES + 1):
            writer.writerow([f"Resident {n:02d}", f"{n} Mill Lane, Millbrook MB{n} 4QT"])
    built = build_forms(TEMPLATE, None, root / "form", workspace, recipients_file=recipients)
    layout = built.layout
    batch = simulate_returns(built.pdf_path.parent, root / "returns", seed=11,
                             damage=Damage.none())
    truth = {r["serial"]: r["answers"]
             for r in json.loads(batch.truth_path.read_text())["responses"]}
    pages = [(n, gray.copy()) for n, gray in iter_pdf_pages(batch.pdf_path, "returns.pdf", DPI)]
    per_copy = len(layout.pages)
    serials = [copy.serial for copy in layout.copies]

    def image_of(serial: str, page: int) -> np.ndarray:
        return pages[serials.index(serial) * per_copy + page - 1][1]

    # A second tick in a single-choice question: the reader must not choose.
    ambiguous = (serials[0], "visit_frequency")
    page, box = _other_box(layout, ambiguous[1], str(truth[ambiguous[0]][ambiguous[1]]))
    _cross(image_of(ambiguous[0], page), box)
    # Writing nobody can read, in place of the comment.
    scrawled = (serials[1], "comments")
    page, box = _field_box(layout, scrawled[1])
    _scrawl(image_of(scrawled[0], page), box)
    # The page code, its printed key and the serial beside it cut away, and the page scanned on
    # its own, with no pages of its copy beside it to name it: a person keys the serial and page.
    keyless = (serials[2], 2)
    blanked = image_of(*keyless)
    height, width = blanked.shape
    blanked[:int(0.14 * height), int(0.55 * width):] = 255
    loose = root / "batch-1-loose-page.png"
    loose.write_bytes(_png(blanked))

    scan = root / "batch-1.pdf"
    scan.write_bytes(img2pdf.convert([_png(gray) for _, gray in pages if gray is not blanked],
                                     layout_fun=img2pdf.get_fixed_dpi_layout_fun((DPI, DPI))))
    ingest([scan, loose], workspace, ReaderSettings(audit_share=AUDIT_SHARE))
    # A page fed through the scanner twice, the second time in the next batch.
    rescanned = (serials[3], 1)
    again = root / "batch-2.png"
    again.write_bytes(_png(np.clip(image_of(*rescanned).astype(np.int16) - 6, 0, 255)
                           .astype(np.uint8)))
    ingest([again], workspace, ReaderSettings())
    # Someone who answered online too, giving the serial of their paper copy.
    online_twin = (serials[4], "uuid:0b7f3c1e-5d2a-4c9e-8f61-2a9d4e7b1c35")
    online = root / "online.csv"
    online.write_text("response_id,submitted_at,respondent_ref,visit_frequency,services,"
                      "opening_hours,relocation,comments\n"
                      f"{online_twin[1]},2026-12-03T10:00:00Z,{online_twin[0]},monthly,books,"
                      "sundays,oppose,Answered online as well\n", encoding="utf-8")
    import_online_export(online, workspace)
    store = Store.open(workspace.store_url)
    try:
        add_user(store, "rita", PASSWORD, "reviewer")
        add_user(store, "rob", PASSWORD, "reviewer")
        add_user(store, "sam", PASSWORD, "supervisor")
        contacts = store.contacts(layout.form_key)
    finally:
        store.close()
    return Site("", workspace, layout, truth, contacts, ambiguous, scrawled, keyless, rescanned,
                online_twin)


def workspace_with_user(root: Path, name: str, role: str) -> Workspace:
    """A new workspace whose only content is one person who may log in (PASSWORD)."""
    workspace = Workspace.resolve(root / "ws").ensure()
    store = Store.open(workspace.store_url)
    try:
        add_user(store, name, PASSWORD, role)
    finally:
        store.close()
    return workspace


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class ReviewProcess:
    url: str
    port: int
    pid: int
    log: Path  # what the process wrote to stdout and stderr


@contextmanager
def review_process(workspace: Workspace, *options: str) -> Iterator[ReviewProcess]:
    """`papertwin review` in a process of its own on a free loopback port, as a mailroom runs
    it, until the caller lets go."""
    port = free_port()
    env = {**os.environ, "PAPERTWIN_HOME": str(workspace.root)}
    env.pop("PAPERTWIN_STORE_URL", None)
    log = workspace.root.parent / f"review-{port}.log"
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "flows.cli", "review", "--port",
                                   str(port), *options], env=env, stdout=output,
                                  stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/login")
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield ReviewProcess(url, port, server.pid, log)
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=30)


def serve(site: Site) -> Iterator[Site]:
    """The app on a free loopback port for as long as the caller holds it."""
    with serving(site.workspace) as url:
        yield replace(site, url=url)


@contextmanager
def serving(workspace: Workspace) -> Iterator[str]:
    """The app of this workspace on a free loopback port, in a thread; its address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(workspace)),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _field_box(layout: Layout, question: str, value: str | None = None) -> tuple[int, tuple[
        float, float, float, float]]:
    for page in layout.pages:
        for field in page.fields:
            if field.question == question and (value is None or field.value == value):
                return page.page, field.box
    raise LookupError(f"{question} {value or ''} is not on the form")


def _other_box(layout: Layout, question: str, chosen: str) -> tuple[int, tuple[
        float, float, float, float]]:
    other = next(c.name for c in layout.questionnaire.question(question).choices
                 if c.name != chosen)
    return _field_box(layout, question, other)


def _px(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    scale = DPI / 72
    x0, y0, x1, y1 = box
    return int(x0 * scale), int(y0 * scale), int(x1 * scale), int(y1 * scale)


def _cross(gray: np.ndarray, box: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = _px(box)
    pad = 5
    cv2.line(gray, (x0 + pad, y0 + pad), (x1 - pad, y1 - pad), 20, 4)
    cv2.line(gray, (x0 + pad, y1 - pad), (x1 - pad, y0 + pad), 20, 4)


def _scrawl(gray: np.ndarray, box: tuple[float, float, float, float]) -> None:
    """Rub out what was written and scrawl loops over the box: ink, but no letters."""
    x0, y0, x1, y1 = _px(box)
    gray[y0 + 8:y1 - 8, x0 + 8:x1 - 8] = 250
    for row in range(3):
        xs = np.arange(x0 + 30, x1 - 30)
        ys = (y0 + 40 + row * 50 + 18 * np.sin(xs / 7.0) + 9 * np.sin(xs / 2.3)).astype(np.int32)
        cv2.polylines(gray, [np.stack([xs, ys], axis=1).reshape(-1, 1, 2)], False, 30, 3)


def _png(gray: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", gray)
    if not ok:
        raise RuntimeError("could not encode a page")
    return bytes(data.tobytes())


def log_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    """The login form filled in and sent as a browser sends it, with the page's csrf token."""
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf": token.group(1)}, follow_redirects=False)
