"""The numbers questions are printed with, which instructions and messages refer to."""

from __future__ import annotations

from string import ascii_lowercase

from pipeline.model import Grid, Item, Question, Questionnaire, Repeat

Number = int | str  # 5, or 5a for a question of a repeat


def question_numbers(questionnaire: Questionnaire) -> dict[str, Number]:
    """Question, grid or repeat name -> printed number: a grid takes one, a "please specify"
    line none, a repeat one, its questions that number and a letter (5a, 5b) under every
    copy's own heading, so the numbers after a repeat do not depend on how many copies print."""
    numbers: dict[str, Number] = {}
    count = 0
    for item in questionnaire.items:
        if _numbered(item):
            count += 1
            numbers[item.name] = count
            if isinstance(item, Repeat):
                _number_repeat(item, str(count), numbers)
    return numbers


def _numbered(item: Item) -> bool:
    return isinstance(item, Grid | Repeat) or (isinstance(item, Question) and not item.other_of)


def _number_repeat(repeat: Repeat, number: str, numbers: dict[str, Number]) -> None:
    """Each copy's items by instance name; a nested repeat's items after its own (5c.1, 5c.2)."""
    for k in range(1, repeat.count + 1):
        index = 0
        for item in repeat.copy_items(k):
            if not _numbered(item):
                continue
            index += 1
            mark = f"{number}{_letters(index)}" if number[-1].isdigit() else f"{number}.{index}"
            numbers[item.name] = mark
            if isinstance(item, Repeat):
                _number_repeat(item, mark, numbers)


def _letters(index: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa: spreadsheet-column letters."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = ascii_lowercase[rest] + letters
    return letters
