"""The bold serial printed beside the page code ("Serial 000123"), read from a page already
resampled into its layout's frame.

papertwin printed it, so its font, size and place are known: each digit is read by matching the
ten digits of that font, drawn at the page's scale, where the digit should lie. That reads the
small bold digits of a 200 dpi scan far more surely than tesseract does (which takes a bold 0
for a 6 or a 9), and it follows the line where a fold bends it. Where a digit matches no glyph
clearly (a layout printed otherwise, toner over the label), tesseract reads the label instead.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from pipeline.errors import MissingProgramError, ProgramFailedError
from pipeline.forms.style import (
    BOLD,
    SERIAL_LABEL_BASELINE,
    SERIAL_LABEL_GAP,
    SERIAL_LABEL_SIZE,
    font_file,
)
from pipeline.programs.tesseract import ocr_words
from pipeline.records import SERIAL_DIGITS, Box

Image8 = NDArray[np.uint8]
Glyph = NDArray[np.float32]
Match = tuple[int, float, float, float, float]  # digit, score, margin, left, top

# The label's digits, right-aligned 3 pt left of the code on the code's top line (points left of
# the code: from, to; above and below its top edge): where tesseract reads them.
SERIAL_LABEL_PT = (36.0, 1.5, 1.5, 10.5)
LABEL_REACH_PT = (3.0, 5.0)  # how far a fold or a bent sheet moves a digit: across, up and down
NEXT_DIGIT_REACH_PT = (1.0, 1.5)  # and a digit from where the one beside it puts it
LABEL_ROOM_PT = 15.0  # the farthest a bent label's digits can be found from their place
GLYPH_SUPERSAMPLING = 4  # glyphs drawn this much larger, then reduced: their edges in grey
DIGIT_MATCH = 0.55  # a digit is read where its glyph matches this well (normalised correlation)
DIGIT_MARGIN = 0.06  # and better than any other digit's by this much


def read_serial_label(aligned: Image8, barcode: Box, scale: float, timeout: float) -> str:
    """The serial printed beside the code, or "" when it cannot be read. Larger than the key
    under the code, it often survives what the code and the key do not."""
    return _read_by_glyphs(aligned, barcode, scale) or _read_by_ocr(aligned, barcode, scale,
                                                                    timeout)


def _read_by_glyphs(aligned: Image8, barcode: Box, scale: float) -> str:
    """The serial's digits matched against the label font's, or "" when any is unsure."""
    try:
        glyphs, advance = _digit_glyphs(round(scale, 3))
    except MissingProgramError:
        return ""
    height = glyphs[0].shape[0]
    right = (barcode[0] - SERIAL_LABEL_GAP) * scale
    top = (barcode[1] + SERIAL_LABEL_BASELINE) * scale - height
    # Only the paper a bent label can reach is looked at.
    x0 = max(0, int(right - SERIAL_DIGITS * advance - LABEL_ROOM_PT * scale))
    y0 = max(0, int(top - LABEL_ROOM_PT * scale))
    image = aligned[y0 : int(top + height + LABEL_ROOM_PT * scale),
                    x0 : int(right + LABEL_ROOM_PT * scale)].astype(np.float32)
    right, top = right - x0, top - y0
    slots = [(right - (SERIAL_DIGITS - k) * advance, top) for k in range(SERIAL_DIGITS)]
    first = [m for m in (_best_digit(image, glyphs, x, y, LABEL_REACH_PT, scale)
                         for x, y in slots) if m is not None]
    if len(first) < SERIAL_DIGITS:
        return ""
    # The surest digit anchors the line; each next one is looked for beside the one before,
    # so that the line can bend as a fold bends it.
    anchor = max(range(SERIAL_DIGITS), key=lambda k: first[k][1])
    found: dict[int, Match | None] = {anchor: first[anchor]}
    for step, stop in ((1, SERIAL_DIGITS), (-1, -1)):
        for k in range(anchor + step, stop, step):
            beside = found[k - step]
            if beside is None:
                return ""
            found[k] = _best_digit(image, glyphs, beside[3] + step * advance, beside[4],
                                   NEXT_DIGIT_REACH_PT, scale)
    digits = ""
    for k in range(SERIAL_DIGITS):
        match = found[k]
        if match is None or match[1] < DIGIT_MATCH or match[2] < DIGIT_MARGIN:
            return ""
        digits += str(match[0])
    return digits


def _best_digit(image: NDArray[np.float32], glyphs: tuple[Glyph, ...], x: float, y: float,
                reach: tuple[float, float], scale: float) -> Match | None:
    """The digit whose glyph best matches with its top left corner near (x, y) in pixels: the
    digit, how well it matches, by how much better than the next digit, and where it lies."""
    height, width = glyphs[0].shape
    x0, y0 = max(0, int(x - reach[0] * scale)), max(0, int(y - reach[1] * scale))
    x1 = min(image.shape[1], int(x + width + reach[0] * scale))
    y1 = min(image.shape[0], int(y + height + reach[1] * scale))
    window = image[y0:y1, x0:x1]
    if window.shape[0] < height or window.shape[1] < width or float(window.std()) == 0.0:
        return None
    scores: list[tuple[float, int, float, float]] = []
    for digit, glyph in enumerate(glyphs):
        _, best, _, (dx, dy) = cv2.minMaxLoc(cv2.matchTemplate(window, glyph,
                                                               cv2.TM_CCOEFF_NORMED))
        scores.append((float(best), digit, float(x0 + dx), float(y0 + dy)))
    scores.sort(reverse=True)
    (score, digit, left, top), runner_up = scores[0], scores[1][0]
    return digit, score, score - runner_up, left, top


@lru_cache(maxsize=8)
def _digit_glyphs(scale: float) -> tuple[tuple[Glyph, ...], float]:
    """The ten digits of the label's font at `scale` pixels a point, each as wide as a digit's
    advance and as tall as the digits' ink (no digit descends below the baseline), and that
    advance in pixels: the font's digits all share one width."""
    font = ImageFont.truetype(str(font_file(BOLD)),
                              round(SERIAL_LABEL_SIZE * scale * GLYPH_SUPERSAMPLING))
    advance = font.getlength("0") / GLYPH_SUPERSAMPLING
    ascent = font.getmetrics()[0]
    drawn = []
    for digit in "0123456789":
        canvas = Image.new("L", (round(advance * GLYPH_SUPERSAMPLING), ascent), 255)
        ImageDraw.Draw(canvas).text((0, 0), digit, font=font, fill=0)
        drawn.append(np.asarray(canvas, dtype=np.float32))
    inked = np.flatnonzero(np.min(np.stack(drawn), axis=(0, 2)) < 128)
    size = (round(advance), max(1, round((inked[-1] + 1 - inked[0]) / GLYPH_SUPERSAMPLING)))
    glyphs = tuple(np.asarray(cv2.resize(g[inked[0] : inked[-1] + 1], size,
                                         interpolation=cv2.INTER_AREA), dtype=np.float32)
                   for g in drawn)
    return glyphs, advance


def _read_by_ocr(aligned: Image8, barcode: Box, scale: float, timeout: float) -> str:
    x0, y0 = barcode[0], barcode[1]
    left, right = x0 - SERIAL_LABEL_PT[0], x0 - SERIAL_LABEL_PT[1]
    top, bottom = y0 - SERIAL_LABEL_PT[2], y0 + SERIAL_LABEL_PT[3]
    crop = aligned[max(0, round(top * scale)) : round(bottom * scale),
                   max(0, round(left * scale)) : round(right * scale)]
    if crop.size == 0:
        return ""
    big = cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    clean = np.where(cv2.medianBlur(big, 3) < 150, 0, 255).astype(np.uint8)
    try:
        words = ocr_words(np.asarray(cv2.copyMakeBorder(clean, 20, 20, 20, 20,
                                                        cv2.BORDER_CONSTANT, value=255),
                                     dtype=np.uint8),
                          psm=7, timeout=timeout, whitelist="0123456789")
    except ProgramFailedError:
        return ""
    digits = "".join(w.text for w in words)
    return digits[-SERIAL_DIGITS:] if len(digits) >= SERIAL_DIGITS else ""
