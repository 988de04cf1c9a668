"""Wrapper around fontconfig's fc-match: which font file the system has for a family name."""

from __future__ import annotations

from pathlib import Path

from pipeline.programs.run import Program, probe_version, require_program, run_program

FC_MATCH = Program("fc-match", "install fontconfig (apt-get install fontconfig)")
MATCH_TIMEOUT = 10.0


def require() -> None:
    """fc-match is on PATH, or MissingProgramError names fontconfig."""
    require_program(FC_MATCH)


def version() -> str:
    """fontconfig's version as fc-match reports it ("2.14.1")."""
    return probe_version(FC_MATCH, ["--version"], r"fontconfig version (\d+(?:\.\d+)+)")


def match_font(family: str) -> Path:
    """The font file fontconfig picks for `family`.

    fontconfig always answers with some font, its nearest substitute when the family is not
    installed: the caller checks that the file is the font it asked for.
    """
    result = run_program(FC_MATCH, ["-f", "%{file}", family], MATCH_TIMEOUT, "font lookup")
    return Path(result.stdout.decode(errors="replace").strip())
