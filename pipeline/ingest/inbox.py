"""The watched inbox: which dropped files are complete, and where each goes once it is stored.

A scanner or a colleague copies files into the inbox folder; papertwin must not read a file that
is still being written, must not read the same content twice, and must leave the inbox holding
only what it has not dealt with yet. Files read go to INBOX/processed/, files papertwin cannot
read go to INBOX/quarantine/ with `NAME.reason.txt` beside them, and only after the store has
committed their results, so a crash never loses a file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pipeline.errors import UsageError
from pipeline.fsutil import atomic_copy, atomic_write_text, sha256_file
from pipeline.ingest.batch import BatchSummary
from pipeline.store.engine import sqlite_file
from pipeline.store.store import FileRecord, Store
from pipeline.terminal import shown
from pipeline.workspace import Workspace

PROCESSED = "processed"
QUARANTINE = "quarantine"
REASON_SUFFIX = ".reason.txt"
LOCK_NAME = ".papertwin-watch.lock"
DEFAULT_SETTLE = 5.0  # seconds a file must stay the same size before it is read
DEFAULT_INTERVAL = 10.0  # seconds between two passes of `papertwin watch`
# Names that copying tools give a file while they write it, before renaming it into place.
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download")

Folder = Literal["processed", "quarantine", "inbox"]


@dataclass(frozen=True)
class Look:
    """What one look at a file saw: a file still growing changes between two looks."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Filed:
    """Where one dropped file went, and why, as the person watching the inbox is told."""

    name: str  # its name in the inbox
    folder: Folder  # "inbox": left where it was, to be tried again on the next pass
    path: Path  # where it is now
    reason: str = ""  # empty for a file read in this pass
    reason_file: Path | None = None
    batch_id: int | None = None


@dataclass(frozen=True)
class InboxPass:
    """One pass over the inbox: the batch it ingested (if any) and where each file went."""

    summary: BatchSummary | None = None
    filed: tuple[Filed, ...] = ()
    busy: bool = False  # another watcher held the inbox: nothing was done

    @property
    def quarantined(self) -> int:
        return sum(1 for f in self.filed if f.folder == QUARANTINE)

    @property
    def processed(self) -> int:
        """Files this pass read, stored and moved to processed/."""
        return sum(1 for f in self.filed if f.folder == PROCESSED)


def check_inbox(inbox: Path, workspace: Workspace) -> Path:
    """The inbox, resolved, once it is sure that papertwin will never read its own output.

    Refused: an inbox that is not an existing folder; the workspace folder, its archive, crops or
    layouts folder, or a SQLite store file, being the inbox or lying inside it; the inbox lying
    inside the workspace's archive, crops or layouts folder; processed/ or quarantine/ existing
    as something other than a folder. An inbox inside the workspace folder itself is allowed.
    """
    resolved = inbox.expanduser().resolve()
    if not resolved.exists():
        raise UsageError(f"inbox {inbox} does not exist: create the folder or check the path")
    if not resolved.is_dir():
        raise UsageError(f"inbox {inbox} is not a folder: watch the folder the scans arrive in")
    outputs = [("workspace", workspace.root), ("workspace's archive", workspace.archive_dir),
               ("workspace's crops folder", workspace.crops_dir),
               ("workspace's layouts folder", workspace.layouts_dir)]
    store_file = sqlite_file(workspace.store_url)
    if store_file is not None:
        outputs.append(("store file", store_file))
    for label, output in outputs:
        output = output.expanduser().resolve()
        if output == resolved or output.is_relative_to(resolved):
            raise UsageError(
                f"the {label} {output} lies inside the inbox {resolved}: papertwin would read "
                "its own output; put the workspace outside the inbox (--workspace) or watch "
                "another folder")
    for label, output in outputs[1:4]:
        output = output.expanduser().resolve()
        if resolved.is_relative_to(output):
            raise UsageError(
                f"the inbox {resolved} lies inside the {label} {output}: papertwin writes "
                "there itself; watch a folder of its own")
    for name in (PROCESSED, QUARANTINE):
        sub = resolved / name
        if sub.exists() and not sub.is_dir():
            raise UsageError(f"{sub} is not a folder: papertwin moves files into "
                             f"{name}/ inside the inbox; rename or remove that file")
    return resolved


def look(inbox: Path) -> dict[Path, Look]:
    """The files waiting in the inbox: its own regular files, not in a sub-folder, not hidden,
    and not named as a copy in progress."""
    found: dict[Path, Look] = {}
    for entry in os.scandir(inbox):
        name = entry.name
        if name.startswith(".") or name.lower().endswith(IN_PROGRESS_SUFFIXES):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # taken away while we looked
        found[Path(entry.path)] = Look(stat.st_size, stat.st_mtime_ns)
    return found


def settled_files(inbox: Path, settle: float) -> list[Path]:
    """Files that have stopped growing, in name order.

    Two conditions, because either alone can be fooled: the file was last written at least
    `settle` seconds ago (by its own time stamp), and a second look `settle` seconds after the
    first finds its size and time stamp unchanged (copying tools that keep the original's time
    stamp still grow the file between the looks).
    """
    first = look(inbox)
    now_ns = time.time_ns()
    old = {path: seen for path, seen in first.items()
           if now_ns - seen.mtime_ns >= settle * 1e9}
    if not old:
        return []
    time.sleep(settle)
    second = look(inbox)
    return sorted(path for path, seen in old.items() if second.get(path) == seen)


@contextlib.contextmanager
def inbox_lock(inbox: Path) -> Iterator[bool]:
    """Hold the inbox for one pass; yields False when another watcher holds it, so two
    watchers of one folder (a served deployment and a terminal) never read the same file."""
    with (inbox / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def file_away(files: Sequence[Path], summary: BatchSummary, inbox: Path,
              workspace: Workspace) -> list[Filed]:
    """Move each file of the batch by what the store committed for its content: read in this
    batch or before (processed/), rejected (quarantine/); a file to retry, or one that changed
    since it was read, stays in the inbox for the next pass."""
    set_aside = {item.path: item.reason for item in summary.set_aside}
    filed: list[Filed] = []
    seen: set[str] = set()
    with Store.open(workspace.store_url) as store:
        for path in files:
            if not path.exists():
                continue
            try:
                digest = sha256_file(path)
            except OSError as exc:
                filed.append(Filed(path.name, "inbox", path,
                                   f"cannot be read now ({exc.strerror}): tried again next pass"))
                continue
            earlier = store.file_record(digest)
            repeat = digest in seen
            seen.add(digest)
            filed.append(_file_one(path, digest, earlier, repeat, summary.batch_id,
                                   set_aside.get(str(path)), inbox))
    return filed


def _file_one(path: Path, digest: str, earlier: FileRecord | None, repeat: bool, batch_id: int,
              set_aside: str | None, inbox: Path) -> Filed:
    if earlier is None:
        if set_aside is not None:  # never archived: empty, not a scan, unreadable
            return move(path, inbox / QUARANTINE, set_aside, digest, batch_id)
        return Filed(path.name, "inbox", path,
                     "changed since it was read: read again on the next pass")
    before = earlier.batch_id != batch_id or repeat
    if earlier.status == "read":
        if not before:
            return move(path, inbox / PROCESSED, "", digest, batch_id)
        return move(path, inbox / PROCESSED,
                    f"already ingested in batch {earlier.batch_id} as {earlier.name}: "
                    "not read again", digest, batch_id)
    if earlier.status == "rejected":
        if not before:
            return move(path, inbox / QUARANTINE, earlier.error, digest, batch_id)
        return move(path, inbox / QUARANTINE,
                    f"already set aside in batch {earlier.batch_id} as {earlier.name}: "
                    f"{earlier.error}", digest, batch_id)
    return Filed(path.name, "inbox", path,
                 f"not read this time ({earlier.error}): tried again on the next pass",
                 batch_id=batch_id)


def move(path: Path, folder: Path, reason: str, digest: str, batch_id: int) -> Filed:
    """Move a file into folder under its own name, or NAME-2, NAME-3... when that is taken;
    never overwriting a file or a reason file already there. The reason file is written before
    the file leaves the inbox, so a file in quarantine/ is never without its reason."""
    folder.mkdir(exist_ok=True)
    while True:
        target = _free_name(folder, path.name)
        try:
            os.link(path, target)  # claims the name atomically, or fails if it is taken
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            _write_reason(target, reason, path.name, digest, batch_id)
            _move_without_link(path, target)
            break
        _write_reason(target, reason, path.name, digest, batch_id)
        path.unlink()
        break
    reason_file = _reason_path(target) if reason else None
    kind: Folder = "processed" if folder.name == PROCESSED else "quarantine"
    return Filed(path.name, kind, target, reason, reason_file, batch_id)


def _move_without_link(path: Path, target: Path) -> None:
    """Where hard links are not possible (another file system, some network shares); the inbox
    lock keeps other watchers from taking the name meanwhile."""
    try:
        path.rename(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        atomic_copy(path, target)
        path.unlink()


def _free_name(folder: Path, name: str) -> Path:
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 1
    while True:
        candidate = folder / (name if number == 1 else f"{stem}-{number}{suffix}")
        if not candidate.exists() and not _reason_path(candidate).exists():
            return candidate
        number += 1


def _reason_path(target: Path) -> Path:
    return target.with_name(target.name + REASON_SUFFIX)


def _write_reason(target: Path, reason: str, name: str, digest: str, batch_id: int) -> None:
    """A text file for people: the reason and the name are escaped (pipeline/terminal.py), so a
    file's name cannot forge the lines below them."""
    if not reason:
        return
    moved = datetime.now(UTC).replace(microsecond=0).isoformat()
    atomic_write_text(_reason_path(target),
                      f"{shown(reason)}\n\nfile: {shown(name)}\nsha256: {digest}\n"
                      f"batch: {batch_id}\nmoved: {moved}\n")


def describe(item: Filed) -> str:
    """One line for the terminal: the file, where it went, and why (names escaped)."""
    name, reason = shown(item.name), shown(item.reason)
    where = f"{item.folder}/{shown(item.path.name)}"
    if item.folder == "inbox":
        return f"{name}: left in the inbox: {reason}"
    if item.folder == PROCESSED and not item.reason:
        return f"{name}: read in batch {item.batch_id}; moved to {where}"
    return f"{name}: {reason}; moved to {where}"
