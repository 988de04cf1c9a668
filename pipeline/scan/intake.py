"""Scan intake: archive each input file by content hash, then split it into page images.

The original is never modified; everything later reads the archived copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageSequence, UnidentifiedImageError

from pipeline.errors import InputFileError
from pipeline.fsutil import atomic_copy, sha256_file
from pipeline.records import ArchivedFile, FileKind
from pipeline.scan.grey import ink_grey
from pipeline.scan.pdf_images import MAX_PAGE_PIXELS, iter_pdf_pages, pdf_page_count
from pipeline.workspace import Workspace

Image8 = NDArray[np.uint8]
IMAGE_SUFFIXES = {".tif", ".tiff", ".png", ".jpg", ".jpeg"}
SCAN_SUFFIXES = IMAGE_SUFFIXES | {".pdf"}
# Pages read from one file at most unless the operator says otherwise (--max-pages): a full
# sheet feeder of 500 sheets scanned on both sides. A file of thousands of pages is far more
# often a mistake or a hostile file than a batch, and would hold the batch up for minutes.
MAX_PAGES_PER_FILE = 1000


@dataclass(frozen=True)
class SetAside:
    path: str
    reason: str  # names the file, so it can be shown alone


def collect_inputs(paths: Sequence[Path]) -> tuple[list[Path], list[SetAside]]:
    """Files named, and scan files inside folders named (recursively, in name order); with
    them, what was set aside and why (a path that does not exist, a folder without scans), so
    that one mistyped path does not stop the rest."""
    files: list[Path] = []
    problems: list[SetAside] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SCAN_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                reason = f"{path} holds no PDF, TIFF, PNG or JPEG files"
                problems.append(SetAside(str(path), reason))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(SetAside(str(path), f"{path} does not exist: check the path"))
    return files, problems


def archive_file(path: Path, workspace: Workspace) -> ArchivedFile:
    """Copy the file into the archive under its content hash (once), and say what it is; the
    original is left as it was. InputFileError for a file that is empty, cannot be read, or is
    not a PDF or an image."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise InputFileError(f"{path} is empty (0 bytes): rescan it")
        kind = sniff_kind(path)
        digest = sha256_file(path)
    except OSError as exc:
        raise InputFileError(f"{path} cannot be read: {exc.strerror}") from exc
    suffix = ".pdf" if kind == "pdf" else path.suffix.lower()
    target = workspace.archive_dir / digest[:2] / f"{digest}{suffix}"
    if not target.exists():
        atomic_copy(path, target)
        target.chmod(0o444)
    return ArchivedFile(digest, path.name, path, target, kind, size)


def sniff_kind(path: Path) -> FileKind:
    """Whether a file is a PDF or an image, by its first bytes rather than its name; anything
    else is an InputFileError that says to check what was scanned."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")):
        return "image"
    raise InputFileError(f"{path} is not a PDF, TIFF, PNG or JPEG file: check what was scanned")


def count_pages(archived: ArchivedFile) -> int:
    """How many pages an archived scan holds; InputFileError for a PDF or an image that cannot be
    read."""
    if archived.kind == "pdf":
        return pdf_page_count(archived.archived, str(archived.original))
    try:
        with Image.open(archived.archived) as image:
            return int(getattr(image, "n_frames", 1))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InputFileError(f"{archived.original} is not a readable image ({exc}): check the file "
                             "or rescan it") from exc


def iter_pages(archived: ArchivedFile, dpi: int, first: int = 1,
               last: int | None = None) -> Iterator[tuple[int, Image8]]:
    """(1-based page number, 8-bit grey image) for pages first..last of the file; colour
    pages are made grey by the channel where blue ink is dark (scan/grey.py)."""
    if archived.kind == "pdf":
        yield from iter_pdf_pages(archived.archived, str(archived.original), dpi, first, last)
        return
    try:
        with Image.open(archived.archived) as image:
            for index, frame in enumerate(ImageSequence.Iterator(image), start=1):
                if index < first:
                    continue
                if last is not None and index > last:
                    break
                width, height = frame.size
                if width * height > MAX_PAGE_PIXELS:
                    raise InputFileError(
                        f"{archived.original} page {index}: image of {width}x{height} pixels is "
                        f"over the limit of {MAX_PAGE_PIXELS:,} (a decompression bomb, or not a "
                        "page scan)")
                yield index, ink_grey(frame)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InputFileError(f"{archived.original} is not a readable image ({exc}): check the file "
                             "or rescan it") from exc
