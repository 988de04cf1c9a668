"""What the review app does with letters: a page marked as a letter, text corrected, a serial
linked, the questionnaire chosen. Each is one call into the store (store/letters.py)."""

from __future__ import annotations

from pipeline.errors import UsageError
from pipeline.ingest.letters import read_letter_page
from pipeline.store.channels import link_serial
from pipeline.store.letters import (
    Letter,
    add_page,
    correct_text,
    letter,
    letter_of_page,
    register_letter,
    set_questionnaire,
)
from pipeline.store.page_decisions import page_file
from pipeline.store.store import Store

NEW = "new"  # the letter to add a page to, when it starts a letter of its own


def mark_as_letter(store: Store, file_sha256: str, page_index: int, to_letter: str,
                   questionnaire_id: str, reviewer: str) -> str:
    """A page a person says is (part of) a letter: a new letter of its own (`to_letter` NEW), or
    the next page of the letter named. Its text is read now. The letter's id."""
    taken = letter_of_page(store, file_sha256, page_index)
    if taken is not None:
        raise UsageError(f"this page is in letter {taken} already")
    item, archived = page_file(store, file_sha256, page_index)
    if item.outcome in ("identified", "duplicate"):
        raise UsageError(f"{item.file_name} p{item.page_index} is identified as a form page: "
                         "only a page that is not one of the forms can be a letter")
    text = read_letter_page(archived, page_index)
    if to_letter == NEW:
        return register_letter(store, questionnaire_id, [text], reviewer,
                               note=f"marked by {reviewer}").response_id
    add_page(store, to_letter, text)
    return to_letter


def save_letter(store: Store, response_id: str, text: str, serial: str, questionnaire_id: str,
                reviewer: str) -> Letter:
    """What a person changed on a letter's screen: the text (kept as a correction only when it
    differs from the letter's text now), the serial linked, the questionnaire."""
    found = letter(store, response_id)
    if found is None:
        raise UsageError(f"no letter {response_id}")
    serial = serial.strip()
    if serial and not serial.isdigit():
        raise UsageError(f"a copy serial is digits, as printed under the code: not {serial!r}")
    if not _same(text, found.text):
        correct_text(store, response_id, text, reviewer)
    if serial != found.response.serial:
        link_serial(store, response_id, serial)
    if questionnaire_id and questionnaire_id != found.response.questionnaire_id:
        set_questionnaire(store, response_id, questionnaire_id)
    return letter(store, response_id) or found


def _same(edited: str, current: str) -> bool:
    """A browser sends a textarea's lines with CRLF and may trim its end: not a correction."""
    return edited.replace("\r\n", "\n").strip() == current.replace("\r\n", "\n").strip()
