"""The command line: what a user sees when something is wrong, and the exit codes scripts see."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from flows.cli import main
from pipeline.errors import ExitCode
from pipeline.forms.build import BuiltForm
from pipeline.registry import register_layout
from pipeline.simulate.returns import SimulatedBatch
from pipeline.workspace import Workspace


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_missing_template(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--workspace", str(tmp_path / "ws"), "forms", "build",
                       str(tmp_path / "consultation.yaml"), "--copies", "2",
                       "--out", str(tmp_path / "out"))
    assert code == ExitCode.TEMPLATE == 3
    assert err == f"papertwin: template {tmp_path / 'consultation.yaml'} does not exist: " \
                  "check the path\n"


def test_tesseract_not_installed(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 simulated: SimulatedBatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("pdfinfo", "pdftoppm"):
        found = shutil.which(program)
        assert found is not None
        (bin_dir / program).symlink_to(found)
    monkeypatch.setenv("PATH", str(bin_dir))
    code, out, err = run(capsys, "ingest", "--workspace", str(tmp_path / "ws"),
                         str(simulated.pdf_path))
    assert code == ExitCode.MISSING_PROGRAM == 5
    assert err == ("papertwin: tesseract is not installed or not on PATH: install tesseract-ocr "
                   "(apt-get install tesseract-ocr tesseract-ocr-eng)\n")
    assert out == ""


def test_bad_scan_files_are_set_aside_and_the_rest_ingested(
    prefect_harness: None, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
) -> None:
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws")
    register_layout(workspace, form.layout)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(simulated.pdf_path.read_bytes()[:2000])
    letter = tmp_path / "letter.pdf"
    letter.write_text("Dear council, please find my form enclosed.")
    code, out, err = run(capsys, "--workspace", str(workspace.root), "ingest",
                         str(empty), str(simulated.pdf_path), str(truncated), str(letter),
                         str(tmp_path / "missing.pdf"))
    assert code == ExitCode.FILES_SET_ASIDE == 8
    assert "pages: 12 (12 identified)" in out
    lines = err.splitlines()
    assert lines[0] == (f"papertwin: set aside: {tmp_path / 'missing.pdf'} does not exist: "
                        "check the path")
    assert lines[1] == f"papertwin: set aside: {empty} is empty (0 bytes): rescan it"
    assert lines[2] == (f"papertwin: set aside: {truncated} is not a readable PDF (root of pages "
                        "tree has no /Kids array): check the file or rescan it")
    assert lines[3] == (f"papertwin: set aside: {letter} is not a PDF, TIFF, PNG or JPEG file: "
                        "check what was scanned")
    assert str(workspace.archive_dir) not in err
    assert len(lines) == 4


def test_export_before_any_form_is_registered(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    code, _, err = run(capsys, "--workspace", str(tmp_path / "ws"), "export", "--out",
                       str(tmp_path / "d.csv"))
    assert code == ExitCode.WORKSPACE
    assert err == ("papertwin: no form is registered in this workspace: "
                   "run 'papertwin forms build'\n")


@pytest.mark.usefixtures("prefect_harness")
def test_forms_build_warns_about_what_it_cannot_print(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    template = tmp_path / "survey.md"
    template.write_text(
        "# settings\n| settings | form_id | version | form_title | papertwin::return_address |\n"
        "| | walk_poll | 1 | Walks | Freepost WALKS |\n\n"
        "# survey\n| survey | type | name | label |\n"
        "| | text | route | Which route do you walk? |\n"
        "| | geopoint | location | Where are you? |\n"
    )
    code, out, err = run(capsys, "--workspace", str(tmp_path / "ws"), "forms", "build",
                         str(template), "--copies", "1", "--out", str(tmp_path / "out"),
                         "--large-print")
    assert code == 0
    assert err == ("papertwin: warning: survey row 3 (location): type 'geopoint' cannot be "
                   "printed; left out\n")
    assert out.startswith("built 1 copy of form walk_poll-v1-lp-")
    assert (tmp_path / "out" / "form.pdf").stat().st_size > 0


@pytest.mark.usefixtures("prefect_harness")
def test_forms_preview_writes_png_pages(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    from .conftest import TEMPLATE

    code, out, _ = run(capsys, "forms", "preview", str(TEMPLATE), "--out", str(tmp_path / "png"))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == ["page-1.png", "page-2.png"]
    assert (tmp_path / "png" / "page-1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out == f"previewed 2 pages of {TEMPLATE} in {tmp_path / 'png'}\n"


@pytest.mark.usefixtures("prefect_harness")
def test_forms_preview_takes_recipients_and_duplex(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    from .conftest import TEMPLATE

    recipients = tmp_path / "recipients.csv"
    recipients.write_text("name,address1,town\n" + "".join(
        f"Resident {n},{n} Mill Lane,Millbrook\n" for n in range(1, 6)), encoding="utf-8")
    code, out, _ = run(capsys, "forms", "preview", str(TEMPLATE), "--out", str(tmp_path / "png"),
                       "--recipients", str(recipients), "--duplex", "--dpi", "30")
    assert code == 0
    # the first 3 recipients: a letter and its blank back, then the two-page form
    assert out == f"previewed 12 pages of {TEMPLATE} in {tmp_path / 'png'}\n"
    assert len(list((tmp_path / "png").glob("page-*.png"))) == 12


def test_ingest_audit_share_sends_confident_answers_to_a_person(
    prefect_harness: None, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    built: tuple[Workspace, BuiltForm], simulated: SimulatedBatch,
) -> None:
    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws")
    register_layout(workspace, form.layout)
    words = tmp_path / "words.txt"
    words.write_text("Millbrook\nlibrary\n")
    code, out, err = run(capsys, "--workspace", str(workspace.root), "ingest",
                         str(simulated.pdf_path), "--audit-share", "1", "--review-below", "0.5",
                         "--words", str(words))
    assert code == 0, err
    assert "pages: 12 (12 identified)" in out
    code, _, err = run(capsys, "--workspace", str(workspace.root), "export", "--format", "csv",
                       "--out", str(tmp_path / "dataset.csv"))
    assert code == 0, err
    frame = pd.read_csv(tmp_path / "dataset.csv", dtype=str, keep_default_na=False)
    questions = [q.name for q in form.layout.questionnaire.questions]
    assert len(frame) == 6
    for _, row in frame.iterrows():
        review = set(row["_needs_review"].split())
        # With a share of 1, every question read is checked by a person, blank ones included.
        assert review == set(questions), row["respondent_ref"]


def test_ingest_refuses_a_share_outside_0_to_1(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ingest", str(tmp_path), "--audit-share", "1.5"])
    assert exited.value.code == ExitCode.USAGE
    assert "--audit-share: 1.5 is not between 0 and 1" in capsys.readouterr().err


def test_a_file_name_cannot_forge_lines_of_the_batch_summary(
    prefect_harness: None, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    built: tuple[Workspace, BuiltForm],
) -> None:
    from reportlab.pdfgen.canvas import Canvas

    _, form = built
    workspace = Workspace.resolve(tmp_path / "ws")
    register_layout(workspace, form.layout)
    name = "evil\nbatch 9: 99 files read\x1b[2J.pdf"
    escaped = "evil\\nbatch 9: 99 files read\\x1b[2J.pdf"
    (tmp_path / "letters").mkdir()
    (tmp_path / "notes").mkdir()
    letter = tmp_path / "letters" / name  # a real PDF, but no form on its page: reported
    canvas = Canvas(str(letter))
    canvas.drawString(72, 720, "Dear council, I have lost my questionnaire.")
    canvas.save()
    note = tmp_path / "notes" / name  # not a PDF at all: set aside
    note.write_text("Dear council")
    code, out, err = run(capsys, "--workspace", str(workspace.root), "ingest", str(letter),
                         str(note))
    assert code == ExitCode.FILES_SET_ASIDE
    lines = out.splitlines()
    assert len(lines) == 4, out
    assert lines[0].startswith("batch ")
    assert lines[0].endswith(": 1 files read, 0 already ingested, 1 set aside")
    assert lines[1:3] == ["  pages: 1 (1 blank)", "  answers read: 0; flagged for review: 0"]
    assert lines[3].startswith(f"  {escaped} p1: blank - ")
    assert err == (f"papertwin: set aside: {tmp_path / 'notes'}/{escaped} is not a PDF, TIFF, "
                   "PNG or JPEG file: check what was scanned\n")
    assert "\x1b" not in out + err
