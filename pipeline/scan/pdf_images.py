"""Scanned PDFs: take each page's embedded scan image as it is, instead of re-rendering the page.

A scanner's PDF is a wrapper around one image per page (JPEG, CCITT G4, JBIG2 or Flate). Decoding
that image is several times faster than rasterising the page and loses nothing. Pages that are not
a single full-page image, or whose image cannot be decoded here, are rasterised with pdftoppm.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pikepdf
from numpy.typing import NDArray
from PIL import Image

from pipeline.errors import InputFileError
from pipeline.programs.poppler import rasterise_page
from pipeline.scan.grey import ink_grey, ink_grey_bgr

Image8 = NDArray[np.uint8]
MAX_PAGE_PIXELS = 150_000_000  # A3 at 600 dpi is 70 million; more is a decompression bomb
ASPECT_TOLERANCE = 0.03


def pdf_page_count(path: Path, name: str) -> int:
    """How many pages a PDF has; InputFileError, naming the file as `name`, for one that is
    encrypted, cannot be read or has no pages."""
    with _open(path, name) as pdf:
        if not pdf.pages:
            raise InputFileError(f"{name} has no pages: check the file or rescan it")
        return len(pdf.pages)


def iter_pdf_pages(path: Path, name: str, dpi: int, first: int = 1,
                   last: int | None = None) -> Iterator[tuple[int, Image8]]:
    """(1-based page number, 8-bit grey image) for pages first..last of a PDF file."""
    with _open(path, name) as pdf:
        last = len(pdf.pages) if last is None else min(last, len(pdf.pages))
        for number in range(first, last + 1):
            page = pdf.pages[number - 1]
            image = _embedded_scan(page, name, number)
            if image is None:
                # In colour, so that blue ink is taken from the channel where it is dark.
                image = ink_grey_bgr(rasterise_page(path, number, dpi, gray=False))
            yield number, image


def _open(path: Path, name: str) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise InputFileError(f"{name} is encrypted: ask for an unprotected copy, or rescan "
                             "the pages") from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        detail = _first_line(exc).removeprefix(f"{path}: ")
        raise InputFileError(f"{name} is not a readable PDF ({detail}): check the file "
                             "or rescan it") from exc


def _embedded_scan(page: pikepdf.Page, name: str, number: int) -> Image8 | None:
    try:
        images = list(page.get_images(recursive=False).values())
        if len(images) != 1 or not isinstance(images[0], pikepdf.Stream):
            return None
        raw = pikepdf.PdfImage(images[0])
        width, height = int(raw.width), int(raw.height)
        if width * height > MAX_PAGE_PIXELS:
            raise InputFileError(
                f"{name} page {number}: image of {width}x{height} pixels is over the limit of "
                f"{MAX_PAGE_PIXELS:,} (a decompression bomb, or not a page scan)")
        box = page.mediabox
        page_w, page_h = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
        if not _same_shape(width, height, page_w, page_h):
            return None
        decoded = raw.as_pil_image()
    except InputFileError:
        raise
    except Exception:  # an unsupported filter or a damaged stream: let poppler render the page
        return None
    return _to_grey(decoded)


def _same_shape(width: int, height: int, page_w: float, page_h: float) -> bool:
    if min(width, height, page_w, page_h) <= 0:
        return False
    ratio = (width / height) / (page_w / page_h)
    turned = (width / height) / (page_h / page_w)  # stored sideways, turned by /Rotate
    return abs(ratio - 1) < ASPECT_TOLERANCE or abs(turned - 1) < ASPECT_TOLERANCE


def _to_grey(image: Image.Image) -> Image8:
    grey = ink_grey(image)
    if float(grey[::8, ::8].mean()) < 100:  # stored with black as 1 (a /Decode inversion)
        grey = 255 - grey
    return np.ascontiguousarray(grey)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
