"""Letters: a page with no form marks and no page code that is mostly running text.

A respondent who writes instead of filling in the form sends a letter, and a letter is a
response. A page is taken for a letter when tesseract reads enough words on it, with enough
confidence, and it has no rows of tick boxes (a form printed by someone else, or ours with its
marks cut off, stays `not_a_form` for a person). Blank pages never get here (reading calls them
blank first), and a page of specks or a photograph reads too few words.
"""

from __future__ import annotations

import re

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.programs.tesseract import PageText, ocr_page

Image8 = NDArray[np.uint8]

# The reason a letter page is given: its outcome stays not_a_form (a page that is not one of our
# forms), and this reason, which ingest looks for, says it is a letter.
LETTER_REASON = "letter: running text, no form marks or page code; registered as a letter response"
MIN_WORDS = 40  # words of two letters or more: a short note or a leaflet's slogan is not enough
MIN_CONFIDENCE = 0.6  # the words' confidence, 0..1
MIN_WORD_SHARE = 0.6  # of everything read, the share that is words (not specks read as "~.")
MAX_BOXES = 3  # small empty squares: a form's tick boxes
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")


def is_letter_reason(reason: str) -> bool:
    return reason.startswith("letter:")


def letter_text(gray: Image8, timeout: float) -> PageText | None:
    """The page's text when the page is a letter, else None. Raises ProgramFailedError when
    tesseract fails (the caller keeps the page for a person)."""
    if tick_boxes(gray) > MAX_BOXES:
        return None
    read = ocr_page(gray, timeout=timeout)
    tokens = read.text.split()
    words = [t for t in tokens if WORD.fullmatch(t.strip(".,;:!?()\"'"))]
    if (len(words) < MIN_WORDS or read.confidence < MIN_CONFIDENCE
            or len(words) < MIN_WORD_SHARE * len(tokens)):
        return None
    return read


def tick_boxes(gray: Image8) -> int:
    """How many small hollow squares (2.5-12 mm a side on an A4 page) the page has."""
    height, width = gray.shape[:2]
    mm = max(height, width) / 297.0
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found = 0
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (2.5 * mm <= w <= 12 * mm and 2.5 * mm <= h <= 12 * mm and 0.7 < w / h < 1.4):
            continue
        approx = cv2.approxPolyDP(contour, 0.08 * cv2.arcLength(contour, True), True)
        inside = ink[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
        if len(approx) == 4 and inside.size and float(np.mean(inside > 0)) < 0.2:
            found += 1
    return found
