"""How a question's character cells are grouped on paper, and what is printed between groups.

One answer to "where does this digit go" for every place cells are printed (a question, a
repeat's table, the time and date-time blocks), so that a respondent sees the shape of the
answer: DD / MM / YYYY, HH : MM, 123 . 45, and a postcode's two parts apart (SW1A  1AA), its
gap telling where the space goes.
"""

from __future__ import annotations

from pipeline import postcode
from pipeline.forms.style import MM, Style
from pipeline.model import Question

DEFAULT_CELLS = 8  # a comb whose question gives no count
PRINTED_SEPARATOR_WIDTH = 3.5 * MM  # room for "/", ":" or "." between two groups

Groups = tuple[tuple[int, str], ...]  # (cells, what is printed before them: "" nothing, " " a gap)


def comb_groups(question: Question) -> Groups:
    """The groups of cells, in order, each with what comes before it."""
    count = question.cells or DEFAULT_CELLS
    if question.type == "date":
        return ((2, ""), (2, "/"), (4, "/"))
    if question.type == "time":
        return ((2, ""), (2, ":"))
    if question.type == "datetime":
        return ((2, ""), (2, "/"), (4, "/"), (2, " "), (2, ":"))
    if question.shape == "postcode" and count > postcode.INWARD_CELLS:
        return ((count - postcode.INWARD_CELLS, ""), (postcode.INWARD_CELLS, " "))
    if question.type == "decimal" and 0 < question.decimals < count:
        return ((count - question.decimals, ""), (question.decimals, "."))
    return ((count, ""),)


def separator_width(style: Style, separator: str) -> float:
    """The room between two groups: a printed sign's, or a gap a cell wide, plain to see."""
    return PRINTED_SEPARATOR_WIDTH if separator.strip() else style.cell_w


def comb_width(style: Style, question: Question) -> float:
    """The width of a question's character cells in PDF points, the separators between groups
    included."""
    groups = comb_groups(question)
    return (sum(size for size, _ in groups) * style.cell_w
            + sum(separator_width(style, separator) for _, separator in groups[1:]))
