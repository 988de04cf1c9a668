"""Scan intake: batch files in, page images out, originals archived untouched."""
