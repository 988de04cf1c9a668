"""Scan intake: batch files in, page images out, originals archived untouched.

It owns archiving each input by content hash and turning PDFs, TIFFs and images into grey page
images (`intake`; grey.py and pdf_images.py are its own). It reads no page and records nothing
in the store: pipeline/read/ reads the images, pipeline/ingest/ stores what was read.
"""

__all__ = ["intake"]
