"""Wrapper around tesseract (through pytesseract): timeouts and errors as papertwin exceptions.

Every call has a timeout; a crash or a timeout is a ProgramFailedError (ProgramTimeoutError), which
the readers turn into a flagged field rather than a failed page.

tesseract runs one thread per call (OMP_THREAD_LIMIT=1): pages are read in parallel already, and
OpenMP threads on top of that only contend for the same cores. pytesseract starts tesseract with
the process environment and takes no other, so the limit is set there once, when this module is
imported, unless the operator has set it.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytesseract
from numpy.typing import NDArray

from pipeline.errors import MissingProgramError, ProgramFailedError, ProgramTimeoutError
from pipeline.programs.run import Program, missing_message, probe_version, require_program

TESSERACT = Program(
    "tesseract", "install tesseract-ocr (apt-get install tesseract-ocr tesseract-ocr-eng)")
Image8 = NDArray[np.uint8]
DEFAULT_TIMEOUT = 30.0
T = TypeVar("T")

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# One character of hOCR output with hocr_char_boxes=1: its box, its confidence, the character.
_HOCR_CHAR = re.compile(r"x_bboxes (\d+) (\d+) (\d+) (\d+); x_conf ([\d.]+)'>([^<]*)</span>")


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float  # 0..100 as tesseract reports it
    line: tuple[int, int, int]  # block, paragraph, line numbers


@dataclass(frozen=True)
class OcrChar:
    text: str
    confidence: float  # 0..100: the recogniser's own certainty of this one character
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels of the image read


def require() -> None:
    """tesseract is on PATH, or MissingProgramError names the packages to install."""
    require_program(TESSERACT)


def version() -> str:
    """tesseract's version as it reports it ("5.3.0")."""
    return probe_version(TESSERACT, ["--version"], r"tesseract v?(\d+(?:\.\d+)+)")


def ocr_words(image: Image8, psm: int = 6, lang: str = "eng",
              timeout: float = DEFAULT_TIMEOUT, whitelist: str = "",
              user_words: Sequence[str] = ()) -> list[OcrWord]:
    """Words with their confidences; an empty list when there is no text.

    `user_words` (the consultation's own vocabulary) are added to tesseract's dictionary, so a
    place or scheme name is not "corrected" into a common English word.
    """
    with _user_words_option(user_words) as extra:
        config = _config(psm, whitelist) + extra
        data = _run(lambda: pytesseract.image_to_data(
            image, lang=lang, config=config, output_type=pytesseract.Output.DICT,
            timeout=timeout), timeout)
    words = []
    for i, text in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if text.strip() and conf >= 0:
            line = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
            words.append(OcrWord(text.strip(), conf, line))
    return words


@dataclass(frozen=True)
class PageText:
    text: str  # lines as read, a blank line between paragraphs
    confidence: float  # 0..1: the words' confidences, each weighted by its length
    words: int


def ocr_page(image: Image8, lang: str = "eng", timeout: float = DEFAULT_TIMEOUT,
             psm: int = 3) -> PageText:
    """The whole page's text, as a letter is read: tesseract finds the blocks and lines itself
    (page segmentation 3). Lines are put in order down the page by where they are, since
    tesseract may list a right-aligned address block after the text beneath it, and a blank
    line marks a gap between lines taller than most lines are (a new paragraph)."""
    data = _run(lambda: pytesseract.image_to_data(
        image, lang=lang, config=f"--psm {psm}", output_type=pytesseract.Output.DICT,
        timeout=timeout), timeout)
    lines: dict[tuple[int, int, int], list[tuple[int, str]]] = {}
    spans: dict[tuple[int, int, int], tuple[int, int]] = {}
    weight = weighted = 0.0
    for i, text in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if not text.strip() or conf < 0:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        top, bottom = int(data["top"][i]), int(data["top"][i]) + int(data["height"][i])
        lines.setdefault(key, []).append((int(data["left"][i]), text.strip()))
        was = spans.get(key, (top, bottom))
        spans[key] = (min(was[0], top), max(was[1], bottom))
        weight += len(text.strip())
        weighted += conf * len(text.strip())
    order = sorted(lines, key=lambda k: spans[k])
    heights = sorted(spans[k][1] - spans[k][0] for k in order)
    usual = heights[len(heights) // 2] if heights else 0
    out: list[str] = []
    last_bottom: int | None = None
    for key in order:
        top, bottom = spans[key]
        if last_bottom is not None and top - last_bottom > 0.8 * usual:
            out.append("")
        last_bottom = bottom
        out.append(" ".join(word for _, word in sorted(lines[key])))
    count = sum(len(words) for words in lines.values())
    return PageText("\n".join(out), round(weighted / weight / 100, 3) if weight else 0.0, count)


def ocr_chars(image: Image8, psm: int = 7, lang: str = "eng", timeout: float = DEFAULT_TIMEOUT,
              whitelist: str = "") -> list[OcrChar]:
    """Every character read, with its own box and confidence (hOCR with character boxes).

    A word's confidence is that of its least certain character and says nothing of which one;
    character cells need to know which cell is in doubt.
    """
    config = _config(psm, whitelist) + " -c hocr_char_boxes=1"
    raw = _run(lambda: pytesseract.image_to_pdf_or_hocr(
        image, lang=lang, config=config, extension="hocr", timeout=timeout), timeout)
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    chars = []
    for match in _HOCR_CHAR.finditer(text):
        x0, y0, x1, y1, conf, char = match.groups()
        char = html.unescape(char).strip()
        if char:
            chars.append(OcrChar(char, float(conf), (int(x0), int(y0), int(x1), int(y1))))
    return chars


def _config(psm: int, whitelist: str) -> str:
    config = f"--psm {psm}"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    return config


@contextmanager
def _user_words_option(words: Sequence[str]) -> Iterator[str]:
    """The command-line options that load `words` as user words, from a temporary file.

    tesseract's LSTM recogniser only loads a dictionary, and so user words, with
    lstm_use_matrix=1.
    """
    if not words:
        yield ""
        return
    with tempfile.TemporaryDirectory(prefix="papertwin-words-") as folder:
        path = Path(folder) / "user-words.txt"
        path.write_text("".join(f"{word}\n" for word in words), encoding="utf-8")
        yield f" --user-words {shlex.quote(str(path))} -c lstm_use_matrix=1"


def _run(call: Callable[[], T], timeout: float) -> T:
    """One pytesseract call, its failures as papertwin's exceptions (pytesseract reports a
    timeout as a bare RuntimeError)."""
    try:
        return call()
    except pytesseract.TesseractNotFoundError as exc:
        raise MissingProgramError(missing_message(TESSERACT)) from exc
    except pytesseract.TesseractError as exc:
        raise ProgramFailedError(f"tesseract failed: {exc.message or exc.status}") from exc
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise ProgramTimeoutError(f"tesseract timed out after {timeout:g} s") from exc
        raise ProgramFailedError(f"tesseract failed: {exc}") from exc
