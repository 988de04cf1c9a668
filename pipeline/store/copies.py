"""A page read twice: the same response scanned again, or a photocopy that is another response.

People photocopy the form they were sent (for a partner, a neighbour, or because they spoilt
theirs), so one serial can come back twice with different answers. A second copy of a page whose
confidently read answers differ from the first copy's is a probable photocopy; one whose answers
agree is a rescan. Answers waiting for a person on either side are left out of the comparison, so
a noisy rescan of one response is not called a photocopy. A person settles it in the review app.

The pages of one copy arrive together in one scan file; a copy's pages that do not differ (a blank
last page on both copies) follow the rest of that copy.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.textdistance import edit_distance

# A text read twice differs by this many edits at least, and a quarter of the longer text,
# before it counts as written differently: OCR of one handwriting varies a little between scans.
TEXT_EDITS = 3
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Reading:
    """One answer of a page as the reader found it."""

    value: str
    needs_review: bool


@dataclass(frozen=True)
class StoredCopy:
    """One stored copy of a page of a response: what decides whether it is the one that counts."""

    page_id: int  # ids only grow: the lower, the earlier read
    identified: bool  # counts now (the others are duplicates)
    further: bool = False  # of a further response made of a photocopy (copy_of set)


@dataclass(frozen=True)
class CopyPage:
    """A page of a scan file as read: what makes it part of one copy."""

    form_key: str
    serial: str  # as printed on the page
    page: int


def differing_answers(first: Mapping[str, Reading], second: Mapping[str, Reading],
                      marked: Collection[str]) -> tuple[str, ...]:
    """Questions read confidently on both copies of a page whose answers differ, in the second
    copy's order. `marked` names the questions answered in tick boxes (the rest are written)."""
    differ = []
    for question, answer in second.items():
        before = first.get(question)
        if before is None or before.needs_review or answer.needs_review:
            continue
        if _differ(before.value, answer.value, question in marked):
            differ.append(question)
    return tuple(differ)


def _differ(first: str, second: str, marked: bool) -> bool:
    if marked:
        return set(first.split()) != set(second.split())
    a, b = (_NOT_WORD.sub(" ", text.casefold()).strip() for text in (first, second))
    if not a or not b:
        return a != b
    return edit_distance(a, b) >= max(TEXT_EDITS, max(len(a), len(b)) // 4)


def copy_runs(pages: Sequence[CopyPage]) -> list[list[int]]:
    """Positions of a file's identified pages grouped into copies: consecutive pages of one form
    and serial whose page numbers grow. A copy and its photocopy sent in one envelope are two."""
    runs: list[list[int]] = []
    last: CopyPage | None = None
    for at, page in enumerate(pages):
        if (last is None or (page.form_key, page.serial) != (last.form_key, last.serial)
                or page.page <= last.page):
            runs.append([])
        runs[-1].append(at)
        last = page
    return runs


def in_standing_order(copies: Iterable[StoredCopy]) -> list[StoredCopy]:
    """The copies of one page, the one that counts first: the copy identified (a person may have
    chosen it), else the earliest read; the response a serial was printed for before those made
    of photocopies of it. A page read later is a duplicate of the copy that counts, and when
    that copy becomes another response, the next in this order stands in for it."""
    return sorted(copies, key=lambda c: (not c.identified, c.further, c.page_id))


def standing_copy(copies: Iterable[StoredCopy]) -> StoredCopy | None:
    """The copy of a page that counts (in_standing_order), or None when there is no copy."""
    return next(iter(in_standing_order(copies)), None)


def response_serial(serial: str, number: int) -> str:
    """The serial a further response on a printed serial is stored and exported under."""
    return f"{serial}-{number}"


def next_response_number(serial: str, taken: Iterable[str]) -> int:
    """The number of the next response on this serial: 2 for the first photocopy, and one more
    than the highest in use after that (stored, so a response id stays put)."""
    numbers = [int(t[len(serial) + 1:]) for t in taken
               if t.startswith(f"{serial}-") and t[len(serial) + 1:].isdigit()]
    return max([1, *numbers]) + 1
