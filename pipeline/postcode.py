"""UK postcodes (BS 7666): their shape, how they are written in cells, and how they are told.

One place for the rules that printing (a postcode question gets postcode cells), reading (the
cells are read back and checked) and the simulator (respondents write real-looking postcodes)
share. A postcode is an outward code of 2 to 4 characters (area letters, district), a space, and
an inward code of always 3 (a digit and two letters): so the space can always be put back.
"""

from __future__ import annotations

import re

OUTWARD_CELLS = 4  # the longest outward code: SW1A, DN55
INWARD_CELLS = 3  # every inward code: a digit and two letters
CELLS = OUTWARD_CELLS + INWARD_CELLS
FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"  # an area's first letter: never Q, V, X
SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"  # its second letter: never I, J, Z
UNIT = "ABDEFGHJLNPQRSTUWXYZ"  # the inward code's letters: never C, I, K, M, O, V
AFTER_DIGIT = "ABCDEFGHJKPSTUW"  # a letter that ends an outward code A9A (W1A)
AFTER_DIGITS = "ABEHMNPRVWXY"  # and one that ends AA9A (EC1A): never O, so 0 there is a digit
SHAPE = re.compile(
    rf"^(?:[{FIRST}][0-9]{{1,2}}|[{FIRST}][{SECOND}][0-9]{{1,2}}"
    rf"|[{FIRST}][0-9][{AFTER_DIGIT}]|[{FIRST}][{SECOND}][0-9]"
    rf"[{AFTER_DIGITS}]) [0-9][{UNIT}]{{2}}$")
# One of each shape of outward code (A9, A99, AA9, AA99, A9A, AA9A), and the special GIR 0AA:
# what a constraint meant for UK postcodes accepts (most of them) and what it is tried on.
EXAMPLES = ("M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB", "SA1 1DP")
# Strings that a postcode pattern refuses and a looser one (any 5 to 8 letters and digits) takes.
NOT_POSTCODES = ("12345", "ABCDEF", "HELLO", "AB12 CDE", "1AB 2CD", "M1 1A", "SW1A 1AAA",
                 "1234 567")
POSTCODE_WORDS = re.compile(r"post[\s_.-]*code|cod[\s_.-]*post", re.IGNORECASE)


def normalised(text: str) -> str:
    """Written characters as a postcode is written: upper case, one space before the last three.

    Whatever spaces (empty cells) were left between them, the inward code is the last three
    characters; fewer than five characters are returned compacted, for a person to look at.
    """
    compact = "".join(text.split()).upper()
    if len(compact) < OUTWARD_CELLS + 1:
        return compact
    return f"{compact[:-INWARD_CELLS]} {compact[-INWARD_CELLS:]}"


def is_postcode(text: str) -> bool:
    """Whether `text` is a UK postcode in the shape the dataset holds it (`SW1A 1AA`)."""
    return bool(SHAPE.match(text))


def in_cells(postcode: str, cells: int = CELLS) -> str:
    """What a respondent writes in `cells` postcode cells: the outward code from the first cell,
    the inward code in the last three, the cells between left empty (spaces)."""
    outward, _, inward = normalised(postcode).partition(" ")
    if not inward:  # too short to split: written from the first cell, as people would
        return outward
    return outward.ljust(cells - INWARD_CELLS) + inward


def names_postcode(*texts: str) -> bool:
    """Whether a question's name or label asks for a postcode: postcode, post code, post_code,
    or the Welsh cod post."""
    return any(POSTCODE_WORDS.search(text) for text in texts)


# A postcode inside a line of an address ("Millbrook MB1 1AA"), written with or without its space.
IN_TEXT = re.compile(
    rf"(?<![A-Z0-9])((?:[{FIRST}][0-9]{{1,2}}|[{FIRST}][{SECOND}][0-9]{{1,2}}"
    rf"|[{FIRST}][0-9][{AFTER_DIGIT}]|[{FIRST}][{SECOND}][0-9][{AFTER_DIGITS}]))"
    rf" ?([0-9][{UNIT}]{{2}})(?![A-Z0-9])")


def find_postcode(text: str) -> str | None:
    """The last UK postcode written in `text` (an address line, a postcode cell), as the dataset
    holds it (`SW1A 1AA`), or None: an address ends with its postcode."""
    found = IN_TEXT.findall(text.upper())
    return f"{found[-1][0]} {found[-1][1]}" if found else None


def district(postcode: str) -> str:
    """The postcode district: the outward code (`CF10` of `CF10 1AA`), an area of a few thousand
    addresses, which names no one."""
    return normalised(postcode).partition(" ")[0]
