"""Clear print by default: the sizes RNIB's guidance asks for, measured in the printed PDF."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from pipeline.forms.blocks import HINT_GREY
from pipeline.forms.layout import LayoutOptions
from pipeline.forms.style import KEY_TEXT_SIZE, LARGE_PRINT, STANDARD
from pipeline.publish import build_forms
from pipeline.workspace import Workspace

from .conftest import PROJECT

SMALLEST_READ = 11.0  # hints; everything else a respondent reads is 12 pt or more
SERIAL_LABEL = 8.0  # "Serial 000001" beside the code: for keying staff, drawn with the code


def test_standard_print_is_clear_print() -> None:
    assert STANDARD.body >= 12 and STANDARD.label >= 12.5 and STANDARD.hint >= 11
    assert STANDARD.heading > STANDARD.label and STANDARD.title > STANDARD.heading
    assert STANDARD.footer >= 9
    assert HINT_GREY <= 0.2  # 0 is black: a very dark grey, never the faint grey of old
    assert STANDARD.tick >= STANDARD.body * 1.15  # a box as tall as the label beside it
    assert STANDARD.row >= STANDARD.body * 1.25 + 2  # rows hold a line of 12 pt text
    assert min(LARGE_PRINT.body, LARGE_PRINT.label, LARGE_PRINT.hint, LARGE_PRINT.footer) >= 16


def _sizes(pdf: Path) -> list[tuple[float, str, str]]:
    """(size, font, text of the line) of every character on every page."""
    found = []
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            lines = {round(c["top"]): "" for c in page.chars}
            for char in page.chars:
                lines[round(char["top"])] += char["text"]
            found += [(round(char["size"], 2), str(char["fontname"]),
                       lines[round(char["top"])]) for char in page.chars]
    return found


@pytest.mark.parametrize(("template", "languages"), [
    ("library_services.yaml", ()), ("town_centre.yaml", ()),
    ("town_centre_xlsform.md", ("en", "cy")),
])
def test_no_text_a_respondent_reads_is_under_11_pt(tmp_path: Path, template: str,
                                                   languages: tuple[str, ...]) -> None:
    built = build_forms(PROJECT / "form_templates" / template, 1, tmp_path / "out",
                        Workspace.resolve(tmp_path / "ws"), LayoutOptions(languages=languages))
    small = []
    sizes = _sizes(built.pdf_path)
    for size, font, line in sizes:
        if "Mono" in font:  # the page key under the code: for machines and keying by hand
            assert size == KEY_TEXT_SIZE
        elif size == SERIAL_LABEL and "000001" in line:  # the serial beside the code
            continue
        elif size == STANDARD.footer and ("Page " in line or "Tudalen" in line):
            continue  # "Page n of m", at the foot of the page
        elif size < SMALLEST_READ:
            small.append((size, line))
    assert not small, small[:5]
    assert min(size for size, font, _ in sizes if "Mono" not in font) == SERIAL_LABEL
    assert {size for size, _, line in sizes if "Please tick one box" in line} == {STANDARD.hint}
