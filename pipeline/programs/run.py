"""Running an external program: always with a timeout, its failures as papertwin exceptions.

The wrapper modules beside this one describe their program once (a `Program`: its name and how to
install it) and run it only through `run_program`, so that a missing, crashed or hung program
reads the same whatever papertwin was doing when it happened.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import MissingProgramError, ProgramFailedError, ProgramTimeoutError

VERSION_TIMEOUT = 10.0  # seconds: a program that cannot say its version in that is broken


@dataclass(frozen=True)
class Program:
    """An external program, and what to tell the operator when it is not installed."""

    name: str
    install: str  # e.g. "install fontconfig (apt-get install fontconfig)"


def require_program(program: Program) -> str:
    """The program's path on PATH; MissingProgramError, with the install hint, when absent."""
    path = shutil.which(program.name)
    if path is None:
        raise MissingProgramError(missing_message(program))
    return path


def missing_message(program: Program) -> str:
    """The one line that says a program is missing and how to install it."""
    return f"{program.name} is not installed or not on PATH: {program.install}"


def run_program(program: Program, args: Sequence[str], timeout: float,
                what: str) -> subprocess.CompletedProcess[bytes]:
    """Run the program with `args`; `what` names the input for the error message.

    A non-zero exit is a ProgramFailedError carrying the last line the program wrote to stderr
    (where programs say what went wrong), a run longer than `timeout` a ProgramTimeoutError.
    """
    path = require_program(program)
    try:
        result = subprocess.run([path, *args], capture_output=True, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired as exc:
        raise ProgramTimeoutError(
            f"{program.name} timed out after {timeout:g} s on {what}") from exc
    except OSError as exc:
        raise ProgramFailedError(
            f"{program.name} could not be started for {what}: {exc}") from exc
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {result.returncode}"
        raise ProgramFailedError(f"{program.name} failed on {what}: {detail}")
    return result


def probe_version(program: Program, args: Sequence[str], pattern: str) -> str:
    """The version the program reports, the first group of `pattern` in what it writes.

    Programs differ in where they say it (tesseract on stdout, poppler and fontconfig on
    stderr), so both are searched.
    """
    result = run_program(program, args, VERSION_TIMEOUT, "its version")
    output = (result.stdout + b"\n" + result.stderr).decode(errors="replace")
    found = re.search(pattern, output)
    if found is None:
        said = output.strip().splitlines()
        raise ProgramFailedError(f"{program.name} did not report its version "
                                 f"(it wrote {said[0] if said else 'nothing'!r})")
    return found.group(1)
