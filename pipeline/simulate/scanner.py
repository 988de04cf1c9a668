"""What different scanners make of a page: skew on a larger bed, shrink-to-fit, bitonal output,
and the file formats offices send (G4 TIFF, G4 PDF, colour JPEG, PNG).

The functions take an image and return a new one; writers take page images and a path.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import cv2
import img2pdf
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pipeline.fsutil import atomic_write_bytes

Image8 = NDArray[np.uint8]


def skew(image: Image8, degrees: float) -> Image8:
    """The sheet fed in at an angle: rotated on a bed large enough to keep all of it."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[0, 2] += (new_w - width) / 2
    matrix[1, 2] += (new_h - height) / 2
    white = (255, 255, 255) if image.ndim == 3 else 255
    return np.asarray(cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                                     borderValue=white), dtype=np.uint8)


def shrink(image: Image8, factor: float) -> Image8:
    """A "fit to page" scan: the page reduced by factor, centred on a page-sized image."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (round(width * factor), round(height * factor)),
                       interpolation=cv2.INTER_AREA)
    out = np.full_like(image, 255)
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out


def resample(image: Image8, from_dpi: int, to_dpi: int) -> Image8:
    """The image at `to_dpi` instead of `from_dpi`: averaged when shrinking, cubic when
    enlarging."""
    factor = to_dpi / from_dpi
    height, width = image.shape[:2]
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(image, (round(width * factor), round(height * factor)),
                                 interpolation=method), dtype=np.uint8)


def bitonal(image: Image8, threshold: int = 160) -> Image8:
    """A 1-bit scan, as sheet feeders write by default: 0 or 255 only."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.where(grey < threshold, 0, 255).astype(np.uint8)


def tiff_g4_bytes(pages: Sequence[Image8], dpi: int) -> bytes:
    """A multi-page CCITT G4 TIFF of bitonal pages."""
    frames = [Image.fromarray(bitonal(p)).convert("1") for p in pages]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", compression="group4", dpi=(dpi, dpi), save_all=True,
                   append_images=frames[1:])
    return out.getvalue()


def write_g4_pdf(pages: Sequence[Image8], path: Path, dpi: int) -> None:
    """A bitonal scanner PDF: one CCITT G4 image per page, embedded as it is."""
    singles = [tiff_g4_bytes([p], dpi) for p in pages]
    layout = img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))
    atomic_write_bytes(path, img2pdf.convert(singles, layout_fun=layout))


def write_g4_tiff(pages: Sequence[Image8], path: Path, dpi: int) -> None:
    """A multi-page CCITT G4 TIFF of bitonal pages, as office scanners send one, written
    atomically."""
    atomic_write_bytes(path, tiff_g4_bytes(pages, dpi))


def write_image(page: Image8, path: Path, dpi: int, quality: int = 85) -> None:
    """PNG or JPEG by the path's suffix; colour pages are written in colour."""
    rgb = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_BGR2RGB)
    out = io.BytesIO()
    fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    extra = {"quality": quality} if fmt == "JPEG" else {}
    Image.fromarray(rgb).save(out, format=fmt, dpi=(dpi, dpi), **extra)
    atomic_write_bytes(path, out.getvalue())
