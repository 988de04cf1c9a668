"""Dates as a letter writes them in each language: "30 November 2026", "30 Tachwedd 2026".

Babel's long date format, with British English for `en` (papertwin's letters go to residents of
councils and health bodies that write the day first). A closing date given as an ISO date
(2027-03-31, as a spreadsheet's date cell arrives) prints the same way in every language; any
other text prints as written.
"""

from __future__ import annotations

import re
from datetime import date

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date

from pipeline.model import Label

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
DATE_LOCALES = {"en": "en_GB"}  # the language's date style, where Babel's default is another's
FALLBACK_LOCALE = "en_GB"


def long_date(day: date, lang: str) -> str:
    """The date written out in `lang`; in British English when Babel does not know it."""
    code = lang.strip().replace("-", "_")
    try:
        locale = Locale.parse(DATE_LOCALES.get(code, code))
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse(FALLBACK_LOCALE)
    return format_date(day, format="long", locale=locale)


def date_text(label: Label, lang: str) -> str:
    """A label that may hold a date: an ISO date written out in `lang`, other text as given."""
    text = label.text(lang)
    match = ISO_DATE.match(text.strip())
    if match is None:
        return text
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return text
    return long_date(day, lang)
