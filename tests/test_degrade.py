"""Degradation profiles: seeded, damaging, keeping the page's size, mixed as documented."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import img2pdf
import numpy as np
import pikepdf
import pytest

from flows.cli import main
from pipeline.errors import UsageError
from pipeline.programs.poppler import page_count, rasterise_page
from pipeline.publish import build_forms
from pipeline.simulate import degrade
from pipeline.simulate.degrade import (
    MAILROOM,
    MAX_SKEW_DEG,
    PROFILES,
    CopyPlan,
    DegradingScanner,
    PagePlan,
    degrade_page,
    encode_page,
    plan_copy,
    plan_page,
)
from pipeline.simulate.returns import simulate_returns
from pipeline.workspace import Workspace

TEMPLATE = Path(__file__).resolve().parents[1] / "form_templates" / "town_centre.yaml"
A4_POINTS = (595.3, 841.9)


def small_page(dpi: int = 60) -> np.ndarray:
    """An A4 page at a low resolution, so that every profile runs quickly: corner marks, a
    block standing for the QR code, lines of text and ticked boxes."""
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    page = np.full((height, width, 3), 255, np.uint8)
    mark = max(4, dpi // 10)
    for x, y in ((10, 10), (width - 10 - mark, 10), (10, height - 10 - mark),
                 (width - 10 - mark, height - 10 - mark)):
        cv2.rectangle(page, (x, y), (x + mark, y + mark), (0, 0, 0), -1)
    cv2.rectangle(page, (width - 80, 20), (width - 40, 60), (0, 0, 0), -1)
    for row in range(8):
        y = 100 + 40 * row
        cv2.putText(page, f"Question {row + 1}: how often?", (30, y), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (0, 0, 0), 1)
        cv2.rectangle(page, (30, y + 8), (42, y + 20), (0, 0, 0), 1)
        cv2.line(page, (30, y + 8), (42, y + 20), (160, 60, 20), 2)
    return page


@pytest.fixture(scope="module")
def quiet_process() -> Iterator[ProcessPoolExecutor]:
    """A process where nothing but augraphy draws from the shared generators, as in the
    simulator's DegradingScanner: this test process has other tests' threads running."""
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_profile_gives_the_same_page_for_a_seed_and_changes_it(
        profile: str, quiet_process: ProcessPoolExecutor) -> None:
    page = small_page()
    before = page.copy()
    for mode in ("bitonal", "grey", "colour"):
        copy = CopyPlan(profile, mode, 200)
        sheet = PagePlan(skew_deg=1.5, shift_mm=0.5, upside_down=False, seed=42)
        first, second = (quiet_process.submit(degrade_page, page, copy, sheet).result()
                         for _ in range(2))
        assert np.array_equal(first, second)
        assert first.shape[:2] == page.shape[:2]
        assert first.ndim == (3 if mode == "colour" else 2)
        grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
        out = first if first.ndim == 2 else cv2.cvtColor(first, cv2.COLOR_BGR2GRAY)
        changed = np.mean(np.abs(out.astype(int) - grey.astype(int)) > 30)
        assert changed > 0.005, (profile, mode, changed)
        if mode == "bitonal":
            assert set(np.unique(first)) <= {0, 255}
    grey_copy = CopyPlan(profile, "grey", 200)
    other = quiet_process.submit(degrade_page, page, grey_copy,
                                 PagePlan(skew_deg=1.5, shift_mm=0.5, upside_down=False,
                                          seed=43)).result()
    assert not np.array_equal(other, quiet_process.submit(degrade_page, page, grey_copy,
                                                          sheet).result())
    degrade_page(page, grey_copy, sheet)
    assert np.array_equal(page, before)  # the input is left as it was


def test_an_upside_down_page_is_turned_round() -> None:
    page = small_page()
    straight = degrade_page(page, CopyPlan("light", "grey", 200), PagePlan(0.0, 0.0, False, 5))
    turned = degrade_page(page, CopyPlan("light", "grey", 200), PagePlan(0.0, 0.0, True, 5))
    # the block standing for the QR code, top right, is at the bottom left
    width = page.shape[1]
    assert straight[25:55, width - 75 : width - 45].mean() < 100
    assert turned[-55:-25, 45:75].mean() < 100
    assert turned[25:55, width - 75 : width - 45].mean() > 150


@pytest.mark.parametrize(("dpi", "mode"), [(200, "bitonal"), (200, "grey"), (300, "colour"),
                                           (300, "bitonal")])
def test_pages_come_out_a4_at_their_own_dpi(dpi: int, mode: str, tmp_path: Path) -> None:
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    shape = (height, width, 3) if mode == "colour" else (height, width)
    page = np.full(shape, 255, np.uint8)
    page[100:200, 100:200] = 0
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(img2pdf.convert([encode_page(page, mode, dpi)]))
    with pikepdf.open(pdf) as opened:
        box = [float(v) for v in opened.pages[0].mediabox]
        image = next(iter(opened.pages[0].get_images().values()))
        filters = image.get("/Filter")
        name = str(filters[0]) if isinstance(filters, pikepdf.Array) else str(filters)
    assert name == ("/CCITTFaxDecode" if mode == "bitonal" else "/DCTDecode")
    assert box[2] == pytest.approx(A4_POINTS[0], abs=1)
    assert box[3] == pytest.approx(A4_POINTS[1], abs=1)


def test_the_mailroom_mixes_profiles_modes_and_resolutions_as_documented() -> None:
    rng = np.random.default_rng(7)
    copies = [plan_copy(MAILROOM, rng) for _ in range(3000)]
    profiles = Counter(c.profile for c in copies)
    modes = Counter(c.mode for c in copies)
    dpis = Counter(c.dpi for c in copies)
    assert set(profiles) == set(PROFILES)
    for name, share in degrade.MAILROOM_PROFILES:
        assert profiles[name] / len(copies) == pytest.approx(share, abs=0.025), name
    assert set(modes) == {"bitonal", "grey", "colour"}
    assert modes["colour"] / len(copies) == pytest.approx(0.2 * 0.95, abs=0.03)
    assert set(dpis) == {200, 300}
    assert all(c.mode == "bitonal" and c.dpi == 200 for c in copies if c.profile == "fax")
    sheets = [plan_page(rng) for _ in range(4000)]
    upside_down = sum(s.upside_down for s in sheets) / len(sheets)
    assert upside_down == pytest.approx(0.15, abs=0.02)
    skews = [s.skew_deg for s in sheets]
    assert max(map(abs, skews)) <= MAX_SKEW_DEG
    assert min(skews) < -3.5 and max(skews) > 3.5


def test_a_single_profile_keeps_its_own_scanner() -> None:
    rng = np.random.default_rng(3)
    copies = [plan_copy("folds", rng) for _ in range(200)]
    assert {c.profile for c in copies} == {"folds"}
    assert {c.mode for c in copies} == {"colour"}
    assert {c.dpi for c in copies} == {200, 300}


def test_an_unknown_profile_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="dirty-drum"):
        plan_copy("coffee", np.random.default_rng(1))


def test_without_augraphy_a_profile_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(degrade.importlib, "import_module", missing)
    with pytest.raises(UsageError, match=r"pip install --no-deps augraphy==8\.2\.6"):
        degrade_page(small_page(), CopyPlan("light", "grey", 200), PagePlan(0.0, 0.0, False, 1))
    # and the simulator says so before it starts a process to degrade pages in
    monkeypatch.setattr(degrade.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError, match=r"pip install --no-deps augraphy==8\.2\.6"):
        DegradingScanner()


@contextlib.contextmanager
def thread_drawing_at_random() -> Iterator[None]:
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random.random()
            np.random.random()

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.fixture(scope="module")
def one_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("degrade-form")
    build_forms(TEMPLATE, 2, root / "form", Workspace.resolve(root / "ws"))
    return root / "form"


@pytest.mark.slow
def test_degraded_returns_are_seeded_and_recorded_in_the_truth(one_copy: Path,
                                                                tmp_path: Path) -> None:
    first = simulate_returns(one_copy, tmp_path / "a", seed=5, degradation=MAILROOM)
    # augraphy draws from generators every thread shares: another thread drawing from them
    # while pages are degraded (a flow's task runner, a server) must not change a page
    with thread_drawing_at_random():
        second = simulate_returns(one_copy, tmp_path / "b", seed=5, degradation=MAILROOM)
    faxed = simulate_returns(one_copy, tmp_path / "c", seed=5, degradation="fax")

    def images(pdf: Path) -> list[bytes]:
        with pikepdf.open(pdf) as opened:
            return [bytes(i.read_raw_bytes()) for p in opened.pages
                    for i in p.get_images().values()]

    assert images(first.pdf_path) == images(second.pdf_path)
    truth = json.loads(first.truth_path.read_text())
    assert truth == json.loads(second.truth_path.read_text())
    assert truth["degradation"] == MAILROOM
    # the answers are the seed's, whatever the profile
    assert truth["responses"] == json.loads(faxed.truth_path.read_text())["responses"]
    pages = truth["files"]["returns.pdf"]
    assert len(pages) == first.pages == 8
    for page in pages:
        assert page["profile"] in PROFILES
        assert page["mode"] in ("bitonal", "grey", "colour")
        assert page["dpi"] in (200, 300)
        assert isinstance(page["upside_down"], bool)
    with pikepdf.open(first.pdf_path) as opened:
        for pdf_page, page in zip(opened.pages, pages, strict=True):
            box = [float(v) for v in pdf_page.mediabox]
            assert box[2:] == pytest.approx(A4_POINTS, abs=1)
            image = next(iter(pdf_page.get_images().values()))
            assert abs(image.Width - 210 / 25.4 * page["dpi"]) <= 1
    assert images(faxed.pdf_path) != images(first.pdf_path)


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.slow
def test_simulate_with_degrade_writes_pages_that_rasterise(
        one_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--form", str(one_copy), "--out", str(tmp_path / "out"),
                 "--seed", "2", "--degrade", "fax"])
    assert code == 0, capsys.readouterr().err
    pdf = tmp_path / "out" / "returns.pdf"
    assert page_count(pdf) == 8
    truth = json.loads((tmp_path / "out" / "truth.json").read_text())
    assert {p["profile"] for p in truth["files"]["returns.pdf"]} == {"fax"}
    grey = rasterise_page(pdf, 1, 100)
    assert grey.shape == (1170, 827)
    assert 0.005 < np.mean(grey < 128) < 0.5  # printed, not blank nor black


def test_simulate_lists_the_profiles_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in (*PROFILES, MAILROOM))
