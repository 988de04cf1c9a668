"""Letter pages of a scan file become letter responses as the file is stored.

Reading calls a page of running text with no form marks a letter (read/letter.py). Consecutive
letter pages of one file make one letter (blank pages between them, the backs of a duplex scan,
are passed over); any other page ends it. Each page's whole text is read with tesseract at
LETTER_DPI, with its confidence. A page already in a letter is never registered again, so a
batch read again does not create the letter twice.

Which questionnaire a letter answers: that of the forms identified in the same file when they are
of exactly one; else that of every registered form when there is only one questionnaire; else
none, and a reviewer chooses it on the letter's screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.errors import ProgramFailedError
from pipeline.programs.tesseract import ocr_page
from pipeline.read.letter import is_letter_reason
from pipeline.records import ArchivedFile, Layout, PageResult
from pipeline.scan.intake import iter_pages
from pipeline.store.letters import PageText, letter_of_page, register_letter
from pipeline.store.store import Store

LETTER_DPI = 300  # tesseract reads typed text best at 300 dpi
OCR_TIMEOUT = 60.0  # seconds for one page's whole text
INGEST = "ingest"  # who registered a letter ingest found


def letter_runs(pages: Sequence[PageResult]) -> list[tuple[int, ...]]:
    """The page numbers (in the file) of each letter among a file's pages, in order."""
    runs: list[tuple[int, ...]] = []
    current: list[int] = []
    for page in sorted(pages, key=lambda p: p.ref.index):
        if page.outcome == "not_a_form" and is_letter_reason(page.reason):
            current.append(page.ref.index)
        elif page.outcome != "blank" and current:
            runs.append(tuple(current))
            current = []
    if current:
        runs.append(tuple(current))
    return runs


def letter_questionnaire(pages: Sequence[PageResult], layouts: Mapping[str, Layout]) -> str:
    """The questionnaire a letter in this file answers, or "" for a reviewer to choose."""
    in_file = {layouts[p.form_key].questionnaire.id for p in pages
               if p.outcome == "identified" and p.form_key in layouts}
    if len(in_file) == 1:
        return in_file.pop()
    registered = {layout.questionnaire.id for layout in layouts.values()}
    if not in_file and len(registered) == 1:
        return registered.pop()
    return ""


def read_letter_page(archived: ArchivedFile, index: int,
                     timeout: float = OCR_TIMEOUT) -> PageText:
    """A page's whole text and confidence; a page tesseract cannot read comes back empty with
    confidence 0, for a person to type."""
    for _, image in iter_pages(archived, LETTER_DPI, index, index):
        try:
            read = ocr_page(image, timeout=timeout)
        except ProgramFailedError:
            break
        return PageText(archived.sha256, index, read.text, read.confidence)
    return PageText(archived.sha256, index, "", 0.0)


def register_file_letters(store: Store, archived: ArchivedFile, pages: Sequence[PageResult],
                          layouts: Mapping[str, Layout]) -> tuple[str, ...]:
    """Register the letters among a stored file's pages; the ids of those created now."""
    created = []
    questionnaire = letter_questionnaire(pages, layouts)
    for run in letter_runs(pages):
        fresh = [i for i in run if letter_of_page(store, archived.sha256, i) is None]
        if not fresh:
            continue
        texts = [read_letter_page(archived, index) for index in fresh]
        response = register_letter(store, questionnaire, texts, INGEST,
                                   note=f"{archived.name} pages {fresh[0]}-{fresh[-1]}")
        created.append(response.response_id)
    return tuple(created)
