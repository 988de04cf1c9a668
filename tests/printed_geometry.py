"""Checks a printed form as a print shop and a scanner would: boxes, text and page codes.

Shared by the corpus tests and the corpus benchmark, so the figures the README gives come from
the same checks the tests make.
"""

from __future__ import annotations

import html
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from pipeline.forms.layout import MARGIN, FormPlan, LayoutOptions
from pipeline.forms.render import render_pdf
from pipeline.forms.style import KEY_TEXT_SIZE
from pipeline.model import Questionnaire
from pipeline.records import Box, Copy, Layout, PageCode

CLEARANCE = 2.0  # points between an answer box and a corner mark or the page code
SLACK = 0.75  # points: pdftotext's word boxes are rounded and include side bearings
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r"(.*?)</word>")
PAGE = re.compile(r"<page width=")
SERIAL = "000001"
CODE_ROOM = 15 * 72 / 25.4  # points of page rendered round the code


@dataclass(frozen=True)
class Word:
    page: int
    box: Box
    text: str


def overlaps(a: Box, b: Box, margin: float = 0.0) -> bool:
    return not (a[2] + margin <= b[0] or b[2] + margin <= a[0]
                or a[3] + margin <= b[1] or b[3] + margin <= a[1])


def variants(questionnaire: Questionnaire) -> list[LayoutOptions]:
    """Standard and large print, in each language alone and, when there are several, in all."""
    languages: list[tuple[str, ...]] = [(lang,) for lang in questionnaire.languages]
    if len(questionnaire.languages) > 1:
        languages.append(tuple(questionnaire.languages))
    return [LayoutOptions(languages=langs, large_print=large)
            for large in (False, True) for langs in languages]


def variant_name(options: LayoutOptions) -> str:
    langs = ",".join(options.languages or ())
    return f"{langs}{'-large' if options.large_print else ''}"


def print_one_copy(plan: FormPlan, pdf: Path) -> Copy:
    """The plan printed as one copy with serial 000001, as `forms build --copies 1` would."""
    key = plan.layout.form_key
    copy = Copy(SERIAL, tuple(PageCode(key, SERIAL, p.page).encode() for p in plan.layout.pages))
    with pdf.open("wb") as handle:
        render_pdf(plan, [copy], handle)
    return copy


def box_problems(layout: Layout) -> list[str]:
    """Answer boxes outside the page, on a mark, on the code or its key, or on each other."""
    width, height = layout.page_size
    problems: list[str] = []
    for page in layout.pages:
        code = page.barcode
        key_text = (code[0] - 40, code[1] - 2, code[2], code[3] + KEY_TEXT_SIZE + 3)
        furniture = [m.box for m in page.marks] + [key_text]
        for field in page.fields:
            x0, y0, x1, y1 = field.box
            where = f"page {page.page}: box of {field.question} {field.value or ''}".rstrip()
            if not (MARGIN - SLACK <= x0 < x1 <= width - MARGIN + SLACK and 0 < y0 < y1 < height):
                problems.append(f"{where} lies outside the printable area: {field.box}")
            if any(overlaps(field.box, box, CLEARANCE) for box in furniture):
                problems.append(f"{where} touches a corner mark or the page code: {field.box}")
        fields = sorted(page.fields, key=lambda f: f.box[1])
        for i, a in enumerate(fields):
            for b in fields[i + 1:]:
                if b.box[1] >= a.box[3]:
                    break
                if overlaps(a.box, b.box):
                    problems.append(f"page {page.page}: the boxes of {a.question} "
                                    f"{a.value or a.index} and {b.question} {b.value or b.index} "
                                    "overlap")
    return problems


def words(pdf: Path) -> Iterator[Word]:
    """Every word pdftotext finds, with its box in points from the top left."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    for number, chunk in enumerate(PAGE.split(out)[1:], start=1):
        for match in WORD.finditer(chunk):
            x0, y0, x1, y1 = (float(match[i]) for i in range(1, 5))
            yield Word(number, (x0, y0, x1, y1), html.unescape(match[5]))


def text_problems(pdf: Path, layout: Layout) -> list[str]:
    """Printed words outside the margins, or printed inside an answer box."""
    width, height = layout.page_size
    problems: list[str] = []
    for word in words(pdf):
        x0, y0, x1, y1 = word.box
        shown = word.text if len(word.text) <= 30 else word.text[:30] + "…"
        if x0 < MARGIN - SLACK or x1 > width - MARGIN + SLACK or y0 < 0 or y1 > height:
            problems.append(f"page {word.page}: '{shown}' is printed past the margin at "
                            f"x {x0:.1f}-{x1:.1f}")
            continue
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        for field in layout.page_layout(word.page).fields:
            fx0, fy0, fx1, fy1 = field.box
            if field.kind != "text" and fx0 < centre[0] < fx1 and fy0 < centre[1] < fy1:
                problems.append(f"page {word.page}: '{shown}' is printed inside the box of "
                                f"{field.question}")
                break
    return problems


def code_problems(pdf: Path, layout: Layout, copy: Copy, dpi: int = 200) -> list[str]:
    """Pages whose code does not decode, at the resolution of a cheap office scanner, to its own
    page key."""
    problems: list[str] = []
    # Only the code's corner of each page is rendered (with room around it, as a scanner's page
    # has): the same pixels a full page would give there, in a fraction of the time.
    boxes = [page.barcode for page in layout.pages]
    scale = dpi / 72
    left, top = min(b[0] for b in boxes) - CODE_ROOM, max(min(b[1] for b in boxes) - CODE_ROOM, 0)
    right, bottom = max(b[2] for b in boxes) + CODE_ROOM, max(b[3] for b in boxes) + CODE_ROOM
    crop = [str(round(v * scale)) for v in (left, top, right - left, bottom - top)]
    with tempfile.TemporaryDirectory(prefix="papertwin-geometry-") as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-x", crop[0], "-y", crop[1], "-W",
                        crop[2], "-H", crop[3], str(pdf), f"{tmp}/p"],
                       capture_output=True, timeout=1800, check=True)
        images = sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[-1]))
        if len(images) != len(layout.pages):
            return [f"the PDF has {len(images)} pages, the layout {len(layout.pages)}"]
        for number, (image_path, expected) in enumerate(zip(images, copy.codes, strict=True),
                                                        start=1):
            image = np.asarray(cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE), np.uint8)
            found = [b.text for b in zxingcpp.read_barcodes(image)]
            if found != [expected]:
                problems.append(f"page {number}: the page code reads {found}, not [{expected}]")
    return problems
