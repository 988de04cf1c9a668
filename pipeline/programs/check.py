"""The programs a batch of scans needs, checked once before the batch does any work."""

from __future__ import annotations

from pipeline.programs import poppler, tesseract


def check_programs() -> None:
    """Fail before any work when a program every batch needs is missing: poppler's pdfinfo
    and pdftoppm (page counts, rendered pages), then tesseract (text). Only whether each is on
    PATH: running them here would cost every batch a process per program for nothing a read
    would not find out anyway."""
    poppler.require()
    tesseract.require()
