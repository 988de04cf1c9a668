"""Wrapper around poppler's pdfinfo and pdftoppm: page counts and pages rendered as images.

Both come from poppler-utils; a PDF they cannot read is an InputFileError (the file's fault), a
crash or a timeout a ProgramFailedError (worth a retry).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.errors import InputFileError, ProgramFailedError
from pipeline.fsutil import atomic_copy
from pipeline.programs.run import Program, probe_version, require_program, run_program

INSTALL = "install poppler-utils (apt-get install poppler-utils)"
PDFINFO = Program("pdfinfo", INSTALL)
PDFTOPPM = Program("pdftoppm", INSTALL)
INFO_TIMEOUT = 30.0
PAGE_TIMEOUT = 60.0


def require() -> None:
    """Both programs are on PATH, or MissingProgramError names poppler-utils."""
    require_program(PDFINFO)
    require_program(PDFTOPPM)


def version() -> str:
    """poppler's version as pdftoppm reports it ("22.12.0"); pdfinfo comes with it."""
    return probe_version(PDFTOPPM, ["-v"], r"pdftoppm version (\d+(?:\.\d+)+)")


def page_count(pdf: Path) -> int:
    """The PDF's page count; a file pdfinfo refuses (or chokes on) is the file's fault."""
    try:
        result = run_program(PDFINFO, [str(pdf)], INFO_TIMEOUT, str(pdf))
    except ProgramFailedError as exc:
        raise InputFileError(f"{pdf} is not a readable PDF ({exc})") from exc
    for line in result.stdout.decode(errors="replace").splitlines():
        if line.startswith("Pages:"):
            return int(line.split(":", 1)[1])
    raise InputFileError(f"{pdf}: pdfinfo reports no page count")


def render_pngs(pdf: Path, out_dir: Path, prefix: str, dpi: int) -> list[Path]:
    """Every page of a PDF as PNG files named prefix-1.png, prefix-2.png, ..."""
    pages = page_count(pdf)
    with tempfile.TemporaryDirectory(prefix="papertwin-png-") as tmp:
        run_program(PDFTOPPM, ["-r", str(dpi), "-png", str(pdf), str(Path(tmp) / "p")],
                    PAGE_TIMEOUT * max(1, pages), str(pdf))
        produced = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        targets = []
        for number, source in enumerate(produced, start=1):
            target = out_dir / f"{prefix}-{number}.png"
            atomic_copy(source, target)
            targets.append(target)
    return targets


def rasterise_page(pdf: Path, page: int, dpi: int, gray: bool = True) -> NDArray[np.uint8]:
    """One page (1-based) as an 8-bit grey or BGR image."""
    with tempfile.TemporaryDirectory(prefix="papertwin-ppm-") as tmp:
        stem = Path(tmp) / "page"
        args = ["-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile"]
        args += ["-gray"] if gray else []
        args += [str(pdf), str(stem)]
        run_program(PDFTOPPM, args, PAGE_TIMEOUT, f"{pdf} page {page}")
        produced = stem.with_suffix(".pgm" if gray else ".ppm")
        image = cv2.imread(str(produced), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
    if image is None:
        raise InputFileError(f"{pdf} page {page}: pdftoppm produced no image")
    return np.asarray(image, dtype=np.uint8)
