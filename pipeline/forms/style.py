"""Type sizes, box sizes and fonts: one set for standard print, one for large print.

Large print follows RNIB clear-print guidance: at least 16 pt for everything a respondent reads,
a plain sans-serif face, bold rather than italics, and answer boxes scaled up with the text.
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


STANDARD = Style("standard", body=10.5, label=11, hint=9.5, title=18, heading=13.5, footer=8.5,
                 tick=4.6 * MM, row=7 * MM, line=8.5 * MM, cell_w=6 * MM, cell_h=8 * MM,
                 gap=5.5 * MM)
LARGE_PRINT = Style("large", body=16, label=17, hint=16, title=24, heading=20, footer=16,
                    tick=7 * MM, row=11 * MM, line=12 * MM, cell_w=9 * MM, cell_h=12 * MM,
                    gap=8 * MM)


def ensure_fonts() -> None:
    """Register the embedded fonts once; DejaVu Sans covers Welsh (ŵ, ŷ) and every Latin script.

    The same font on every machine keeps the geometry, and so the form key, the same.
    """
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, filename in FONT_FILES.items():
        if name in registered:
            continue
        path = next((d / filename for d in FONT_DIRS if (d / filename).is_file()), None)
        if path is None:
            raise MissingProgramError(
                f"the font {filename} is not installed: apt-get install fonts-dejavu-core"
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))

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
