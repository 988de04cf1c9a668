"""Injected faults: a tesseract that crashes or hangs flags the text field, never loses the page.

The fake tesseract is a shell script put first on PATH; it answers --version like the real one
(pytesseract asks) and then fails the way a broken install or a pathological image makes it fail.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline.forms.build import BuiltForm
from pipeline.programs.poppler import rasterise_page
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings, read_page
from pipeline.records import PageRef
from pipeline.simulate.returns import SimulatedBatch, simulate_returns
from pipeline.workspace import Workspace

from .conftest import PROJECT

FAKE_TESSERACT = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "tesseract 5.3.0"; exit 0; fi
{behaviour}
"""
BEHAVIOURS = {
    "crash": 'echo "Segmentation fault (core dumped)" >&2; exit 139',
    "hang": "sleep 60",
}


@pytest.mark.parametrize(("behaviour", "reason"), [
    ("crash", "OCR failed: tesseract failed: "),
    ("hang", "OCR failed: tesseract timed out after 2 s"),
])
def test_a_failing_tesseract_flags_the_field_not_the_page(
    behaviour: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
) -> None:
    _, form = built
    layouts = {form.layout.form_key: form.layout}
    truth = json.loads(simulated.truth_path.read_text())
    copy = next(i for i, r in enumerate(truth["responses"]) if r["answers"]["comments"])
    image = rasterise_page(simulated.pdf_path, 2 * copy + 2, 200)
    ref = PageRef("0" * 64, "returns.pdf", 2 * copy + 2)
    healthy = read_page(image, ref, layouts, ReaderSettings())

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tesseract"
    fake.write_text(FAKE_TESSERACT.format(behaviour=BEHAVIOURS[behaviour]))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    broken = read_page(image, ref, layouts, ReaderSettings(ocr_timeout=2))
    assert broken.outcome == "identified"
    comments = next(a for a in broken.answers if a.question == "comments")
    assert comments.needs_review
    assert comments.value == ""
    assert comments.reason.startswith(reason)
    assert comments.flag == "OCR failed"
    assert comments.crop_png  # the crop is kept for the person who will key it
    relocation = [a for a in broken.answers if a.question == "relocation"]
    assert relocation == [a for a in healthy.answers if a.question == "relocation"]


# Crashes only when asked for characters with their boxes (hOCR): what character cells use.
CRASH_ON_HOCR = """#!/bin/sh
case "$*" in *hocr*) echo "Segmentation fault (core dumped)" >&2; exit 139;; esac
exec {real} "$@"
"""


def test_a_crash_reading_cells_flags_the_cells_and_reads_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which("tesseract")
    assert real is not None
    workspace = Workspace.resolve(tmp_path / "ws")
    form = build_forms(PROJECT / "form_templates" / "town_centre.yaml", 2, tmp_path / "form",
                       workspace)
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=2)
    truth = json.loads(batch.truth_path.read_text())["responses"]
    copy = next(i for i, r in enumerate(truth)
                if r["answers"]["postcode"] and r["answers"]["priorities"])
    number = len(form.layout.pages) * copy + 3  # page 3: postcode and age cells, ticks, text
    image = rasterise_page(batch.pdf_path, number, 200)
    ref = PageRef("0" * 64, "returns.pdf", number)
    layouts = {form.layout.form_key: form.layout}
    healthy = {a.question: a for a in read_page(image, ref, layouts, ReaderSettings()).answers}

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tesseract"
    fake.write_text(CRASH_ON_HOCR.format(real=real))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    broken = read_page(image, ref, layouts, ReaderSettings())
    assert broken.outcome == "identified"
    answers = {a.question: a for a in broken.answers}
    postcode = answers["postcode"]
    assert (postcode.needs_review, postcode.flag, postcode.value) == (True, "OCR failed", "")
    assert postcode.reason.startswith("OCR failed: tesseract failed: ")
    assert postcode.crop_png  # the cells as scanned, for the person who will key them
    assert answers["priorities"] == healthy["priorities"]  # free text is read as before
    assert answers["heard_where"] == healthy["heard_where"]
