"""Cells sized to the answer's shape: a postcode in postcode cells, a number in as many digit cells
as its bounds need.

Every template format decides a question's cells here, from what the online survey already says:
its constraint (`. <= 110`, `regex(., '^[A-Z]{1,2}[0-9]...')`), its name or label (`postcode`,
`cod post`) and its hint ("to one decimal place"). A cell count the template gives itself
(`papertwin::cells`, YAML `cells`) always wins. docs/template-format.md, "Cells", has the rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import ROUND_FLOOR

from pipeline import postcode
from pipeline.errors import TemplateError
from pipeline.forms.constraint import Bounds, Constraint, read_constraint
from pipeline.forms.expression import ExpressionError, compile_pattern
from pipeline.model import Question

DEFAULT_DECIMALS = 2
MAX_DECIMALS = 4
MAX_CELLS = 40
# "to one decimal place", "2 decimal places", "i un lle degol" (Welsh), "to the nearest 0.1"
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "un": 1, "dau": 2, "dwy": 2, "tri": 3}
PLACES = re.compile(r"\b(\d|one|two|three|four|un|dau|dwy|tri)\s+(?:decimal\s+place|lle\s+degol)",
                    re.IGNORECASE)
NEAREST = re.compile(r"\bnearest\s+0\.(\d+)\b", re.IGNORECASE)
DECIMAL_SAMPLES = ("1.5", "1.25", "1.125", "1.0625")  # one to four places, for a pattern to take


def shaped(question: Question, given: int | None, default: int, where: str) -> Question:
    """The question with its cells decided: `given` (the template's own count, None when it
    gives none), else what its shape needs, else `default` (the type's count; 0 a writing area).
    """
    constraint = read_constraint(question.constraint, question.name)
    if question.type == "text" and asks_postcode(question, constraint):
        cells = postcode.CELLS if given is None else given
        if cells == 0:
            return replace(question, cells=0)  # asked for a writing area
        if cells < postcode.CELLS:
            raise TemplateError(
                f"{where}: a postcode needs {postcode.CELLS} cells or more (up to "
                f"{postcode.OUTWARD_CELLS} for the part before the space, {postcode.INWARD_CELLS} "
                f"after it), or 0 for a writing area, not {cells}")
        charset = question.charset if question.charset != "any" else "alphanumeric"
        return replace(question, cells=cells, shape="postcode", charset=charset)
    if question.type == "integer":
        found = number_cells(constraint.bounds)
        return replace(question, cells=given if given is not None else found or default)
    if question.type == "decimal":
        decimals = decimal_places(constraint, [text for _, text in question.hint.texts])
        found = number_cells(constraint.bounds, decimals)
        cells = given if given is not None else found or default
        return replace(question, cells=cells, decimals=min(decimals, max(cells - 1, 0)))
    return replace(question, cells=default if given is None else given)


def asks_postcode(question: Question, constraint: Constraint) -> bool:
    """A UK postcode: its constraint's pattern is one, or, without a pattern, its name or label
    says so. A pattern that is not a postcode's (an outward code alone, say) wins over a name."""
    if constraint.patterns:
        return any(postcode_pattern(pattern) for pattern in constraint.patterns)
    return postcode.names_postcode(question.name, *(text for _, text in question.label.texts))


def postcode_pattern(pattern: str) -> bool:
    """Whether a constraint's regular expression is meant for UK postcodes: it takes postcodes
    of the common shapes (with or without the space, in either case, as it expects) and none of
    the strings that only a looser pattern takes. Judged by what it matches, so any way of
    writing it is recognised: anchored or not, `[0-9]` or `\\d`, `(?i)` or `[A-Za-z]`."""
    compiled = _compiled(pattern)
    if compiled is None:
        return False

    def takes(text: str) -> bool:
        return any(compiled.fullmatch(variant) for variant in (
            text, text.replace(" ", ""), text.lower(), text.lower().replace(" ", "")))

    return (all(takes(example) for example in postcode.EXAMPLES[:4])
            and not any(takes(other) for other in postcode.NOT_POSTCODES))


def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The pattern as the online form runs it; None if it is no pattern at all."""
    try:
        return compile_pattern(pattern)
    except ExpressionError:
        return None


def decimal_places(constraint: Constraint, hints: Sequence[str] | None = None) -> int:
    """Digits after a decimal's point: what the hint says ("to one decimal place", "nearest
    0.1"), else what the constraint's pattern takes, else as many as its bounds are written
    with (`. <= 42.0`: one), else 2."""
    for hint in hints or ():
        found = PLACES.search(hint)
        if found:
            word = found[1].lower()
            return min(int(word) if word.isdigit() else NUMBER_WORDS[word], MAX_DECIMALS)
        nearest = NEAREST.search(hint)
        if nearest:
            return min(len(nearest[1]), MAX_DECIMALS)
    for pattern in constraint.patterns:
        compiled = _compiled(pattern)
        taken = [i + 1 for i, sample in enumerate(DECIMAL_SAMPLES)
                 if compiled is not None and compiled.fullmatch(sample)]
        if taken:
            return max(taken)
    written = max((len(n.partition(".")[2]) for n in constraint.numbers), default=0)
    return min(written, MAX_DECIMALS) if written else DEFAULT_DECIMALS


def number_cells(bounds: Bounds, decimals: int = 0) -> int | None:
    """Digit cells for the largest number the bounds allow (and `decimals` after the point);
    None without an upper bound, or when the number may be negative (a cell holds no sign)."""
    if bounds.high is None or (bounds.low is not None and bounds.low < 0) or bounds.high < 0:
        return None
    whole = bounds.high.to_integral_value(rounding=ROUND_FLOOR)
    if whole == bounds.high and not bounds.high_inclusive:
        whole -= 1  # `. < 1000`: 999 (999.99 for a decimal)
    if whole < 0:
        return None
    return min(len(str(int(whole))) + decimals, MAX_CELLS)

