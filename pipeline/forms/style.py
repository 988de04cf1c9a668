"""Type sizes, box sizes and fonts: one set for standard print, one for large print.

Both follow RNIB clear-print guidance: a plain sans-serif face (DejaVu Sans), bold rather than
italics, dark text on white, and nothing a respondent needs to read below a size most people
read without strain.

- Standard print: body text (choices, notes, instructions) 12 pt, question labels 13 pt bold,
  hints 11 pt in a very dark grey (HINT_GREY, 0.2: 80 % black), headings 15 pt, the title 20 pt,
  "Page n of m" 9 pt. RNIB asks for 12 pt at least in everyday print (14 pt where it can); a
  hint is a short aside under its question, so 11 pt, but never the light grey that older forms
  used for it, which readers with low vision lose. Tick boxes (5 mm) and character cells (6.5 by
  8.5 mm) are sized so that a 12 pt label sits beside its box and a hand-written capital fills a
  cell; rows (7.2 mm) and the space between questions are kept as tight as that allows, so that
  a long list still takes three bands of a page and the forms no more paper than they must.
- Large print: 16 pt and up for everything a respondent reads, boxes and cells about 1.5 times
  larger: its own layout and form key (`--large-print`).

Only what is for machines and keying staff stays smaller: the page key under the QR code
(KEY_TEXT_SIZE, a monospaced face) and the copy's serial beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from pipeline.errors import MissingProgramError

MM = 72 / 25.4
REGULAR, BOLD, MONO = "PapertwinSans", "PapertwinSans-Bold", "PapertwinMono"
FONT_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",  # the page key as text: every character easy to tell apart
}
KEY_TEXT_SIZE = 7.0
KEY_TEXT_WIDTH = 62 * MM  # room kept free for it under the code, clear of the title
# The bold serial beside the code: its size, its right end's gap left of the code, and its
# baseline below the code's top (the reader matches its digits there, read/serial_label.py).
SERIAL_LABEL_SIZE = 8.0
SERIAL_LABEL_GAP = 3.0
SERIAL_LABEL_BASELINE = 8.0
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
SCRIPT_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/truetype/wqy"),
    Path("/usr/share/fonts/noto"),
    Path("/usr/share/fonts/TTF"),
)


@dataclass(frozen=True)
class ScriptFont:
    """The font a script prints in, beside DejaVu Sans (Latin, Greek, Cyrillic and symbols).

    TrueType outlines only: reportlab embeds no CFF fonts, so Chinese, Japanese and Korean use
    WenQuanYi Micro Hei rather than Noto Sans CJK. `bold` may name the regular file again.
    """

    script: str
    regular: str
    bold: str
    package: str
    shaped: bool = True  # letters change shape with their neighbours: HarfBuzz places them
    rtl: bool = False


def _noto(script: str, rtl: bool = False) -> ScriptFont:
    return ScriptFont(script, f"NotoSans{script}-Regular.ttf", f"NotoSans{script}-Bold.ttf",
                      "fonts-noto-core", rtl=rtl)


SCRIPT_FONTS: dict[str, ScriptFont] = {
    font.script: font for font in (
        _noto("Arabic", rtl=True), _noto("Hebrew", rtl=True), _noto("Devanagari"),
        _noto("Bengali"), _noto("Gurmukhi"), _noto("Gujarati"), _noto("Oriya"), _noto("Tamil"),
        _noto("Telugu"), _noto("Kannada"), _noto("Malayalam"), _noto("Sinhala"), _noto("Thai"),
        _noto("Lao"), _noto("Myanmar"), _noto("Khmer"), _noto("Ethiopic"),
        ScriptFont("CJK", "wqy-microhei.ttc", "wqy-microhei.ttc", "fonts-wqy-microhei",
                   shaped=False),
    )
}


@dataclass(frozen=True)
class Style:
    name: str
    body: float
    label: float
    hint: float
    title: float
    heading: float
    footer: float
    tick: float  # side of a tick box
    row: float  # height of one choice row
    line: float  # height of one written line in a text area
    cell_w: float  # a character cell
    cell_h: float
    gap: float  # space between questions


STANDARD = Style("standard", body=12, label=13, hint=11, title=20, heading=15, footer=9,
                 tick=5 * MM, row=7.2 * MM, line=8.5 * MM, cell_w=6.5 * MM, cell_h=8.5 * MM,
                 gap=5.5 * MM)
LARGE_PRINT = Style("large", body=16, label=17, hint=16, title=24, heading=20, footer=16,
                    tick=7 * MM, row=11 * MM, line=12 * MM, cell_w=9 * MM, cell_h=12 * MM,
                    gap=8 * MM)


def ensure_fonts() -> None:
    """Register the embedded fonts once; DejaVu Sans covers Welsh (ŵ, ŷ) and every Latin script.

    The same font on every machine keeps the geometry, and so the form key, the same.
    """
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name in FONT_FILES:
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(font_file(name))))


def font_file(name: str) -> Path:
    """The installed file of one of FONT_FILES' fonts."""
    filename = FONT_FILES[name]
    path = next((d / filename for d in FONT_DIRS if (d / filename).is_file()), None)
    if path is None:
        raise MissingProgramError(
            f"the font {filename} is not installed: apt-get install fonts-dejavu-core"
        )
    return path


# Bold names of scripts with no bold face: drawn filled and outlined, to look bold.
STROKED_BOLD = frozenset(f"Papertwin{font.script}-Bold" for font in SCRIPT_FONTS.values()
                         if font.bold == font.regular)
STROKED_BOLD_WIDTH = 0.035  # of the type size: the outline that thickens the strokes


def script_font_name(script: str, bold: bool) -> str:
    """The registered name of a script's font, registered on first use."""
    font = SCRIPT_FONTS[script]
    name = f"Papertwin{script}{'-Bold' if bold else ''}"
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    filename = font.bold if bold else font.regular
    path = next((d / filename for d in SCRIPT_FONT_DIRS if (d / filename).is_file()), None)
    if path is None:
        raise MissingProgramError(f"the font {filename}, for text in {script} script, is not "
                                  f"installed: apt-get install {font.package}")
    pdfmetrics.registerFont(TTFont(name, str(path), shapable=font.shaped))
    return name
