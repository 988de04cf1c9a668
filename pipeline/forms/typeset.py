"""Text in any script: which font prints each run of characters, in what order, and how wide.

DejaVu Sans prints Latin, Greek, Cyrillic, digits and punctuation, exactly as before, so forms in
those scripts keep their geometry and form keys. Other scripts print in their Noto font (CJK in
WenQuanYi), shaped by HarfBuzz through reportlab, and right-to-left runs are put in display order
by the Unicode bidi algorithm (python-bidi). Widths are measured on the shaped glyphs, so what is
measured is what is drawn, and wrapped lines stay inside the margins.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from bidi.algorithm import get_base_level, get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import ShapedStr, shapeStr
from reportlab.pdfgen.canvas import Canvas

from pipeline.forms.style import (
    BOLD,
    SCRIPT_FONTS,
    STROKED_BOLD,
    STROKED_BOLD_WIDTH,
    script_font_name,
)

# First code point, last code point, script (a key of SCRIPT_FONTS); sorted by first.
_BLOCKS: tuple[tuple[int, int, str], ...] = tuple(sorted((
    (0x0590, 0x05FF, "Hebrew"), (0xFB1D, 0xFB4F, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x0870, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"), (0xA8E0, 0xA8FF, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"), (0x0A00, 0x0A7F, "Gurmukhi"), (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"), (0x0B80, 0x0BFF, "Tamil"), (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"), (0x0D00, 0x0D7F, "Malayalam"), (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"), (0x0E80, 0x0EFF, "Lao"), (0x1000, 0x109F, "Myanmar"),
    (0x1780, 0x17FF, "Khmer"), (0x19E0, 0x19FF, "Khmer"),
    (0x1200, 0x139F, "Ethiopic"), (0x2D80, 0x2DDF, "Ethiopic"), (0xAB00, 0xAB2F, "Ethiopic"),
    (0x1100, 0x11FF, "CJK"), (0x2E80, 0x2FDF, "CJK"), (0x3000, 0x303F, "CJK"),
    (0x3040, 0x31FF, "CJK"), (0x3200, 0x4DBF, "CJK"), (0x4E00, 0x9FFF, "CJK"),
    (0xA960, 0xA97F, "CJK"), (0xAC00, 0xD7FF, "CJK"), (0xF900, 0xFAFF, "CJK"),
    (0xFE30, 0xFE4F, "CJK"), (0xFF00, 0xFFEF, "CJK"), (0x20000, 0x3FFFF, "CJK"),
)))
_STARTS = tuple(start for start, _, _ in _BLOCKS)
_FIRST_OTHER = chr(_BLOCKS[0][0])  # below it, every character is DejaVu's
_MIRRORED = str.maketrans("()[]{}<>«»", ")(][}{><»«")
# CJK text breaks between any two characters, but not before closing punctuation.
_CJK_TOKEN = re.compile(r"\S[、。，．：；！？）」』】〉》”’]*")
_NO_BREAK_BEFORE = frozenset("、。，．：；！？）」』】〉》”’")


@dataclass(frozen=True)
class Run:
    """Characters printed in one font, in logical order; `rtl` ones are drawn reversed."""

    text: str
    font: str
    rtl: bool = False


def script_of(char: str) -> str | None:
    """The script whose font prints `char`, None for DejaVu's (Latin, digits, punctuation...)."""
    point = ord(char)
    index = bisect_right(_STARTS, point) - 1
    if index >= 0 and point <= _BLOCKS[index][1]:
        return _BLOCKS[index][2]
    return None


def is_plain(text: str) -> bool:
    """Only DejaVu's characters: measured, wrapped and drawn exactly as before."""
    return not text or max(text) < _FIRST_OTHER or all(script_of(c) is None for c in text)


def is_rtl_language(lang: str, sample: str = "") -> bool:
    """Arabic, Urdu, Persian, Hebrew...: from Babel's locale data, else from the text itself."""
    try:
        return bool(Locale.parse(lang.strip().replace("-", "_")).character_order
                    == "right-to-left")
    except (ValueError, UnknownLocaleError, TypeError):
        return bool(sample) and get_base_level(sample) == 1


@lru_cache(maxsize=65536)
def visual_runs(text: str, font: str) -> tuple[Run, ...]:
    """The runs of one line, left to right as drawn; `font` is the DejaVu face asked for."""
    if is_plain(text):
        return (Run(text, font),)
    bold = font == BOLD
    runs: list[tuple[str | None, list[str]]] = []
    for char in get_display(text):
        script = script_of(char)
        if script is None and runs and not _is_letter(char):
            current = runs[-1][0]  # spaces, digits and punctuation stay in the current run
            if current is None or _covers(script_font_name(current, bold), char):
                script = current
        if runs and runs[-1][0] == script:
            runs[-1][1].append(char)
        else:
            runs.append((script, [char]))
    result: list[Run] = []
    for script, chars in runs:
        if script is None:
            result.append(Run("".join(chars), font))
        elif SCRIPT_FONTS[script].rtl:  # back to logical order, for HarfBuzz to shape and reverse
            logical = "".join(reversed(chars)).translate(_MIRRORED)
            result.append(Run(logical, script_font_name(script, bold), rtl=True))
        else:
            result.append(Run("".join(chars), script_font_name(script, bold)))
    return tuple(result)


def missing_glyphs(text: str, font: str) -> str:
    """The characters of `text` that the font chosen for them cannot print (once each, in order):
    they would print as empty boxes."""
    if not text or max(text) < "\u0250":  # Latin, Latin-1 and Latin Extended: all DejaVu's
        return ""
    missing: dict[str, None] = {}
    for run in visual_runs(text, font):
        for char in run.text:
            if not (char.isspace() or unicodedata.category(char) in ("Cf", "Mn", "Cc")
                    or _covers(run.font, char)):
                missing[char] = None
    return "".join(missing)


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM"


@lru_cache(maxsize=256)
def _coverage(font: str) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(font).face.charToGlyph)


def _covers(font: str, char: str) -> bool:
    return ord(char) in _coverage(font)


@lru_cache(maxsize=65536)
def _shaped(text: str, font: str, size: float) -> str:
    """The run as glyphs placed by HarfBuzz (a ShapedStr), or as it is for unshaped fonts."""
    if not getattr(pdfmetrics.getFont(font), "shapable", False):
        return text
    shaped: str = shapeStr(text, font, size)
    return shaped


def _run_width(run: Run, size: float) -> float:
    shaped = _shaped(run.text, run.font, size)
    if isinstance(shaped, ShapedStr):
        return float(sum(data.x_advance for data in shaped.__shapeData__) * size / 1000)
    return float(stringWidth(run.text, run.font, size))


@lru_cache(maxsize=65536)
def width_of(text: str, font: str, size: float) -> float:
    """How wide the line prints: shaped glyph advances, in points."""
    if is_plain(text):
        return float(stringWidth(text, font, size))
    return sum(_run_width(run, size) for run in visual_runs(text, font))


def split_words(paragraph: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than `width` where possible: at spaces, and between CJK characters.

    A word wider than the line is left on a line of its own, for the caller to break.
    """
    lines: list[str] = []
    line = ""
    for token, spaced in _tokens(paragraph):
        candidate = f"{line} {token}" if line and spaced else line + token
        if not line or width_of(candidate, font, size) <= width:
            line = candidate
            continue
        lines.append(line)
        line = token
    if line or not lines:
        lines.append(line)
    return lines


def _tokens(paragraph: str) -> list[tuple[str, bool]]:
    """Unbreakable pieces, each with whether a space went before it."""
    tokens: list[tuple[str, bool]] = []
    for match in re.finditer(r"\S+", paragraph):
        word, spaced = match[0], True
        for piece in _cjk_pieces(word):
            tokens.append((piece, spaced))
            spaced = False
    return tokens


def _cjk_pieces(word: str) -> list[str]:
    """A word split before each CJK character (with the punctuation that must follow it)."""
    if all(script_of(c) != "CJK" for c in word):
        return [word]
    pieces: list[str] = []
    for char in word:
        glued = (pieces and (char in _NO_BREAK_BEFORE
                             or (script_of(char) != "CJK" and script_of(pieces[-1][-1]) != "CJK")))
        if glued:
            pieces[-1] += char
        else:
            pieces.append(char)
    return pieces


def draw_text(canvas: Canvas, x: float, y: float, text: str, font: str, size: float,
              align: str = "left", grey: float = 0.0) -> None:
    """Draw one line with its left end at x (its centre, its right end for those aligns).

    The fill grey is the caller's; `grey` is that same grey, for outlining a stroked bold.
    """
    if align == "centre":
        x -= width_of(text, font, size) / 2
    elif align == "right":
        x -= width_of(text, font, size)
    if is_plain(text):
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        return
    for run in visual_runs(text, font):
        canvas.setFont(run.font, size)
        shaped = _shaped(run.text, run.font, size)
        if run.font == font:  # a DejaVu run: as before
            canvas.drawString(x, y, run.text)
        else:  # the characters, for copying and searching, whatever glyphs show them
            canvas.addLiteral(f"/Span <</ActualText <FEFF{run.text.encode('utf-16-be').hex()}>>> "
                              "BDC")
            if run.font in STROKED_BOLD:
                canvas.saveState()
                canvas.setStrokeGray(grey)
                canvas.setLineWidth(size * STROKED_BOLD_WIDTH)
                canvas.drawString(x, y, shaped, mode=2)  # fill, then outline
                canvas.restoreState()
            else:
                canvas.drawString(x, y, shaped)
            canvas.addLiteral("EMC")
        x += _run_width(run, size)
