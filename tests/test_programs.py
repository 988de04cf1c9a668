"""The external programs' wrappers: versions as the installed programs report them, and a
missing, hung or failing program as the exception (and so the exit code) papertwin promises.

A broken program is a shell script put first on PATH; each wrapper is driven through its own
calls, so what is checked is what papertwin's readers and builders meet.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import (
    ExitCode,
    InputFileError,
    MissingProgramError,
    ProgramFailedError,
    ProgramTimeoutError,
)
from pipeline.programs import check_programs, fontconfig, poppler, tesseract

BLANK = np.full((40, 160), 255, dtype=np.uint8)
# pytesseract asks tesseract its version before some calls: a broken one still answers that.
ANSWERS_VERSION = 'if [ "$1" = "--version" ]; then echo "tesseract 5.3.0"; exit 0; fi\n'


def _put_first_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                       body: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def _reported(args: list[str]) -> str:
    """What a program writes when asked its version, stdout and stderr together."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=True)
    return done.stdout + done.stderr


# -- versions -------------------------------------------------------------------------------------

def test_tesseract_version_is_the_installed_one() -> None:
    version = tesseract.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert _reported(["tesseract", "--version"]).splitlines()[0] == f"tesseract {version}"
    assert int(version.split(".")[0]) >= 4  # the LSTM recogniser the readers configure


def test_poppler_version_is_the_installed_one() -> None:
    version = poppler.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f"pdftoppm version {version}\n" in _reported(["pdftoppm", "-v"])
    assert f"pdfinfo version {version}\n" in _reported(["pdfinfo", "-v"])  # one package


def test_fontconfig_version_is_the_installed_one() -> None:
    version = fontconfig.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert _reported(["fc-match", "--version"]).strip() == f"fontconfig version {version}"


def test_a_program_that_says_no_version_is_a_failed_program(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _put_first_on_path(tmp_path, monkeypatch, "fc-match", "exit 0")
    with pytest.raises(ProgramFailedError) as caught:
        fontconfig.version()
    assert str(caught.value) == "fc-match did not report its version (it wrote 'nothing')"


# -- missing --------------------------------------------------------------------------------------

MISSING: list[tuple[str, Callable[[], object], str]] = [
    ("tesseract version", tesseract.version,
     "tesseract is not installed or not on PATH: install tesseract-ocr "
     "(apt-get install tesseract-ocr tesseract-ocr-eng)"),
    ("tesseract reading", lambda: tesseract.ocr_words(BLANK),
     "tesseract is not installed or not on PATH: install tesseract-ocr "
     "(apt-get install tesseract-ocr tesseract-ocr-eng)"),
    ("poppler version", poppler.version,
     "pdftoppm is not installed or not on PATH: install poppler-utils "
     "(apt-get install poppler-utils)"),
    ("poppler page count", lambda: poppler.page_count(Path("returns.pdf")),
     "pdfinfo is not installed or not on PATH: install poppler-utils "
     "(apt-get install poppler-utils)"),
    ("fontconfig version", fontconfig.version,
     "fc-match is not installed or not on PATH: install fontconfig "
     "(apt-get install fontconfig)"),
    ("font lookup", lambda: fontconfig.match_font("Comic Neue"),
     "fc-match is not installed or not on PATH: install fontconfig "
     "(apt-get install fontconfig)"),
    ("a batch's check", check_programs,  # pdfinfo first, as the batch needs it first
     "pdfinfo is not installed or not on PATH: install poppler-utils "
     "(apt-get install poppler-utils)"),
]


@pytest.mark.parametrize(("call", "message"), [(c, m) for _, c, m in MISSING],
                         ids=[name for name, _, _ in MISSING])
def test_a_program_absent_from_path_names_the_package_to_install(
        call: Callable[[], object], message: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no program at all
    with pytest.raises(MissingProgramError) as caught:
        call()
    assert str(caught.value) == message
    assert caught.value.exit_code == ExitCode.MISSING_PROGRAM == 5


def test_the_batch_check_passes_with_every_program_installed() -> None:
    check_programs()


# -- hanging --------------------------------------------------------------------------------------

HANGING: list[tuple[str, str, str, Callable[[Path], object], str]] = [
    ("tesseract", ANSWERS_VERSION + "exec sleep 30", "",
     lambda _: tesseract.ocr_words(BLANK, timeout=1),
     "tesseract timed out after 1 s"),
    ("pdftoppm", "exec sleep 30", "PAGE_TIMEOUT",
     lambda pdf: poppler.rasterise_page(pdf, 1, 100),
     "pdftoppm timed out after 1 s on {pdf} page 1"),
    ("fc-match", "exec sleep 30", "MATCH_TIMEOUT",
     lambda _: fontconfig.match_font("Comic Neue"),
     "fc-match timed out after 1 s on font lookup"),
]


@pytest.mark.parametrize(("program", "body", "timeout_name", "call", "message"), HANGING,
                         ids=[h[0] for h in HANGING])
def test_a_hanging_program_times_out_within_its_timeout(
        program: str, body: str, timeout_name: str, call: Callable[[Path], object],
        message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if timeout_name:
        module = poppler if program == "pdftoppm" else fontconfig
        monkeypatch.setattr(module, timeout_name, 1.0)
    _put_first_on_path(tmp_path, monkeypatch, program, body)
    pdf = tmp_path / "returns.pdf"
    started = time.monotonic()
    with pytest.raises(ProgramTimeoutError) as caught:
        call(pdf)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 4.0  # the timeout, and the second a stopped program is given
    assert str(caught.value) == message.format(pdf=pdf)
    assert caught.value.exit_code == ExitCode.PROGRAM_FAILED == 6


# -- failing --------------------------------------------------------------------------------------

FAILS = 'echo "Warning: something on the way" >&2; echo "{last}" >&2; exit 1'
FAILING: list[tuple[str, str, Callable[[Path], object], str]] = [
    ("tesseract", ANSWERS_VERSION + FAILS.format(last="Error in pixReadStream: bad image"),
     lambda _: tesseract.ocr_chars(BLANK),
     "tesseract failed: Warning: something on the way Error in pixReadStream: bad image"),
    ("pdftoppm", FAILS.format(last="Syntax Error: Couldn't read xref table"),
     lambda pdf: poppler.rasterise_page(pdf, 2, 100),
     "pdftoppm failed on {pdf} page 2: Syntax Error: Couldn't read xref table"),
    ("fc-match", FAILS.format(last="Fontconfig error: Cannot load default config file"),
     lambda _: fontconfig.match_font("Comic Neue"),
     "fc-match failed on font lookup: Fontconfig error: Cannot load default config file"),
]


@pytest.mark.parametrize(("program", "body", "call", "message"), FAILING,
                         ids=[f[0] for f in FAILING])
def test_a_failing_program_is_a_failed_program_carrying_its_last_line(
        program: str, body: str, call: Callable[[Path], object], message: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _put_first_on_path(tmp_path, monkeypatch, program, body)
    pdf = tmp_path / "returns.pdf"
    with pytest.raises(ProgramFailedError) as caught:
        call(pdf)
    assert not isinstance(caught.value, ProgramTimeoutError)
    assert str(caught.value) == message.format(pdf=pdf)
    assert caught.value.exit_code == ExitCode.PROGRAM_FAILED == 6


def test_a_pdf_pdfinfo_refuses_is_the_files_fault(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _put_first_on_path(tmp_path, monkeypatch, "pdfinfo",
                       FAILS.format(last="Syntax Error: Couldn't find trailer dictionary"))
    pdf = tmp_path / "returns.pdf"
    with pytest.raises(InputFileError) as caught:
        poppler.page_count(pdf)
    assert str(caught.value) == (f"{pdf} is not a readable PDF (pdfinfo failed on {pdf}: "
                                 "Syntax Error: Couldn't find trailer dictionary)")
    assert caught.value.exit_code == ExitCode.INPUT_FILE == 4


# -- tesseract's thread limit ---------------------------------------------------------------------

THREAD_LIMIT_AFTER_IMPORT = (
    "import os; import pipeline.programs.tesseract; print(os.environ['OMP_THREAD_LIMIT'])")


@pytest.mark.parametrize(("operator_set", "seen"), [(None, "1"), ("3", "3")])
def test_tesseract_runs_with_one_openmp_thread_unless_the_operator_says_otherwise(
        operator_set: str | None, seen: str) -> None:
    """Set once, when the wrapper is imported (pages are read in parallel already); what the
    operator has set is kept."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    if operator_set is not None:
        env["OMP_THREAD_LIMIT"] = operator_set
    done = subprocess.run([sys.executable, "-c", THREAD_LIMIT_AFTER_IMPORT], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == f"{seen}\n"


def test_every_tesseract_run_sees_the_thread_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _put_first_on_path(tmp_path, monkeypatch, "tesseract",
                       ANSWERS_VERSION + 'echo "limit=${OMP_THREAD_LIMIT:-unset}" >&2; exit 1')
    with pytest.raises(ProgramFailedError) as caught:
        tesseract.ocr_words(BLANK)
    assert str(caught.value) == f"tesseract failed: limit={os.environ['OMP_THREAD_LIMIT']}"
