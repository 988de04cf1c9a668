"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import NotWritableError

# What an operator must fix before papertwin can write: not a bug, and no retry helps.
UNWRITABLE = {
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is used up",
}


def unwritable_reason(exc: OSError) -> str | None:
    """Why a write failed, when it is the place (read-only, full) rather than papertwin; None
    for any other error."""
    return UNWRITABLE.get(exc.errno or 0)


def not_writable(path: Path, exc: OSError) -> NotWritableError:
    """The error for an OSError met writing `path`: what is wrong with the place and what to do
    (free some space, make it writable). It is returned for the caller to raise."""
    reason = unwritable_reason(exc) or exc.strerror or str(exc)
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    misplaced = exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOENT)
    fix = ("free some space" if full else "choose another place for it" if misplaced
           else "make it writable")
    return NotWritableError(f"cannot write {path}: {reason}; {fix}, then run the command again")


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Errors that say `path` (a file or folder being written) is read-only or full become
    NotWritableError naming it; any other error passes unchanged."""
    try:
        yield
    except OSError as exc:
        if unwritable_reason(exc) is None:
            raise
        raise not_writable(path, exc) from exc


def probe_writable(folder: Path) -> None:
    """Create and drop a file in the folder: whether it takes a write is known only by trying
    (root ignores permissions, a read-only mount does not)."""
    with writing(folder), tempfile.TemporaryFile(dir=folder, prefix=".papertwin-probe"):
        pass


def make_folder(path: Path) -> Path:
    """mkdir -p, with a read-only or full disk said as such."""
    with writing(path):
        path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A file handle whose content appears at `path` only when the block ends without error."""
    make_folder(path.parent)
    with writing(path.parent):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        # A write to the handle names no file; an error of the caller's own names its file.
        if unwritable_reason(exc) is None or exc.filename not in (None, tmp_name, str(path)):
            raise
        raise not_writable(path, exc) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` at once (atomic_writer), its folder made if need be; a
    read-only or full disk is a NotWritableError."""
    with atomic_writer(path) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """`atomic_write_bytes` of the text as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(source: Path, target: Path) -> None:
    """Copy a file so that target appears complete or not at all."""
    atomic_write_bytes(target, source.read_bytes())


def sha256_file(path: Path) -> str:
    """The file's SHA-256 as hex, read a MiB at a time: the content hash scans are archived and
    recognised by."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
