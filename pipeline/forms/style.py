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
