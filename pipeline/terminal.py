"""Names people chose, shown on a terminal or in a log without the power to forge its lines.

A scan file, a folder, a form id, a user name, an online export's column or a recipient's town
can hold a newline (a second, invented line of the batch summary), a carriage return or an
escape sequence (text overwritten, the screen cleared), or a bidirectional override (a name that
reads backwards). Every such name is shown through `shown`, which writes those characters as
visible escapes and leaves printable text of every script as it is.
"""

from __future__ import annotations

import unicodedata

NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Controls, format characters (bidirectional overrides and isolates, zero-width spaces, the
# byte order mark), line and paragraph separators, and lone surrogates (undecodable bytes of a
# file name).
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Format characters that ordinary words need: joiners in Persian, Indic scripts and emoji.
KEPT_FORMAT = frozenset({"\u200c", "\u200d"})


def shown(text: str) -> str:
    """The text with every control, format or separator character written as an escape
    (`\\n`, `\\x1b`, `\\u202e`), so that it takes one line and reads in its own order."""
    if text.isprintable():  # the usual case, and fast: no control or format character at all
        return text
    return "".join(_escaped(c) for c in text)


def _escaped(char: str) -> str:
    if char in NAMED:
        return NAMED[char]
    if char in KEPT_FORMAT or unicodedata.category(char) not in ESCAPED_CATEGORIES:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
