"""Pen marks on a page image: ticks, crosses and handwriting, in pixel coordinates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from pipeline.errors import MissingProgramError
from pipeline.programs.fontconfig import match_font

Image8 = NDArray[np.uint8]

# Pen colours in BGR: black ballpoint, blue ballpoint, dark blue gel.
PEN_COLOURS = ((25, 25, 30), (150, 60, 20), (110, 40, 30))
# The writing tools of a varied corpus: (name, colour, stroke width range in pixels at 200 dpi).
WRITING_TOOLS = (
    ("black ballpoint", (25, 25, 30), (2, 4)),
    ("blue ballpoint", (150, 60, 20), (2, 4)),
    ("blue gel", (110, 40, 30), (2, 4)),
    ("thick marker", (20, 20, 20), (6, 9)),
    ("soft pencil", (115, 115, 120), (2, 3)),
)
# Pens whose ink only a colour scan keeps dark: in grey (luminance) pale blue is nearly paper.
COLOUR_SCAN_TOOLS = (
    ("pale blue ballpoint", (205, 150, 95), (2, 3)),
    ("pale blue gel", (215, 165, 110), (2, 4)),
)

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/truetype/comic-neue/ComicNeue-Regular.ttf",
)


@dataclass(frozen=True)
class Pen:
    colour: tuple[int, int, int]
    width: int


def find_handwriting_font(explicit: Path | None = None) -> Path:
    """The clean handwriting-like font used for simulated writing (Comic Neue by default)."""
    if explicit is not None:
        if not explicit.is_file():
            raise MissingProgramError(f"handwriting font {explicit} does not exist")
        return explicit
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    try:
        found = match_font("Comic Neue")
        if "comic" in found.name.lower() and found.is_file():
            return found
    except MissingProgramError:
        pass
    raise MissingProgramError(
        "the handwriting font Comic Neue is not installed: apt-get install fonts-comic-neue"
    )


def draw_tick(image: Image8, box: tuple[int, int, int, int], pen: Pen,
              rng: np.random.Generator) -> Image8:
    """A tick whose strokes may run a little past the box, as real ones do."""
    out = image.copy()
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    j = _jitter(rng, w * 0.08)
    start = (x0 + 0.15 * w + j(), y0 + 0.55 * h + j())
    bottom = (x0 + 0.42 * w + j(), y0 + 0.88 * h + j())
    end = (x0 + 1.05 * w + j(), y0 - 0.25 * h + j())
    _stroke(out, [start, bottom, end], pen)
    return out


def draw_spill(image: Image8, box: tuple[int, int, int, int], pen: Pen,
               rng: np.random.Generator) -> Image8:
    """A big tick that starts inside the box and runs well out of it."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return draw_tick(image, (x0 - w // 4, y0 - h // 3, x1 + w // 2, y1 + h // 4), pen, rng)


def draw_dot(image: Image8, box: tuple[int, int, int, int], pen: Pen,
             rng: np.random.Generator) -> Image8:
    """A small firm dot in the middle of the box: the least ink a mark can have."""
    out = image.copy()
    x0, y0, x1, y1 = box
    centre = (int((x0 + x1) / 2 + rng.normal(0, 1.5)), int((y0 + y1) / 2 + rng.normal(0, 1.5)))
    cv2.circle(out, centre, max(3, (x1 - x0) // 6), pen.colour, thickness=-1,
               lineType=cv2.LINE_AA)
    return out


def draw_circle_around(image: Image8, box: tuple[int, int, int, int], pen: Pen,
                       rng: np.random.Generator) -> Image8:
    """A ring drawn around the box instead of a mark in it."""
    out = image.copy()
    x0, y0, x1, y1 = box
    centre = (int((x0 + x1) / 2 + rng.normal(0, 1)), int((y0 + y1) / 2 + rng.normal(0, 1)))
    axes = (int((x1 - x0) * 0.85), int((y1 - y0) * 0.75))
    cv2.ellipse(out, centre, axes, float(rng.uniform(-20, 20)), 0, 340, pen.colour,
                thickness=pen.width, lineType=cv2.LINE_AA)
    return out


def draw_fill(image: Image8, box: tuple[int, int, int, int], pen: Pen,
              rng: np.random.Generator) -> Image8:
    """A box filled in to cancel a mark, as the form's instructions ask: dense hatching."""
    out = image.copy()
    x0, y0, x1, y1 = box
    step = max(2, pen.width)
    for y in range(y0 - 1, y1 + 2, step):
        wobble = int(rng.integers(-1, 2))
        cv2.line(out, (x0 - 1, y + wobble), (x1 + 1, y), pen.colour, thickness=pen.width + 1,
                 lineType=cv2.LINE_AA)
    return out


def draw_cross(image: Image8, box: tuple[int, int, int, int], pen: Pen,
               rng: np.random.Generator) -> Image8:
    """A cross from corner to corner, a little inside the box; a new image, `image` is left
    unchanged."""
    out = image.copy()
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    j = _jitter(rng, w * 0.08)
    _stroke(out, [(x0 + 0.12 * w + j(), y0 + 0.12 * h + j()),
                  (x1 - 0.12 * w + j(), y1 - 0.12 * h + j())], pen)
    _stroke(out, [(x1 - 0.12 * w + j(), y0 + 0.12 * h + j()),
                  (x0 + 0.12 * w + j(), y1 - 0.12 * h + j())], pen)
    return out


def write_text(image: Image8, box: tuple[int, int, int, int], text: str, font_path: Path,
               line_height: int, pen: Pen, rng: np.random.Generator) -> tuple[Image8, str]:
    """Handwriting-like text, wrapped to the box, each line with a little baseline wander.

    Returns the page and the words that did not fit (a respondent carries on overleaf).
    """
    rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(rgb)
    size = max(8, int(line_height * 0.62))
    font = ImageFont.truetype(str(font_path), size)
    x0, y0, x1, y1 = box
    margin = int(line_height * 0.35)
    colour = (pen.colour[2], pen.colour[1], pen.colour[0])
    y = y0 + max(2, (line_height - size) // 2 - 2)
    lines = _wrap(text, font, x1 - x0 - 3 * margin)
    rest: list[str] = []
    for number, line in enumerate(lines):
        if y + size + 4 > y1:
            rest = lines[number:]
            break
        dx, dy = int(rng.integers(0, margin + 1)), int(rng.integers(-2, 3))
        draw.text((x0 + margin + dx, y + dy), line, font=font, fill=colour)
        y += line_height
    image_out = np.asarray(cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR), dtype=np.uint8)
    return image_out, " ".join(rest)


def write_cell(image: Image8, box: tuple[int, int, int, int], char: str, font_path: Path,
               pen: Pen, rng: np.random.Generator) -> Image8:
    """One hand-printed character, roughly centred in its cell."""
    rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(rgb)
    x0, y0, x1, y1 = box
    font = ImageFont.truetype(str(font_path), max(8, int((y1 - y0) * 0.62)))
    left, top, right, bottom = font.getbbox(char)
    x = x0 + ((x1 - x0) - (right - left)) / 2 - left + float(rng.normal(0, 1.0))
    y = y0 + ((y1 - y0) - (bottom - top)) / 2 - top + float(rng.normal(0, 1.0))
    draw.text((x, y), char, font=font, fill=(pen.colour[2], pen.colour[1], pen.colour[0]))
    return np.asarray(cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR), dtype=np.uint8)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if font.getlength(trial) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _stroke(image: Image8, points: list[tuple[float, float]], pen: Pen) -> None:
    shift = 4  # sub-pixel precision for anti-aliased lines
    pts = np.array([[round(x * 16), round(y * 16)] for x, y in points], dtype=np.int32)
    cv2.polylines(image, [pts], isClosed=False, color=pen.colour, thickness=pen.width,
                  lineType=cv2.LINE_AA, shift=shift)


def _jitter(rng: np.random.Generator, scale: float) -> Callable[[], float]:
    return lambda: float(rng.normal(0, scale))
