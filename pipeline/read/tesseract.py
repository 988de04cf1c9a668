"""Wrapper around tesseract (through pytesseract): timeouts and errors as papertwin exceptions."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytesseract
from numpy.typing import NDArray

from pipeline.errors import MissingProgramError, ProgramFailedError, ProgramTimeoutError
from pipeline.external import require_program

Image8 = NDArray[np.uint8]
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float  # 0..100 as tesseract reports it
    line: tuple[int, int, int]  # block, paragraph, line numbers


def require_tesseract() -> None:
    require_program("tesseract")


def ocr_words(image: Image8, psm: int = 6, lang: str = "eng",
              timeout: float = DEFAULT_TIMEOUT, whitelist: str = "") -> list[OcrWord]:
    """Words with their confidences; an empty list when there is no text."""
    # One thread per call: pages are read in parallel already.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    config = f"--psm {psm}"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    try:
        data = pytesseract.image_to_data(
            image, lang=lang, config=config, output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise MissingProgramError(
            "tesseract is not installed or not on PATH: apt-get install tesseract-ocr"
        ) from exc
    except pytesseract.TesseractError as exc:
        raise ProgramFailedError(f"tesseract failed: {exc.message or exc.status}") from exc
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise ProgramTimeoutError(f"tesseract timed out after {timeout:g} s") from exc
        raise ProgramFailedError(f"tesseract failed: {exc}") from exc
    words = []
    for i, text in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if text.strip() and conf >= 0:
            line = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
            words.append(OcrWord(text.strip(), conf, line))
    return words
