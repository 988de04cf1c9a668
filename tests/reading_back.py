"""A simulated batch read page by page as ingest reads it, for tests that compare with the truth."""

from __future__ import annotations

from pipeline.programs.poppler import rasterise_page
from pipeline.read.page import ReaderSettings, read_page
from pipeline.records import Layout, PageRef
from pipeline.simulate.returns import SimulatedBatch

Readings = dict[tuple[str, str], tuple[str, bool]]  # (serial, question) -> (value, needs review)


def read_back(batch: SimulatedBatch, layout: Layout, dpi: int = 200) -> Readings:
    """Every page identified, in print order, and every answer read; a text or a question split
    over two pages joined as the dataset joins it (words in page order, flagged if either was)."""
    per_copy = len(layout.pages)
    read: Readings = {}
    for index in range(1, batch.pages + 1):
        image = rasterise_page(batch.pdf_path, index, dpi)
        result = read_page(image, PageRef("0" * 64, "scans.pdf", index),
                           {layout.form_key: layout}, ReaderSettings())
        assert result.outcome == "identified", (index, result.reason)
        assert (result.serial, result.page) == (layout.copies[(index - 1) // per_copy].serial,
                                                (index - 1) % per_copy + 1)
        for answer in result.answers:
            key = (result.serial, answer.question)
            before = read.get(key)
            read[key] = ((f"{before[0]} {answer.value}".strip(), before[1] or answer.needs_review)
                         if before else (answer.value, answer.needs_review))
    return read
