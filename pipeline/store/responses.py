"""Paper responses: the identified pages of one copy (form key and serial) make one response.

Pages may arrive in different batches; a response lists the pages its layout has that no batch has
brought yet, and is complete once none is missing. Duplicates do not count (the first read stands).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
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


@dataclass(frozen=True)
class PaperReturn:
    """A paper response as the mailing counts it: which copy came back, and when."""

    form_key: str
    serial: str  # as stored: "<serial>-<n>" for a further response made on a photocopy
    printed_serial: str  # the serial printed on the pages (the copy that was mailed)
    first_read_at: str  # when its first page was read (ISO 8601, UTC)


def paper_returns(conn: Connection, form_keys: Collection[str]) -> list[PaperReturn]:
    """Every response of these forms with an identified page, with when its first page was
    read; by form key and serial."""
    p = schema.pages
    rows = conn.execute(
        select(p.c.form_key, p.c.serial, p.c.copy_of, func.min(p.c.read_at).label("first"))
        .where(p.c.outcome == "identified", p.c.form_key.in_(list(form_keys)))
        .group_by(p.c.form_key, p.c.serial, p.c.copy_of)
        .order_by(p.c.form_key, p.c.serial))
    return [PaperReturn(str(row.form_key), str(row.serial), str(row.copy_of or row.serial),
                        str(row.first))
            for row in rows]
