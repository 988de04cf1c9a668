"""Degradation profiles: pages as a mailroom really receives them, built with augraphy.

Mild scanner damage (damage.py) is what a well-kept sheet feeder does; real postal returns are
worse: speckle and streaks of a dirty photocopier drum or scanner glass, dirty rollers, ink
showing through from the back, low toner, folds, photocopies of photocopies and faxes, scanned
bitonal, grey or in colour at 200 or 300 dpi, skewed, and now and then upside down. A profile
is an augraphy pipeline (what happened to the paper) plus the scanner's settings (what the
scanner made of it). Every profile is meant to leave a page a person can still read: its text,
the QR code with the key printed under it and the four corner marks.

augraphy is imported only when a profile is applied, so that papertwin runs without it.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import multiprocessing
import random
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType, ModuleType, TracebackType
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pipeline.errors import UsageError
from pipeline.simulate.scanner import bitonal, tiff_g4_bytes

Image8 = NDArray[np.uint8]

AUGRAPHY_INSTALL = ".venv/bin/pip install --no-deps augraphy==8.2.6"
MODES = ("bitonal", "grey", "colour")
MAX_SKEW_DEG = 4.0
UPSIDE_DOWN_SHARE = 0.15
MAX_FEED_SHIFT_MM = 1.5  # the sheet caught a little early or late by the feeder
JPEG_QUALITY = 70
BITONAL_THRESHOLD = 175  # keeps a blue ballpoint's marks, as office scanners are set to
MAILROOM = "mailroom"
DEGRADING_WORKERS = 2  # augraphy is the slow part of simulating: two pages at a time


@dataclass(frozen=True)
class Scanner:
    """What the scanner is set to: output modes and resolutions, each with its share."""

    modes: tuple[tuple[str, float], ...]
    dpis: tuple[tuple[int, float], ...] = ((200, 0.7), (300, 0.3))


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    scanner: Scanner
    phases: Callable[[ModuleType], Any]  # augraphy module -> its augmentations, in order


@dataclass(frozen=True)
class CopyPlan:
    """How one copy reached the reader: its damage, and the scanner's mode and resolution."""

    profile: str
    mode: str
    dpi: int


@dataclass(frozen=True)
class PagePlan:
    """How one sheet went through the feeder."""

    skew_deg: float
    shift_mm: float
    upside_down: bool
    seed: int  # seeds augraphy's random generators for this page


def _phases(aug: ModuleType, ink_phase: list[Any], paper_phase: list[Any],
            post_phase: list[Any]) -> Any:
    """augraphy's phases as one sequence run on the page. Not an AugraphyPipeline: that one
    writes every page it is given into an augraphy_cache folder in the working directory."""
    return aug.AugmentationSequence([*ink_phase, *paper_phase, *post_phase])


def _dirty_drum(aug: ModuleType) -> Any:
    """A photocopier with a dirty drum, and dirty scanner glass: heavy speckle and streaks."""
    return _phases(aug,
        ink_phase=[aug.InkBleed(intensity_range=(0.2, 0.4), kernel_size=(3, 3),
                                severity=(0.2, 0.3))],
        paper_phase=[],
        post_phase=[
            aug.DirtyDrum(line_width_range=(1, 3), line_concentration=0.15, direction=-1,
                          noise_intensity=0.3, noise_value=(30, 120), ksize=(3, 3), sigmaX=0),
            aug.DirtyScreen(n_clusters=(80, 160), n_samples=(2, 25), std_range=(1, 6),
                            value_range=(20, 140)),
            aug.SubtleNoise(subtle_range=12),
        ])


def _dirty_rollers(aug: ModuleType) -> Any:
    """Rollers that leave repeating grey bands down the page, on a dusty platen."""
    return _phases(aug,
        ink_phase=[], paper_phase=[],
        post_phase=[
            aug.DirtyRollers(line_width_range=(6, 14), scanline_type=0),
            aug.DirtyScreen(n_clusters=(20, 50), n_samples=(2, 10), std_range=(1, 3),
                            value_range=(120, 220)),
        ])


def _bleed_through(aug: ModuleType) -> Any:
    """Thin paper: the back of the sheet shows through, on a textured paper."""
    return _phases(aug,
        ink_phase=[aug.BleedThrough(intensity_range=(0.5, 0.8), color_range=(0, 160),
                                    ksize=(9, 9), sigmaX=1, alpha=0.6, offsets=(15, 25))],
        paper_phase=[aug.NoiseTexturize(sigma_range=(2, 5), turbulence_range=(2, 4))],
        post_phase=[aug.SubtleNoise(subtle_range=8)])


def _low_ink(aug: ModuleType) -> Any:
    """A printer running out of toner: faded print crossed by pale bands."""
    return _phases(aug,
        ink_phase=[
            aug.LowInkRandomLines(count_range=(20, 50), use_consistent_lines=False,
                                  noise_probability=0.15),
            aug.LowInkPeriodicLines(count_range=(2, 4), period_range=(16, 40),
                                    use_consistent_lines=False, noise_probability=0.1),
            aug.InkMottling(ink_mottling_alpha_range=(0.3, 0.5)),
        ],
        paper_phase=[],
        post_phase=[aug.Brightness(brightness_range=(1.05, 1.2), min_brightness=0),
                    aug.SubtleNoise(subtle_range=8)],
        )


def _folds(aug: ModuleType) -> Any:
    """A questionnaire folded to fit its envelope, flattened again for the scanner."""
    return _phases(aug,
        ink_phase=[], paper_phase=[],
        post_phase=[
            # no fold_noise: augraphy draws it in parallel threads, which no seed makes repeat
            aug.Folding(fold_count=2, fold_noise=0.0, fold_angle_range=(-4, 4),
                        gradient_width=(0.05, 0.12), gradient_height=(0.005, 0.01),
                        backdrop_color=(255, 255, 255)),
            aug.Folding(fold_count=1, fold_noise=0.0, fold_angle_range=(86, 94),
                        gradient_width=(0.05, 0.12), gradient_height=(0.005, 0.01),
                        backdrop_color=(255, 255, 255)),
            aug.BrightnessTexturize(texturize_range=(0.9, 0.98), deviation=0.04),
        ])


def _photocopy(aug: ModuleType) -> Any:
    """A copy of the questionnaire rather than the original: toner noise and a darker print."""
    return _phases(aug,
        ink_phase=[aug.InkBleed(intensity_range=(0.3, 0.5), kernel_size=(3, 3),
                                severity=(0.3, 0.4))],
        paper_phase=[],
        post_phase=[
            aug.BadPhotoCopy(noise_type=2, noise_side="random", noise_iteration=(1, 2),
                             noise_size=(1, 2), noise_value=(64, 160),
                             noise_sparsity=(0.5, 0.8), noise_concentration=(0.1, 0.25),
                             blur_noise=0, wave_pattern=0, edge_effect=1),
            aug.Gamma(gamma_range=(0.8, 0.95)),
            aug.SubtleNoise(subtle_range=10),
        ])


def _fax(aug: ModuleType) -> Any:
    """A fax: bitonal or halftoned at a fax's resolution, with its line noise."""
    return _phases(aug,
        ink_phase=[], paper_phase=[],
        post_phase=[
            # a fax machine's contrast, then its resolution; the scanner's own threshold makes
            # it bitonal (Faxify's thresholds lose a blue ballpoint's marks, which faxes keep)
            aug.Gamma(gamma_range=(0.4, 0.5)),
            aug.Faxify(scale_range=(1.3, 1.5), monochrome=0, halftone=0),
            aug.DirtyScreen(n_clusters=(20, 60), n_samples=(2, 10), std_range=(1, 3),
                            value_range=(0, 60)),
        ])


def _light(aug: ModuleType) -> Any:
    """A page that has been treated well: a little speckle."""
    return _phases(aug,
        ink_phase=[], paper_phase=[],
        post_phase=[aug.DirtyScreen(n_clusters=(10, 30), n_samples=(2, 8), std_range=(1, 3),
                                    value_range=(120, 220)),
                    aug.SubtleNoise(subtle_range=6)])


GREY = Scanner(modes=(("grey", 1.0),))
PROFILES = MappingProxyType({p.name: p for p in (
    Profile("dirty-drum", "speckle and streaks of a dirty drum and scanner glass, heavy",
            Scanner(modes=(("bitonal", 0.5), ("grey", 0.5))), _dirty_drum),
    Profile("dirty-rollers", "grey bands left by dirty feed rollers", GREY, _dirty_rollers),
    Profile("bleed-through", "the back of thin paper showing through", GREY, _bleed_through),
    Profile("low-ink", "faded print crossed by pale bands", GREY, _low_ink),
    Profile("folds", "folded for the envelope, scanned in colour",
            Scanner(modes=(("colour", 1.0),)), _folds),
    Profile("photocopy", "a photocopy: toner noise, darker print",
            Scanner(modes=(("grey", 0.5), ("bitonal", 0.5))), _photocopy),
    Profile("fax", "a fax: bitonal at a fax's resolution",
            Scanner(modes=(("bitonal", 1.0),), dpis=((200, 1.0),)), _fax),
    Profile("light", "lightly damaged: a little speckle", GREY, _light),
)})
# What a mailroom receives: mostly fair pages, some of every kind of bad one, scanned as the
# operator's scanner happened to be set (the fax profile is bitonal whatever the mix says).
MAILROOM_PROFILES = (("light", 0.4), ("dirty-drum", 0.1), ("dirty-rollers", 0.08),
                     ("bleed-through", 0.1), ("low-ink", 0.08), ("folds", 0.1),
                     ("photocopy", 0.09), ("fax", 0.05))
MAILROOM_SCANNER = Scanner(modes=(("bitonal", 0.4), ("grey", 0.4), ("colour", 0.2)))
PROFILE_NAMES = (*PROFILES, MAILROOM)


def check_profile(name: str) -> str:
    """The profile's name, or a UsageError listing the ones there are."""
    if name not in PROFILE_NAMES:
        raise UsageError(f"unknown degradation profile {name!r}: choose one of "
                         f"{', '.join(PROFILE_NAMES)}")
    return name


def plan_copy(name: str, rng: np.random.Generator) -> CopyPlan:
    """The damage and scanner settings of one copy: a mailroom draws its profile per copy."""
    check_profile(name)
    if name == MAILROOM:
        profile = PROFILES[_draw(MAILROOM_PROFILES, rng)]
        scanner = profile.scanner if profile.name == "fax" else MAILROOM_SCANNER
    else:
        profile = PROFILES[name]
        scanner = profile.scanner
    return CopyPlan(profile.name, _draw(scanner.modes, rng), _draw(scanner.dpis, rng))


def plan_page(rng: np.random.Generator) -> PagePlan:
    """How a sheet goes through the feeder: skewed, a little early or late, maybe upside
    down."""
    return PagePlan(skew_deg=float(rng.uniform(-MAX_SKEW_DEG, MAX_SKEW_DEG)),
                    shift_mm=float(rng.uniform(-MAX_FEED_SHIFT_MM, MAX_FEED_SHIFT_MM)),
                    upside_down=bool(rng.random() < UPSIDE_DOWN_SHARE),
                    seed=int(rng.integers(2**31 - 1)))


def degrade_page(image: Image8, copy: CopyPlan, page: PagePlan) -> Image8:
    """A BGR page as the scanner writes it: damaged by the copy's profile, fed through as the
    page plan says, in the copy's mode (2-D for bitonal and grey, BGR for colour). The page is
    expected at the copy's resolution; its size is kept, so that it stays A4 at that dpi."""
    aug = _augraphy()
    # augraphy draws from Python's and numpy's global generators, from OpenCV's, and, in its
    # numba-compiled parts, from numba's own: all seeded here, for every page, from the page's
    # own seed, so that a seed gives the same pages whatever ran before. The generators' states
    # are not restored afterwards.
    _seed_generators(page.seed)
    cv2.setRNGSeed(page.seed)
    importlib.import_module("numba").njit(cache=True)(_seed_generators)(page.seed)
    result = PROFILES[copy.profile].phases(aug)(image.copy())
    damaged = _as_bgr(np.asarray(result[0] if isinstance(result, tuple) else result,
                                 dtype=np.uint8))
    fed = _feed(damaged, page, copy.dpi)
    if copy.mode == "colour":
        return fed
    grey = np.asarray(cv2.cvtColor(fed, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return bitonal(grey, BITONAL_THRESHOLD) if copy.mode == "bitonal" else grey


def scan_page(image: Image8, copy: CopyPlan, page: PagePlan) -> bytes:
    """The page degraded and encoded as the copy's scanner stores it."""
    return encode_page(degrade_page(image, copy, page), copy.mode, copy.dpi)


class DegradingScanner:
    """Degrades pages in processes of their own, each page in one of them, one page at a time.

    augraphy draws from generators that every thread of a process shares (Python's and
    numpy's). Seeding them per page gives the same bytes for a seed only while no other thread
    draws in between, and a caller may well run threads: a flow's task runner, a server, a
    test suite's leftovers. In a process of its own, nothing else draws; and since every page
    is seeded, which process degrades it makes no difference. A few pages at most wait, so
    that a corpus of any size stays in bounded memory. The processes are spawned, so a script
    that uses them needs Python's usual `if __name__ == "__main__":` guard.
    """

    def __init__(self, workers: int = DEGRADING_WORKERS) -> None:
        _augraphy_spec()
        self._waiting = 2 * workers
        self._pending: deque[Future[bytes]] = deque()
        self._pool = ProcessPoolExecutor(max_workers=workers,
                                         mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> DegradingScanner:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(cancel_futures=error is not None)

    def scan(self, image: Image8, copy: CopyPlan, page: PagePlan) -> Future[bytes]:
        """The scanned page, to come: see scan_page."""
        while len(self._pending) >= self._waiting:
            self._pending.popleft().result()
        future = self._pool.submit(scan_page, image, copy, page)
        self._pending.append(future)
        return future


def encode_page(page: Image8, mode: str, dpi: int) -> bytes:
    """The page as a scanner stores it in a PDF: CCITT G4 when bitonal, else JPEG; the dpi is
    written in the image so that img2pdf gives every page its size."""
    if mode == "bitonal":
        return tiff_g4_bytes([page], dpi)
    rgb = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_BGR2RGB)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=JPEG_QUALITY, dpi=(dpi, dpi))
    return out.getvalue()


def _feed(image: Image8, page: PagePlan, dpi: int) -> Image8:
    """Skew and shift within the page's own size (the scan area is the page), then turn it
    round when it went in upside down."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), page.skew_deg, 1.0)
    matrix[1, 2] += page.shift_mm * dpi / 25.4
    out = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    if page.upside_down:
        out = cv2.rotate(out, cv2.ROTATE_180)
    return np.asarray(out, dtype=np.uint8)


def _seed_generators(seed: int) -> None:
    """Python's and numpy's generators; compiled by numba, that library's own."""
    random.seed(seed)
    np.random.seed(seed)


def _as_bgr(image: Image8) -> Image8:
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    return image


def _draw(choices: tuple[tuple[Any, float], ...], rng: np.random.Generator) -> Any:
    values = [c[0] for c in choices]
    shares = np.array([c[1] for c in choices], dtype=float)
    return values[int(rng.choice(len(values), p=shares / shares.sum()))]


def _augraphy() -> ModuleType:
    """augraphy, imported when a profile is first used."""
    try:
        augraphy: ModuleType = importlib.import_module("augraphy")
    except ImportError as exc:
        raise UsageError(_augraphy_missing(str(exc))) from exc
    return augraphy


def _augraphy_spec() -> None:
    """Says augraphy is missing before a process is started to use it."""
    if importlib.util.find_spec("augraphy") is None:
        raise UsageError(_augraphy_missing("No module named 'augraphy'"))


def _augraphy_missing(why: str) -> str:
    return (f"degradation profiles need augraphy: {AUGRAPHY_INSTALL} (without its "
            f"dependencies, which clash with opencv-python-headless; the ones it needs come "
            f"with papertwin's dev extra): {why}")
