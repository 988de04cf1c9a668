"""The pages of each printed copy, in order: its letter, its questionnaire, and blank pages.

Printed double-sided (duplex), a copy must take whole sheets, or the next person's letter would
be printed on the back of this person's last page. The letter is also kept on sheets of its own,
so that no questionnaire page, which goes back to the council, carries a name and address on
its back: the copy serial stays the only link between an answer and a person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrintOrder:
    letter_pages: int  # the letter's pages, blank ones included (0: no letter)
    questionnaire_pages: int
    padding_pages: int  # blank pages after the questionnaire

    @property
    def per_copy(self) -> int:
        """The pages each printed copy takes: letter, questionnaire and blank pages."""
        return self.letter_pages + self.questionnaire_pages + self.padding_pages


def print_order(letter_pages: int, questionnaire_pages: int, duplex: bool) -> PrintOrder:
    """Each part made a whole number of sheets when printed duplex; as it is otherwise."""
    if not duplex:
        return PrintOrder(letter_pages, questionnaire_pages, 0)
    return PrintOrder(letter_pages + letter_pages % 2, questionnaire_pages,
                      questionnaire_pages % 2)
