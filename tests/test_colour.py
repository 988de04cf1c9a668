"""Colour scans: pale blue ink is read from the channel where it is dark, not lost to grey."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pikepdf

from pipeline.ingest.batch import join_chunks, plan_batch, read_chunk
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings, read_page
from pipeline.records import PageRef
from pipeline.scan.grey import ink_grey
from pipeline.simulate.damage import Damage
from pipeline.simulate.returns import simulate_returns
from pipeline.simulate.truth import truth_value
from pipeline.workspace import Workspace

from .conftest import TEMPLATE

PALE_BLUE = ("pale blue ballpoint", "pale blue gel")


def test_pale_blue_ticks_on_colour_scans_are_read(tmp_path: Path) -> None:
    workspace = Workspace.resolve(tmp_path / "ws")
    built = build_forms(TEMPLATE, 4, tmp_path / "form", workspace)
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=4, damage=Damage.mild(),
                             colour=1.0, pens=PALE_BLUE)
    truth = {r["serial"]: r for r in json.loads(batch.truth_path.read_text())["responses"]}
    assert {r["marking"]["scan"] for r in truth.values()} == {"colour"}
    assert {r["marking"]["tool"] for r in truth.values()} <= set(PALE_BLUE)
    with pikepdf.open(batch.pdf_path) as pdf:  # the scans really are in colour
        first = next(iter(pdf.pages[0].get_images().values()))
        assert pikepdf.PdfImage(first).mode == "RGB"

    plan = plan_batch([batch.pdf_path], workspace)
    reading = join_chunks([read_chunk(c, plan.layouts, ReaderSettings()) for c in plan.chunks],
                          plan.layouts, ReaderSettings())
    questionnaire = built.layout.questionnaire
    ticked = 0
    for page in reading.pages:
        assert page.outcome == "identified"
        for answer in page.answers:
            if not questionnaire.question(answer.question).is_choice:
                continue
            expected = truth_value(truth[page.serial]["answers"][answer.question])
            assert (set(answer.value.split()), answer.needs_review) == (
                set(expected.split()), False), (page.serial, answer.question, answer.reason)
            ticked += len(expected.split())
    assert ticked >= 8


def test_luminance_would_lose_pale_blue_ink(tmp_path: Path) -> None:
    """The same colour pages made grey the usual way (luminance) leave pale blue ticks too light
    to read: what the red channel is for."""
    workspace = Workspace.resolve(tmp_path / "ws")
    built = build_forms(TEMPLATE, 3, tmp_path / "form", workspace)
    batch = simulate_returns(tmp_path / "form", tmp_path / "scans", seed=4, damage=Damage.mild(),
                             colour=1.0, pens=("pale blue gel",))
    layouts = {built.layout.form_key: built.layout}
    truth = {r["serial"]: r for r in json.loads(batch.truth_path.read_text())["responses"]}
    right = {"red": 0, "luminance": 0}
    with pikepdf.open(batch.pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            scan = pikepdf.PdfImage(next(iter(page.get_images().values()))).as_pil_image()
            rgb = np.asarray(scan.convert("RGB"), dtype=np.float32)
            greys = {"red": ink_grey(scan),
                     "luminance": np.asarray(np.rint(rgb @ [0.299, 0.587, 0.114]), np.uint8)}
            for name, grey in greys.items():
                result = read_page(grey, PageRef("0" * 64, "returns.pdf", number), layouts,
                                   ReaderSettings())
                for answer in result.answers:
                    if built.layout.questionnaire.question(answer.question).is_choice:
                        expected = truth_value(truth[result.serial]["answers"][answer.question])
                        right[name] += not answer.needs_review and set(
                            answer.value.split()) == set(expected.split())
    assert right["red"] > right["luminance"] + 2, right
