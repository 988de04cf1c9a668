"""Scan intake on what mailrooms really send: every page identified or set aside with its reason.

Each file below is made here from the simulator's scans, the way a particular scanner or a
particular mishap would produce it; the comment beside each says which.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pikepdf
import pytest
from PIL import Image

from flows.ingest import ingest_batch
from pipeline.dataset.export import export_dataset
from pipeline.forms.build import BuiltForm
from pipeline.programs.poppler import rasterise_page
from pipeline.publish import build_forms
from pipeline.read.page import ReaderSettings
from pipeline.registry import register_layout
from pipeline.simulate import scanner
from pipeline.simulate.returns import SimulatedBatch
from pipeline.simulate.truth import truth_value
from pipeline.workspace import Workspace

from .conftest import PROJECT

REAL_SCANS = PROJECT.parent / "shared" / "real_scans" / "quexf"


def page(batch: SimulatedBatch, number: int, dpi: int = 300) -> np.ndarray:
    return rasterise_page(batch.pdf_path, number, dpi)


@pytest.fixture(scope="module")
def mailroom(built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
             tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of returns as they arrive: 12 pages of 6 copies, in every form and mishap."""
    folder = tmp_path_factory.mktemp("mailroom")
    p = {n: page(simulated, n) for n in range(1, 13)}
    # Fed sideways, upside down, and the other way round, as PNG, colour JPEG and LZW TIFF.
    cv2.imwrite(str(folder / "01-sideways.png"), np.rot90(p[1]))
    tinted = np.dstack([p[2] * 0.90, p[2] * 0.97, p[2] * 1.0]).astype(np.uint8)  # cream paper
    scanner.write_image(np.rot90(tinted, 2), folder / "02-upside-down-colour.jpg", 300)
    Image.fromarray(np.rot90(scanner.resample(p[3], 300, 150), 3)).save(
        folder / "03-turned-150dpi.tif", compression="tiff_lzw", dpi=(150, 150))
    # A sheet pulled in at 8 degrees, and a "fit to page" scan shrunk to 93 %, at 600 dpi.
    scanner.write_g4_tiff([scanner.skew(p[4], 8)], folder / "04-skewed-g4.tif", 300)
    scanner.write_image(scanner.resample(scanner.shrink(p[5], 0.93), 300, 600),
                        folder / "05-shrunk-600dpi.png", 600)
    # A duplex bitonal batch: each sheet followed by its blank back.
    blank = np.full_like(p[6], 255)
    blank[1000:1003, 500:503] = 0  # a speck of dust
    scanner.write_g4_pdf([p[6], blank, p[7], blank], folder / "06-duplex.pdf", 300)
    # A covering letter scanned with the form.
    letter = np.full_like(p[8], 250)
    for row in range(400, 2600, 70):
        letter[row : row + 18, 300 : 2100] = 40
    scanner.write_g4_pdf([letter, p[8]], folder / "07-with-letter.pdf", 300)
    # Page 1 of copy 1 again: a respondent's photocopy, or the same sheet scanned twice.
    scanner.write_image(p[1], folder / "08-rescan.jpg", 300)
    # A torn-off corner, and the rest of the copies in one clean grey PDF.
    torn = p[9].copy()
    torn[:260, :260] = 255
    scanner.write_image(torn, folder / "09-torn-corner.png", 300)
    scanner.write_g4_pdf([p[10], p[11], p[12]], folder / "10-rest.pdf", 300)
    # Files that are not what they say.
    (folder / "11-empty.pdf").write_bytes(b"")
    (folder / "12-truncated.pdf").write_bytes((folder / "06-duplex.pdf").read_bytes()[:3000])
    (folder / "13-notes.png").write_text("This is not an image.")
    with pikepdf.open(folder / "10-rest.pdf") as pdf:
        pdf.save(folder / "14-encrypted.pdf",
                 encryption=pikepdf.Encryption(owner="o", user="secret", R=6))
    Image.new("1", (14000, 12000), 1).save(folder / "15-bomb.png")
    return folder


@pytest.fixture(scope="module")
def other_form_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A page of another consultation whose layout this workspace never registered."""
    root = tmp_path_factory.mktemp("other")
    other = build_forms(PROJECT / "form_templates" / "quick_poll.yaml", 1, root / "form",
                        Workspace.resolve(root / "ws"))
    path = root / "16-other-consultation.png"
    cv2.imwrite(str(path), rasterise_page(other.pdf_path, 1, 200))
    return path


def test_every_page_is_identified_or_set_aside_with_its_reason(
    prefect_harness: None, built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
    mailroom: Path, other_form_page: Path, tmp_path: Path,
) -> None:
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    register_layout(workspace, form.layout)
    originals = {p.name: p.read_bytes() for p in mailroom.iterdir()}

    summary = ingest_batch([mailroom, other_form_page], workspace, ReaderSettings())

    outcomes = {(line.file, line.index): (line.outcome, line.serial, line.page)
                for line in summary.pages}
    assert outcomes == {
        ("01-sideways.png", 1): ("identified", "000001", 1),
        ("02-upside-down-colour.jpg", 1): ("identified", "000001", 2),
        ("03-turned-150dpi.tif", 1): ("identified", "000002", 1),
        ("04-skewed-g4.tif", 1): ("identified", "000002", 2),
        ("05-shrunk-600dpi.png", 1): ("identified", "000003", 1),
        ("06-duplex.pdf", 1): ("identified", "000003", 2),
        ("06-duplex.pdf", 2): ("blank", "", 0),
        ("06-duplex.pdf", 3): ("identified", "000004", 1),
        ("06-duplex.pdf", 4): ("blank", "", 0),
        ("07-with-letter.pdf", 1): ("not_a_form", "", 0),
        ("07-with-letter.pdf", 2): ("identified", "000004", 2),
        ("08-rescan.jpg", 1): ("duplicate", "000001", 1),
        ("09-torn-corner.png", 1): ("identified", "000005", 1),
        ("10-rest.pdf", 1): ("identified", "000005", 2),
        ("10-rest.pdf", 2): ("identified", "000006", 1),
        ("10-rest.pdf", 3): ("identified", "000006", 2),
        ("16-other-consultation.png", 1): ("unknown_form", "000001", 1),
    }
    reasons = {(line.file, line.index): line.reason for line in summary.pages}
    assert reasons[("08-rescan.jpg", 1)] == ("serial 000001 page 1 already read from "
                                             "01-sideways.png p1")
    assert reasons[("09-torn-corner.png", 1)] == "registered on 3 corner marks"
    assert reasons[("16-other-consultation.png", 1)].startswith("form park_poll-v1-")
    set_aside = {Path(item.path).name: item.reason for item in summary.set_aside}
    assert set(set_aside) == {"11-empty.pdf", "12-truncated.pdf", "13-notes.png",
                              "14-encrypted.pdf", "15-bomb.png"}
    assert set_aside["11-empty.pdf"].endswith("is empty (0 bytes): rescan it")
    assert "is not a readable PDF" in set_aside["12-truncated.pdf"]
    assert set_aside["13-notes.png"].endswith("is not a PDF, TIFF, PNG or JPEG file: "
                                              "check what was scanned")
    assert "is encrypted: ask for an unprotected copy" in set_aside["14-encrypted.pdf"]
    assert "decompression bomb" in set_aside["15-bomb.png"]

    # Every answer of every identified page is what the respondent marked.
    export_dataset(workspace, tmp_path / "dataset.csv")
    frame = pd.read_csv(tmp_path / "dataset.csv", dtype=str, keep_default_na=False)
    truth = json.loads(simulated.truth_path.read_text())["responses"]
    assert frame["respondent_ref"].tolist() == [f"{n:06d}" for n in range(1, 7)]
    for response, (_, row) in zip(truth, frame.iterrows(), strict=True):
        for question in ("visit_frequency", "opening_hours", "relocation"):
            assert row[question] == truth_value(response["answers"][question]), question
        assert set(row["services"].split()) == set(response["answers"]["services"])

    # The originals are untouched, and the same folder again adds nothing.
    assert {p.name: p.read_bytes() for p in mailroom.iterdir()} == originals
    again = ingest_batch([mailroom, other_form_page], workspace, ReaderSettings())
    assert again.files_read == 0
    assert again.files_already_read == 14  # all but the empty file and the one that is no image
    assert again.pages == ()
    assert {Path(item.path).name for item in again.set_aside} == set(set_aside)
    again_export = tmp_path / "again.csv"
    export_dataset(workspace, again_export)
    assert again_export.read_text() == (tmp_path / "dataset.csv").read_text()


@pytest.mark.skipif(not REAL_SCANS.is_dir(), reason="the shared real scans are not beside "
                                                    "this checkout (../shared/real_scans)")
def test_real_quexf_scans_are_another_systems_form_not_a_crash(
    prefect_harness: None, tmp_path: Path
) -> None:
    workspace = Workspace.resolve(tmp_path / "ws").ensure()
    files = [REAL_SCANS / f"test_filled_{n}.pdf" for n in (1, 2, 3)]
    summary = ingest_batch(files, workspace, ReaderSettings())
    assert summary.set_aside == ()
    assert len(summary.pages) == 6
    for line in summary.pages:
        assert line.outcome == "unknown_form", line
        assert line.reason.startswith("not a papertwin page: barcode ITF ")
