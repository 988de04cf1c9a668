"""Identification: which form, copy and page this is, from the page code.

zxing-cpp reads the QR code where it should be first, then anywhere on the page. If the code is
damaged, the same key printed as text under it is read with tesseract. A page of another system
(a different barcode, no marks) is recognised as such rather than read as ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray

from pipeline.errors import ProgramFailedError
from pipeline.programs.tesseract import ocr_words
from pipeline.read.register import MARK_INSET_MM, MARK_SIDE_MM, CornerMarks
from pipeline.records import SERIAL_DIGITS, Layout, PageCode, decode_page_code
from pipeline.textdistance import edit_distance

Image8 = NDArray[np.uint8]

# Where our code sits on an upright page, as shares of width and height (top-right corner).
CODE_REGION = (0.55, 0.0, 1.0, 0.2)
# The key printed as text under the code, right-aligned below the code's box (layout.barcode_box,
# render._draw_code), in mm on the page, with room for skew and a misplaced mark.
KEY_LINE_MM = (108.0, 30.3, 195.0, 37.5)
A4_MM = (210.0, 297.0)
KEY_AGREEMENT = 2  # cleaned copies of the key's line that must read the same code
KEY_TEXT_CHARS = "PT1|0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.-"
KEY_TEXT = re.compile(r"PT1\|(?P<key>[A-Za-z0-9_.-]{6,})\|(?P<serial>[0-9OoIlSB]{6})\|"
                      r"(?P<page>[0-9OoIlSB]{1,3})$")
CODE_UNREADABLE = "page code unreadable"  # the reason of a registered page not identified
UNREADABLE_CODE = f"{CODE_UNREADABLE}: key the serial and page by hand"
KEY_PREFIX = re.compile(r"P[T7][1lI]\|?")
DIGIT_LOOKALIKES = str.maketrans("OoIlSB", "001158")
MAX_KEY_DISTANCE = 4  # OCR slips in a form key; the key's hash keeps real keys far apart


@dataclass(frozen=True)
class Identification:
    code: PageCode | None
    source: str  # "code", "code elsewhere", "printed key", or "" when not identified
    problem: str = ""


@dataclass(frozen=True)
class Sighting:
    """Our page code where it was read: the symbol's centre in the image searched, and how far
    it is turned, in degrees clockwise as zxing-cpp reports it (0 upright, -90 a quarter turn
    anticlockwise)."""

    code: PageCode
    centre: tuple[float, float]
    orientation: int

    @property
    def turns(self) -> int:
        """Quarter turns, as np.rot90 counts them, that bring the code upright."""
        return round(self.orientation / 90) % 4


def identify(upright: Image8, known_keys: set[str], timeout: float,
             serials: Mapping[str, frozenset[str]] | None = None,
             marks: CornerMarks | None = None) -> Identification:
    """The page code of an upright page: read as scanned, then from cleaned copies of the
    code's region, then the key printed under it (placed from the corner `marks`). `serials`
    (issued serials by form key, where known) is what a serial read by OCR must be one of."""
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
    region = _region(upright, CODE_REGION)
    cleaned = read_cleaned(region)
    if cleaned is not None and cleaned.code.form_key in known_keys:
        return Identification(cleaned.code, "cleaned code")
    printed = read_printed_key(upright, known_keys, timeout, serials, marks)
    if printed is not None:
        return Identification(printed, "printed key")
    return Identification(None, "", UNREADABLE_CODE)


class IssuedSerials(Mapping[str, frozenset[str]]):
    """The serials printed for each registered form (its layout's copies), gathered only for
    the form whose serial is being checked: most pages never need them."""

    def __init__(self, layouts: Mapping[str, Layout]) -> None:
        self._layouts = layouts

    def __getitem__(self, key: str) -> frozenset[str]:
        return frozenset(c.serial for c in self._layouts[key].copies)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layouts)

    def __len__(self) -> int:
        return len(self._layouts)


def read_cleaned(image: Image8) -> Sighting | None:
    """Our code in a copy of the image cleaned of what a dirty drum, scanner glass or fax leaves
    behind: specks removed, modules mended, thresholded at several levels, enlarged for a coarse
    scan. Cheap copies first; the first that reads wins, and it must be a valid page code. None
    when no copy reads."""
    for variant in _cleaned_variants(image):
        found = _sighting(variant)
        if found is not None:
            scale = image.shape[1] / variant.shape[1]
            cx, cy = found.centre
            return Sighting(found.code, (cx * scale, cy * scale), found.orientation)
    return None


def _cleaned_variants(image: Image8) -> Iterator[Image8]:
    """Cleaned copies of a grey image, cheapest and likeliest first (generated lazily, so
    the first success costs nothing more)."""
    median = np.asarray(cv2.medianBlur(image, 3), dtype=np.uint8)
    yield median
    paper = float(np.percentile(image[::4, ::4], 90))
    small = np.ones((2, 2), np.uint8)
    for share in (0.62, 0.45, 0.78):
        ink = np.where(median < paper * share, 0, 255).astype(np.uint8)
        # Black specks on the paper closed over, then white specks in dark modules opened.
        mended = cv2.morphologyEx(cv2.morphologyEx(ink, cv2.MORPH_CLOSE, small), cv2.MORPH_OPEN,
                                  small)
        yield np.asarray(mended, dtype=np.uint8)
        yield _enlarged(np.asarray(mended, dtype=np.uint8))
    despeckled = np.asarray(cv2.medianBlur(median, 5), dtype=np.uint8)
    yield despeckled
    yield _enlarged(despeckled)
    _, otsu = cv2.threshold(despeckled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    yield _enlarged(np.asarray(otsu, dtype=np.uint8))


def _enlarged(image: Image8) -> Image8:
    """Twice the size: zxing-cpp finds the modules of a coarse (200 dpi) scan more surely."""
    return np.asarray(cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
                      dtype=np.uint8)


def foreign_barcode(gray: Image8) -> str | None:
    """Any barcode on a page without our marks, named for a person (its format and text):
    another system's form. None when the page has no barcode but ours."""
    for barcode in zxingcpp.read_barcodes(gray):
        if decode_page_code(barcode.text) is None:
            return f"{barcode.format.name} {barcode.text!r}"
    return None


def read_printed_key(upright: Image8, known_keys: set[str], timeout: float,
                     serials: Mapping[str, frozenset[str]] | None = None,
                     marks: CornerMarks | None = None) -> PageCode | None:
    """The key under the code, OCR'd from cleaned copies of its line until two readings agree.
    The form key must be close to one registered form's and far from every other's; the serial,
    where the issued serials are known, one of them (or one digit from exactly one of them).
    The serial may still be misread: answers go to a person. None when no two readings agree
    (or tesseract fails)."""
    crop = _key_line(upright, marks)
    if crop.size == 0:
        return None
    seen: dict[PageCode, int] = {}
    for variant in _key_variants(crop):
        try:
            words = ocr_words(variant, psm=7, timeout=timeout, whitelist=KEY_TEXT_CHARS)
        except ProgramFailedError:
            return None
        code = _key_code("".join(w.text for w in words), known_keys, serials)
        if code is None:
            continue
        seen[code] = seen.get(code, 0) + 1
        if seen[code] >= KEY_AGREEMENT:
            return code
    return None


def _key_code(text: str, known_keys: set[str],
              serials: Mapping[str, frozenset[str]] | None) -> PageCode | None:
    """The code a reading of the key names: the form key and the page must be read; the serial
    is "" when it is not one issued (a separator lost, a digit smudged), for the serial printed
    in bold beside the code to settle."""
    match = KEY_TEXT.search(text)
    if match is not None:
        read_key, read_serial, read_page = match["key"], match["serial"], match["page"]
    else:
        # A warped or smudged line loses a separator: the key is as long as a registered one,
        # the page follows the last separator, the serial is what lies between.
        prefix = KEY_PREFIX.search(text)
        if prefix is None or "|" not in text[prefix.end():]:
            return None
        head, _, read_page = text[prefix.end():].rpartition("|")
        read_key = _key_part(head, known_keys)
        read_serial = head[len(read_key):].strip("|")[-SERIAL_DIGITS:]
    key = closest_key(read_key, known_keys)
    page_digits = read_page.translate(DIGIT_LOOKALIKES)
    if key is None or not page_digits.isdigit() or len(page_digits) > 3 or int(page_digits) < 1:
        return None
    serial = issued_serial(read_serial.translate(DIGIT_LOOKALIKES),
                           None if serials is None else serials.get(key))
    serial = serial if serial is not None and serial.isdigit() else ""
    return PageCode(key, serial, int(page_digits))


def _key_part(head: str, known_keys: set[str]) -> str:
    """The start of `head` as long as the registered key it is closest to."""
    ranked = sorted((edit_distance(head[: len(key)], key), key) for key in known_keys)
    return head[: len(ranked[0][1])] if ranked else head


def issued_serial(read: str, issued: frozenset[str] | None) -> str | None:
    """The serial read, if it was issued; else the one issued serial a single slip away from
    it; None when there is none or more than one. Unknown issued serials (None or empty): the
    serial as read."""
    if not issued or read in issued:
        return read
    near = [s for s in issued if len(s) == len(read) and edit_distance(read, s) <= 1]
    return near[0] if len(near) == 1 else None


def _key_line(upright: Image8, marks: CornerMarks | None) -> Image8:
    """The strip the key is printed in, right-aligned under the code: placed from the corner
    marks found when there are any, else from the page's edges."""
    width = upright.shape[1]
    box = KEY_LINE_MM
    if marks is not None and marks.found >= 2:
        mapped = _from_marks(marks, [(box[0], box[1]), (box[2], box[3])])
        if mapped is not None:
            (x0, y0), (x1, y1) = mapped
            left, right = sorted((int(x0), int(x1)))
            top, bottom = sorted((int(y0), int(y1)))
            return np.ascontiguousarray(upright[max(0, top) : max(0, bottom),
                                                max(0, left) : max(0, right)])
    px = width / A4_MM[0]
    return np.ascontiguousarray(upright[max(0, int(box[1] * px)) : int(box[3] * px),
                                        max(0, int(box[0] * px)) : int(box[2] * px)])


def _from_marks(marks: CornerMarks,
                points: list[tuple[float, float]]) -> list[tuple[float, float]] | None:
    """Page points (mm) in pixels, by the similarity that best maps the printed marks'
    centres onto those found."""
    inner = MARK_INSET_MM + MARK_SIDE_MM / 2
    printed = ((inner, inner), (A4_MM[0] - inner, inner), (inner, A4_MM[1] - inner),
               (A4_MM[0] - inner, A4_MM[1] - inner))
    pairs = [(printed[i], c) for i, c in enumerate(marks.centres) if c is not None]
    z = np.array([p[0] + 1j * p[1] for p, _ in pairs])
    w = np.array([c[0] + 1j * c[1] for _, c in pairs])
    zc, wc = z - z.mean(), w - w.mean()
    norm = float(np.sum(np.abs(zc) ** 2))
    if norm == 0:
        return None
    a = complex(np.sum(np.conj(zc) * wc) / norm)
    b = complex(w.mean() - a * z.mean())
    mapped = [a * complex(x, y) + b for x, y in points]
    return [(m.real, m.imag) for m in mapped]


def _key_variants(crop: Image8) -> Iterator[Image8]:
    """The key's line enlarged three times for tesseract, on a white border, cleaned in turn:
    as scanned, specks removed, thresholded at a lower and a higher level."""
    big = np.asarray(cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC),
                     dtype=np.uint8)
    paper = float(np.percentile(crop, 90)) if crop.size else 255.0
    despeckled = np.asarray(cv2.medianBlur(big, 5), dtype=np.uint8)
    for image, share in ((big, 0.6), (despeckled, 0.6), (despeckled, 0.45), (big, 0.75),
                         (np.asarray(cv2.medianBlur(despeckled, 5), dtype=np.uint8), 0.55)):
        clean = np.where(image < paper * share, 0, 255).astype(np.uint8)
        yield np.asarray(cv2.copyMakeBorder(clean, 20, 20, 20, 20, cv2.BORDER_CONSTANT,
                                            value=255), dtype=np.uint8)


def closest_key(read: str, known_keys: set[str]) -> str | None:
    """The known form key nearest to one OCR read (at most MAX_KEY_DISTANCE edits away), or None
    when none is that near or two are nearly as near: a key is never guessed between two forms."""
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
    found = _sighting(image)
    return None if found is None else (found.code, found.centre)


def _sighting(image: Image8) -> Sighting | None:
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    for barcode in zxingcpp.read_barcodes(image, formats=formats):
        code = decode_page_code(barcode.text)
        if code is not None:
            position = barcode.position
            corners = (position.top_left, position.top_right, position.bottom_left,
                       position.bottom_right)
            return Sighting(code, (sum(p.x for p in corners) / 4, sum(p.y for p in corners) / 4),
                            int(barcode.orientation))
    return None
