"""Paper responses: the identified pages of one copy (form key and serial) make one response.

Pages may arrive in different batches; a response lists the pages its layout has that no batch has
brought yet, and is complete once none is missing. Duplicates do not count (the first read stands).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.records import Layout
from pipeline.store import schema


@dataclass(frozen=True)
class PaperResponse:
    form_key: str
    serial: str
    pages_present: tuple[int, ...]
    pages_missing: tuple[int, ...]
    sources: tuple[str, ...]  # "<file name> p<page index>" of each page present, in page order

    @property
    def complete(self) -> bool:
        """Whether every page of the copy's layout has been read."""
        return not self.pages_missing


def paper_responses(conn: Connection, layouts: Mapping[str, Layout]) -> list[PaperResponse]:
    """Every response of the given forms with at least one page read, by form key and serial."""
    p, f = schema.pages, schema.files
    rows = conn.execute(
        select(p.c.form_key, p.c.serial, p.c.page, p.c.page_index, f.c.name)
        .join(f, f.c.sha256 == p.c.file_sha256)
        .where(p.c.outcome == "identified", p.c.form_key.in_(list(layouts)))
        .order_by(p.c.form_key, p.c.serial, p.c.page)
    )
    found: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
    for row in rows:
        found[(row.form_key, row.serial)].setdefault(row.page, f"{row.name} p{row.page_index}")
    responses = []
    for (form_key, serial), pages in found.items():
        expected = [page.page for page in layouts[form_key].pages]
        responses.append(PaperResponse(
            form_key, serial, tuple(sorted(pages)),
            tuple(n for n in expected if n not in pages),
            tuple(pages[n] for n in sorted(pages))))
    return responses
