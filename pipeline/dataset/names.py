"""Column names each statistics package accepts, made from the dataset's names, unique per file.

`member[2]/age`, `routes_used/x4` and `_needs_review` are good names in CSV and Parquet, but
SPSS wants a letter first and no `/` or `[`, and Stata at most 32 characters, none of its
reserved words. The renaming is deterministic (the same dataset gives the same names) and the
codebook lists it, so an analyst can go from a name in one file to the same column in another.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

StatsTool = Literal["sav", "dta"]

# SPSS: 64 bytes; Stata: 32 characters (both count the name as written, ASCII here).
NAME_LIMITS: dict[StatsTool, int] = {"sav": 64, "dta": 32}
SPSS_RESERVED = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR",
                           "TO", "WITH"})
STATA_RESERVED = frozenset({
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long", "_n",
    "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with", "str", "_se",
})
_STATA_STR = re.compile(r"^str\d+$")
_NOT_WORD = re.compile(r"[^A-Za-z0-9_]+")


def tool_names(columns: Sequence[str], tool: StatsTool) -> dict[str, str]:
    """Dataset column -> a valid, unique name in `tool`, in column order (an earlier column
    keeps the plainer name when two would clash)."""
    taken: set[str] = set()
    names: dict[str, str] = {}
    for column in columns:
        base = _valid(column, tool)
        name = base
        n = 2
        while _key(name, tool) in taken:
            suffix = f"_{n}"
            name = base[:NAME_LIMITS[tool] - len(suffix)] + suffix
            n += 1
        taken.add(_key(name, tool))
        names[column] = name
    return names


def _key(name: str, tool: StatsTool) -> str:
    """SPSS names are the same whatever their case; Stata's are not."""
    return name.upper() if tool == "sav" else name


def _valid(column: str, tool: StatsTool) -> str:
    ascii_text = (unicodedata.normalize("NFKD", column).encode("ascii", "ignore")
                  .decode("ascii"))
    name = _NOT_WORD.sub("_", ascii_text).strip("_") if tool == "sav" else \
        _NOT_WORD.sub("_", ascii_text).rstrip("_")
    name = re.sub(r"__+", "_", name) if not column.startswith("_") or tool == "sav" else name
    if not name:
        name = "v"
    if not name[0].isalpha() and not (tool == "dta" and name[0] == "_"):
        name = "v" + name
    name = name[:NAME_LIMITS[tool]].rstrip("_") or "v"
    reserved = (name.upper() in SPSS_RESERVED if tool == "sav"
                else name in STATA_RESERVED or bool(_STATA_STR.match(name)))
    if reserved:
        name = name + "_"
    return name
