"""The external programs papertwin runs, one wrapper module per program.

The rule: every external program papertwin runs is called from this package, always with a
timeout, and its failures are turned into papertwin's exceptions (pipeline/errors.py, which maps
each to a stable exit code): MissingProgramError (with what to install) when it is not on PATH,
ProgramTimeoutError when it runs past its timeout, ProgramFailedError when it crashes or fails.

- `run`: running a program (`run_program`, `require_program`, `probe_version`);
- `poppler`: pdfinfo and pdftoppm (page counts, pages as images);
- `tesseract`: text recognition, through pytesseract;
- `fontconfig`: fc-match (font files by family name);
- `check`: what a batch of scans needs, checked once before it starts (`check_programs`).

Each wrapper module has `require()` (on PATH, or MissingProgramError) and `version()` (the
version the program reports, probed with a timeout).
"""

from __future__ import annotations

from pipeline.programs import fontconfig, poppler, tesseract
from pipeline.programs.check import check_programs
from pipeline.programs.run import Program, probe_version, require_program, run_program

__all__ = [
    "Program",
    "check_programs",
    "fontconfig",
    "poppler",
    "probe_version",
    "require_program",
    "run_program",
    "tesseract",
]
