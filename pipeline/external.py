"""Running external programs: always with a timeout, failures as papertwin exceptions."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from pipeline.errors import MissingProgramError, ProgramFailedError, ProgramTimeoutError

INSTALL_HINTS = {
    "pdftoppm": "install poppler-utils (apt-get install poppler-utils)",
    "pdfinfo": "install poppler-utils (apt-get install poppler-utils)",
    "tesseract": "install tesseract-ocr (apt-get install tesseract-ocr tesseract-ocr-eng)",
    "fc-match": "install fontconfig (apt-get install fontconfig)",
}


def require_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        hint = INSTALL_HINTS.get(name, f"install {name}")
        raise MissingProgramError(f"{name} is not installed or not on PATH: {hint}")
    return path


def run_program(
    args: Sequence[str], timeout: float, what: str
) -> subprocess.CompletedProcess[bytes]:
    """Run args[0]; `what` names the input for the error message."""
    program = require_program(args[0])
    try:
        result = subprocess.run(
            [program, *args[1:]], capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ProgramTimeoutError(f"{args[0]} timed out after {timeout:g} s on {what}") from exc
    except OSError as exc:
        raise ProgramFailedError(f"{args[0]} could not be started for {what}: {exc}") from exc
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {result.returncode}"
        raise ProgramFailedError(f"{args[0]} failed on {what}: {detail}")
    return result
