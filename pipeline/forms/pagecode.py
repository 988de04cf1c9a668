"""The payload of the code printed on every page: format version, form key, copy serial, page."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "PT1"
SEPARATOR = "|"


@dataclass(frozen=True)
class PageCode:
    form_key: str
    serial: str
    page: int

    def encode(self) -> str:
        return SEPARATOR.join((PREFIX, self.form_key, self.serial, str(self.page)))


def decode_page_code(text: str) -> PageCode | None:
    """The page code in a decoded barcode text, or None when it is not one of ours."""
    parts = text.strip().split(SEPARATOR)
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    _, form_key, serial, page = parts
    if not form_key or not serial.isdigit() or not page.isdigit() or int(page) < 1:
        return None
    return PageCode(form_key=form_key, serial=serial, page=int(page))
