"""Identification: which form, copy and page this is, from the page code.

zxing-cpp reads the QR code where it should be first, then anywhere on the page. If the code is
damaged, the same key printed as text under it is read with tesseract. A page of another system
(a different barcode, no marks) is recognised as such rather than read as ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray

from pipeline.errors import ProgramFailedError
from pipeline.forms.pagecode import PageCode, decode_page_code
from pipeline.read.tesseract import ocr_words
from pipeline.textdistance import edit_distance

Image8 = NDArray[np.uint8]

# Where our code sits on an upright page, as shares of width and height (top-right corner).
CODE_REGION = (0.55, 0.0, 1.0, 0.2)
# The key printed as text under the code: right-aligned below the code's box.
KEY_TEXT_REGION = (0.55, 0.102, 0.93, 0.13)
KEY_TEXT_CHARS = "PT1|0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.-"
KEY_TEXT = re.compile(r"PT1\|(?P<key>[A-Za-z0-9_.-]{6,})\|(?P<serial>[0-9OoIlSB]{6})\|"
                      r"(?P<page>[0-9OoIlSB]{1,3})$")
DIGIT_LOOKALIKES = str.maketrans("OoIlSB", "001158")
MAX_KEY_DISTANCE = 4  # OCR slips in a form key; the key's hash keeps real keys far apart


@dataclass(frozen=True)
class Identification:
    code: PageCode | None
    source: str  # "code", "code elsewhere", "printed key", or "" when not identified
    problem: str = ""


def identify(upright: Image8, known_keys: set[str], timeout: float) -> Identification:
    height, width = upright.shape[:2]
    code = _decode(_region(upright, CODE_REGION))
    if code is not None:
        return Identification(code, "code")
    found = _decode_anywhere(upright)
    if found is not None:
        code, (cx, cy) = found
        if cx > 0.5 * width and cy < 0.3 * height:
            return Identification(code, "code elsewhere")
        return Identification(None, "", "page code found where it should not be: the page "
                                        "may be a copy pasted onto another sheet")
    printed = read_printed_key(upright, known_keys, timeout)
    if printed is not None:
        return Identification(printed, "printed key")
    return Identification(None, "", "page code unreadable: key the serial and page by hand")


def foreign_barcode(gray: Image8) -> str | None:
    """Any barcode on a page without our marks, named for a person: another system's form."""
    for barcode in zxingcpp.read_barcodes(gray):
        if decode_page_code(barcode.text) is None:
            return f"{barcode.format.name} {barcode.text!r}"
    return None


def read_printed_key(upright: Image8, known_keys: set[str], timeout: float) -> PageCode | None:
    """The key under the code, OCR'd; the form key must be close to one registered form's and
    far from every other's. The serial may still be misread: answers go to a person."""
    crop = _region(upright, KEY_TEXT_REGION)
    big = cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    clean = np.where(big < 150, 0, 255).astype(np.uint8)
    try:
        words = ocr_words(np.asarray(cv2.copyMakeBorder(clean, 20, 20, 20, 20,
                                                        cv2.BORDER_CONSTANT, value=255),
                                     dtype=np.uint8),
                          psm=7, timeout=timeout, whitelist=KEY_TEXT_CHARS)
    except ProgramFailedError:
        return None
    match = KEY_TEXT.search("".join(w.text for w in words))
    if match is None:
        return None
    key = closest_key(match["key"], known_keys)
    if key is None:
        return None
    serial = match["serial"].translate(DIGIT_LOOKALIKES)
    page = int(match["page"].translate(DIGIT_LOOKALIKES))
    return PageCode(key, serial, page) if page >= 1 else None


def closest_key(read: str, known_keys: set[str]) -> str | None:
    ranked = sorted((edit_distance(read, key), key) for key in known_keys)
    if not ranked or ranked[0][0] > MAX_KEY_DISTANCE:
        return None
    if len(ranked) > 1 and ranked[1][0] - ranked[0][0] < 3:
        return None  # two forms nearly as close: do not guess
    return ranked[0][1]


def _region(image: Image8, region: tuple[float, float, float, float]) -> Image8:
    height, width = image.shape[:2]
    x0, y0, x1, y1 = region
    return np.ascontiguousarray(
        image[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)]
    )


def _decode(image: Image8) -> PageCode | None:
    found = _decode_anywhere(image)
    return None if found is None else found[0]


def _decode_anywhere(image: Image8) -> tuple[PageCode, tuple[float, float]] | None:
    """Our page code in the image, and the centre of the symbol."""
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for barcode in zxingcpp.read_barcodes(image, formats=formats):
        code = decode_page_code(barcode.text)
        if code is not None:
            position = barcode.position
            corners = (position.top_left, position.top_right, position.bottom_left,
                       position.bottom_right)
            return code, (sum(p.x for p in corners) / 4, sum(p.y for p in corners) / 4)
    return None
