"""A batch of scan files, from paths to stored page results: the steps the ingest flow runs.

Files are archived and counted first; their pages are then read in chunks, so that one long scan
file keeps every worker busy; each file's results are stored in one transaction once all its
chunks are read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from pipeline.errors import InputFileError, ProgramFailedError, UsageError
from pipeline.fsutil import atomic_write_bytes
from pipeline.ingest.letters import register_file_letters
from pipeline.programs import check_programs
from pipeline.read.identify import CODE_UNREADABLE
from pipeline.read.page import (
    CHECK_NEIGHBOURS,
    CHECK_SERIAL,
    ReaderSettings,
    read_keyed_page,
    read_page,
)
from pipeline.records import ArchivedFile, Layout, PageCode, PageRef, PageResult
from pipeline.registry import registered_layouts
from pipeline.scan.intake import (
    MAX_PAGES_PER_FILE,
    SetAside,
    archive_file,
    collect_inputs,
    count_pages,
    iter_pages,
)
from pipeline.store.store import BatchEnd, PaperResponse, Store
from pipeline.workspace import Workspace

CHUNK_PAGES = 48  # pages read by one task: large enough that task overhead does not show


@dataclass(frozen=True)
class PageChunk:
    archived: ArchivedFile
    first: int  # 1-based, inclusive
    last: int


@dataclass(frozen=True)
class BatchPlan:
    batch_id: int
    to_read: tuple[ArchivedFile, ...]
    already_read: tuple[ArchivedFile, ...]
    set_aside: tuple[SetAside, ...]
    layouts: dict[str, Layout]
    chunks: tuple[PageChunk, ...] = ()


@dataclass(frozen=True)
class FileReading:
    archived: ArchivedFile
    pages: tuple[PageResult, ...] = ()
    error: str = ""
    permanent: bool = False  # the error is in the file itself: reading it again will not help
    seconds: tuple[tuple[str, float], ...] = ()  # time spent per stage
    pages_from_cache: int = 0  # pages an earlier run had read, taken from the chunk cache


@dataclass(frozen=True)
class PageLine:
    file: str
    index: int
    outcome: str
    reason: str
    serial: str = ""
    page: int = 0


@dataclass(frozen=True)
class BatchSummary:
    batch_id: int
    files_read: int
    files_already_read: int
    set_aside: tuple[SetAside, ...]
    pages: tuple[PageLine, ...] = field(default_factory=tuple)
    answers: int = 0
    flagged: int = 0
    seconds: tuple[tuple[str, float], ...] = ()  # time per stage, summed over all workers
    incomplete: tuple[PaperResponse, ...] = ()  # responses this batch touched that lack a page
    pages_from_cache: int = 0  # pages an earlier, interrupted run had read already

    @property
    def outcomes(self) -> dict[str, int]:
        """How many of the batch's pages had each outcome (identified, blank, unreadable, ...)."""
        return dict(Counter(p.outcome for p in self.pages))


@contextlib.contextmanager
def batch_store(workspace: Workspace, store: Store | None) -> Iterator[Store]:
    """The store a caller holds open for the batch, or the workspace's, opened until the step
    ends: callers outside a flow (scripts, tests) need not hold one."""
    if store is not None:
        yield store
        return
    with Store.open(workspace.store_url) as opened:
        yield opened


def check_can_ingest(workspace: Workspace) -> None:
    """Before any work: the programs are there, and the workspace and its store take writes
    (a read-only or full workspace is said in one line, not found half-way through a batch).
    The one check of the programs a batch makes: plan_batch trusts it."""
    check_programs()
    workspace.check_writable()
    with Store.open(workspace.store_url) as store:
        store.check_writable()


def plan_batch(paths: Sequence[Path], workspace: Workspace,
               max_pages: int = MAX_PAGES_PER_FILE, store: Store | None = None) -> BatchPlan:
    """Archive every input by content hash; leave out files whose pages were all read before,
    and set aside files of more than max_pages pages. A batch stopped by a workspace or store
    that cannot be written says so in its record.

    The programs are not checked again here: check_can_ingest did so before the batch began
    (a program gone since is still said plainly, by the step that runs it). `store`: the one
    the caller holds open for the whole batch (the ingest flow), else one opened for this step."""
    workspace.ensure().check_writable()
    with batch_store(workspace, store) as held:
        layouts = registered_layouts(workspace, held)
        files, set_aside = collect_inputs(paths)
        batch_id = held.begin_batch([str(p) for p in paths])
        try:
            to_read, already, chunks, refused = _plan_files(held, batch_id, files, workspace,
                                                            max_pages)
        except BaseException as exc:
            stop_batch(held, batch_id, exc)
            raise
    return BatchPlan(batch_id, tuple(to_read), tuple(already), (*set_aside, *refused), layouts,
                     tuple(chunks))


def _plan_files(store: Store, batch_id: int, files: Sequence[Path], workspace: Workspace,
                max_pages: int) -> tuple[list[ArchivedFile], list[ArchivedFile],
                                         list[PageChunk], list[SetAside]]:
    """Files to read, files read before, the chunks to read, and the files set aside."""
    to_read: list[ArchivedFile] = []
    already: list[ArchivedFile] = []
    chunks: list[PageChunk] = []
    set_aside: list[SetAside] = []
    seen: set[str] = set()
    for path in files:
        try:
            archived = archive_file(path, workspace)
        except InputFileError as exc:
            set_aside.append(SetAside(str(path), str(exc)))
            continue
        status = store.file_status(archived.sha256)
        if archived.sha256 in seen or (status is not None and status[0] != "error"):
            already.append(archived)
            seen.add(archived.sha256)
            if status is not None and status[0] == "rejected":
                set_aside.append(SetAside(str(path), f"{status[1]} (set aside before)"))
            continue
        seen.add(archived.sha256)
        try:
            pages = count_pages(archived)
        except (InputFileError, ProgramFailedError) as exc:
            store.record_file_error(batch_id, archived, str(exc),
                                    permanent=isinstance(exc, InputFileError))
            set_aside.append(SetAside(str(path), str(exc)))
            continue
        if pages > max_pages:
            # Not for good: the same file is read by a batch given a higher --max-pages.
            reason = (f"{path} has {pages:,} pages, more than the {max_pages:,} papertwin "
                      "reads from one file: split the scan into smaller files, or give "
                      "--max-pages if it really is one batch")
            store.record_file_error(batch_id, archived, reason, permanent=False)
            set_aside.append(SetAside(str(path), reason))
            continue
        to_read.append(archived)
        chunks += split_pages(archived, pages)
    return to_read, already, chunks, set_aside


def stop_batch(store: Store, batch_id: int, exc: BaseException) -> None:
    """Record that a batch stopped early, and why; when the store itself is what failed, there
    is nothing more to record, and the error that stopped the batch is the one to report."""
    interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
    ended: BatchEnd = "interrupted" if interrupted else "stopped"
    reason = ("interrupted (Ctrl-C, or the process was told to stop)" if interrupted
              else str(exc) or exc.__class__.__name__)
    with contextlib.suppress(Exception):
        store.end_batch(batch_id, ended, reason)


def stop_batch_in(workspace: Workspace, batch_id: int, exc: BaseException,
                  store: Store | None = None) -> None:
    """stop_batch in the store the flow holds, or the workspace's opened for it."""
    with contextlib.suppress(Exception), batch_store(workspace, store) as held:
        stop_batch(held, batch_id, exc)


def stop_unplanned_batch_in(workspace: Workspace, paths: Sequence[Path], since: str,
                           exc: BaseException) -> None:
    """A batch begun for these paths since `since` whose plan never reached the flow (the
    process was interrupted as the planning task ended) is recorded as stopped, like any other."""
    with contextlib.suppress(Exception), Store.open(workspace.store_url) as store:
        for batch_id in store.unended_batches([str(p) for p in paths], since):
            stop_batch(store, batch_id, exc)


def split_pages(archived: ArchivedFile, pages: int) -> list[PageChunk]:
    """Equal chunks of at most CHUNK_PAGES, an even number of them when there are several, so
    that two workers finish together."""
    count = -(-pages // CHUNK_PAGES)
    if count > 1 and count % 2:
        count += 1
    size = -(-pages // count)
    return [PageChunk(archived, first, min(first + size - 1, pages))
            for first in range(1, pages + 1, size)]


def read_chunk(chunk: PageChunk, layouts: dict[str, Layout],
               settings: ReaderSettings) -> FileReading:
    """Pages first..last of one archived file; a bad file or page is recorded, never raised."""
    return _read_pages(chunk, layouts, settings, raise_transient=False)


def read_chunk_cached(chunk: PageChunk, layouts: dict[str, Layout], settings: ReaderSettings,
                      workspace: Workspace) -> FileReading:
    """Like read_chunk, but a chunk read completely before (same file content, pages and
    settings) comes from the workspace's cache, so a rerun after a crash skips finished work;
    and a program that crashed or timed out raises ProgramFailedError, so the caller can try
    again, since a second run of the program may well succeed. A bad file is still recorded."""
    path = chunk_cache_path(chunk, settings, workspace)
    if path.is_file():
        try:
            cached = pickle.loads(path.read_bytes())  # noqa: S301 - written by read_chunk_cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError,
                ImportError):
            cached = None  # damaged, or written by a papertwin whose classes lived elsewhere
        if isinstance(cached, FileReading) and cached.archived.sha256 == chunk.archived.sha256:
            return replace(cached, archived=chunk.archived, pages_from_cache=len(cached.pages))
    reading = _read_pages(chunk, layouts, settings, raise_transient=True)
    if not reading.error:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, pickle.dumps(reading))
    return reading


def chunk_cache_path(chunk: PageChunk, settings: ReaderSettings, workspace: Workspace) -> Path:
    """sha256 of the file, the page range and every reader setting: any change reads again."""
    key = json.dumps([chunk.archived.sha256, chunk.first, chunk.last, asdict(settings)],
                     sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()
    return workspace.cache_dir / "chunks" / digest[:2] / f"{digest}.pickle"


def chunk_not_read(chunk: PageChunk, error: BaseException) -> FileReading:
    """A chunk whose reading failed however often it was tried: recorded as a file error that
    a later batch reads again (not permanent: the file itself may be sound)."""
    archived = chunk.archived
    detail = str(error).replace(str(archived.archived), archived.name)
    return FileReading(archived, error=f"{archived.original} could not be read (pages "
                                       f"{chunk.first}-{chunk.last}): {detail}; try again later",
                       permanent=isinstance(error, InputFileError))


def _read_pages(chunk: PageChunk, layouts: dict[str, Layout], settings: ReaderSettings,
                raise_transient: bool) -> FileReading:
    archived = chunk.archived
    results: list[PageResult] = []
    seconds: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    try:
        for index, image in iter_pages(archived, settings.dpi, chunk.first, chunk.last):
            decoded = time.perf_counter()
            seconds["decode"] += decoded - started
            ref = PageRef(archived.sha256, archived.name, index)
            try:
                result = read_page(image, ref, layouts, settings)
            except ProgramFailedError as exc:
                if raise_transient:
                    raise
                result = PageResult(ref, "unreadable", f"page could not be read: {exc}")
            results.append(result)
            for stage, spent in result.timings:
                seconds[stage] += spent
            started = time.perf_counter()
    except (InputFileError, ProgramFailedError) as exc:
        if raise_transient and not isinstance(exc, InputFileError):
            raise
        # Name the file as the mailroom knows it, not by its place in the archive.
        detail = str(exc).replace(str(archived.archived), archived.name)
        at = chunk.first + len(results)
        return FileReading(archived, tuple(results),
                           error=f"{archived.original} could not be read (at page {at}): "
                                 f"{detail}; check the file or rescan it",
                           permanent=isinstance(exc, InputFileError),
                           seconds=tuple(seconds.items()))
    return FileReading(archived, tuple(results), seconds=tuple(seconds.items()))


def join_chunks(readings: Sequence[FileReading], layouts: dict[str, Layout],
                settings: ReaderSettings) -> FileReading:
    """The chunks of one file, in page order, as one reading; pages whose code and key could not
    be read are named by the pages beside them (read_by_neighbours)."""
    pages = assemble_responses(tuple(p for r in readings for p in r.pages))
    pages = read_by_neighbours(readings[0].archived, pages, layouts, settings)
    failed = next((r for r in readings if r.error), None)
    seconds: dict[str, float] = defaultdict(float)
    for reading in readings:
        for stage, spent in reading.seconds:
            seconds[stage] += spent
    return FileReading(readings[0].archived, pages, failed.error if failed else "",
                       failed.permanent if failed else False, tuple(seconds.items()),
                       sum(r.pages_from_cache for r in readings))


def neighbour_codes(pages: Sequence[PageResult],
                    layouts: dict[str, Layout]) -> dict[int, PageCode]:
    """Page codes for pages with our corner marks whose code and printed key could not be read,
    from the identified pages beside them in the file (blank pages between do not count), by
    position in `pages`. A run of such pages between pages k and k+n+1 of one copy is pages
    k+1..k+n of it; a run after the last page read of a copy, or before the first, continues
    that copy when only one of the two can, the pages exist, and the file holds none of them
    already; a run between pages of two copies that neither can continue alone is the rest of
    the first and the start of the second when it is exactly as long as those. Anything else is
    ambiguous, and left for a person."""
    seen = {(p.form_key, p.serial, p.page) for p in pages if p.outcome == "identified"}
    found: dict[int, PageCode] = {}
    position = 0
    while position < len(pages):
        if not _unread_form_page(pages[position]):
            position += 1
            continue
        end = position
        while end < len(pages) and (_unread_form_page(pages[end])
                                    or pages[end].outcome == "blank"):
            end += 1
        run = [i for i in range(position, end) if _unread_form_page(pages[i])]
        before = _identified_beside(pages, position, -1, layouts)
        after = _identified_beside(pages, end - 1, 1, layouts)
        codes = _run_codes(before, after, len(run), layouts)
        if codes is not None and not any((c.form_key, c.serial, c.page) in seen for c in codes):
            found.update(zip(run, codes, strict=True))
        position = end
    return found


def _unread_form_page(page: PageResult) -> bool:
    """Registered on our marks, but neither the code nor the printed key could be read."""
    return page.outcome == "unreadable" and page.reason.startswith(CODE_UNREADABLE)


def _identified_beside(pages: Sequence[PageResult], start: int, step: int,
                       layouts: dict[str, Layout]) -> PageResult | None:
    """The nearest page before (step -1) or after (+1) `start`, blank pages skipped, if it is an
    identified page of one of our forms."""
    position = start + step
    while 0 <= position < len(pages) and pages[position].outcome == "blank":
        position += step
    if not 0 <= position < len(pages):
        return None
    page = pages[position]
    layout = layouts.get(page.form_key)
    if page.outcome != "identified" or layout is None or layout.page_codes is not None:
        return None
    return page


def _run_codes(before: PageResult | None, after: PageResult | None, count: int,
               layouts: dict[str, Layout]) -> list[PageCode] | None:
    """The codes of `count` unread pages between `before` and `after`, or None if ambiguous."""
    def pages_of(page: PageResult) -> set[int]:
        return {p.page for p in layouts[page.form_key].pages}

    forward = backward = None
    if before is not None and all(before.page + k in pages_of(before)
                                  for k in range(1, count + 1)):
        forward = [PageCode(before.form_key, before.serial, before.page + k)
                   for k in range(1, count + 1)]
    if after is not None and all(after.page - k in pages_of(after) for k in range(1, count + 1)):
        backward = [PageCode(after.form_key, after.serial, after.page - count + k)
                    for k in range(count)]
    if (before is not None and after is not None and before.form_key == after.form_key
            and before.serial == after.serial):
        return forward if forward == backward else None
    if forward is not None and backward is not None:
        return None
    if forward is None and backward is None and before is not None and after is not None:
        return _across_copies(before, after, count, layouts)
    return forward or backward


def _across_copies(before: PageResult, after: PageResult, count: int,
                   layouts: dict[str, Layout]) -> list[PageCode] | None:
    """The codes of `count` unread pages between pages of two copies, when they are exactly the
    rest of the first copy and the start of the second: two copies that each came back whole and
    in order, whose pages between the two known ones could be nothing else (None otherwise)."""
    rest = [p.page for p in layouts[before.form_key].pages if p.page > before.page]
    start = [p.page for p in layouts[after.form_key].pages if p.page < after.page]
    if not rest or not start or len(rest) + len(start) != count:
        return None
    return ([PageCode(before.form_key, before.serial, page) for page in rest]
            + [PageCode(after.form_key, after.serial, page) for page in start])


def _either_side(pages: Sequence[PageResult], position: int, code: PageCode) -> bool:
    """Whether pages of the same copy were read on both sides of the unread run that holds
    `position`, before and after it in page order: two readings of whose page it is that agree,
    where a page read on one side only leaves the other side open to a page out of place."""
    def nearest(step: int) -> PageResult | None:
        at = position + step
        while 0 <= at < len(pages) and (pages[at].outcome == "blank"
                                        or _unread_form_page(pages[at])):
            at += step
        return pages[at] if 0 <= at < len(pages) else None

    before, after = nearest(-1), nearest(1)
    return (before is not None and after is not None
            and all(p.outcome == "identified" and (p.form_key, p.serial)
                    == (code.form_key, code.serial) for p in (before, after))
            and before.page < code.page < after.page)


def read_by_neighbours(archived: ArchivedFile, pages: tuple[PageResult, ...],
                       layouts: dict[str, Layout],
                       settings: ReaderSettings) -> tuple[PageResult, ...]:
    """The pages neighbour_codes names, read again from the archived file as those pages; unless
    pages of the same copy lie on both sides (or the bold serial confirms it), their answers go
    to a person, who confirms whose they are. A page that cannot be read again stays as it was."""
    codes = neighbour_codes(pages, layouts)
    if not codes:
        return pages
    result = list(pages)
    for position, code in sorted(codes.items()):
        source = "pages either side" if _either_side(pages, position, code) else "neighbours"
        result[position] = _read_as(archived, pages[position], code, source, layouts, settings)
    # A run of several pages: those whose bold serial confirmed them are known, and a page of
    # the run between two known pages of its copy has them on both sides, as if read.
    for position, code in sorted(codes.items()):
        if _to_confirm(result[position]) and _between_known(result, position, code):
            result[position] = _read_as(archived, pages[position], code, "pages either side",
                                        layouts, settings)
    return tuple(result)


def _read_as(archived: ArchivedFile, page: PageResult, code: PageCode, source: str,
             layouts: dict[str, Layout], settings: ReaderSettings) -> PageResult:
    """The page read again as `code`; as it was, when it cannot be read again."""
    try:
        for _, image in iter_pages(archived, settings.dpi, page.ref.index, page.ref.index):
            return read_keyed_page(image, page.ref, layouts, code, settings, source=source)
    except (InputFileError, ProgramFailedError, UsageError):
        pass
    return page


def _to_confirm(page: PageResult) -> bool:
    """Whether a person is asked to confirm whose page this is."""
    return page.outcome != "identified" or any(
        CHECK_NEIGHBOURS in a.reason or CHECK_SERIAL in a.reason for a in page.answers)


def _between_known(pages: Sequence[PageResult], position: int, code: PageCode) -> bool:
    """Whether the nearest pages before and after `position` (blank pages skipped) are pages of
    the same copy as `code`, around it in page order, and known to be: read from their own
    code, or confirmed by their bold serial."""
    def nearest(step: int) -> PageResult | None:
        at = position + step
        while 0 <= at < len(pages) and pages[at].outcome == "blank":
            at += step
        return pages[at] if 0 <= at < len(pages) else None

    before, after = nearest(-1), nearest(1)
    return (before is not None and after is not None
            and all(p.outcome == "identified" and not _to_confirm(p)
                    and (p.form_key, p.serial) == (code.form_key, code.serial)
                    for p in (before, after))
            and before.page < code.page < after.page)


def assemble_responses(pages: tuple[PageResult, ...]) -> tuple[PageResult, ...]:
    """Give pages of forms printed without a copy serial (imported queXF forms) a response of
    their own: consecutive pages of one form in a file make one response, and a page number
    that does not follow the one before starts the next. The serial names the file by its hash,
    so it is the same however often the batch is read."""
    assembled: list[PageResult] = []
    count = 0
    previous: PageResult | None = None
    for page in pages:
        if page.outcome != "identified" or page.serial:
            assembled.append(page)
            continue
        if previous is None or previous.form_key != page.form_key or page.page <= previous.page:
            count += 1
        previous = page
        assembled.append(replace(page, serial=f"{page.ref.sha256[:10]}.{count}"))
    return tuple(assembled)


def store_reading(reading: FileReading, batch_id: int, workspace: Workspace,
                  store: Store | None = None) -> FileReading:
    """Write one file's results in one transaction; returns them as stored. `store`: the one
    the caller holds open for the batch, else one opened for this file."""
    with batch_store(workspace, store) as held:
        if reading.error and not reading.pages:
            held.record_file_error(batch_id, reading.archived, reading.error, reading.permanent)
            return reading
        stored = held.record_file(batch_id, reading.archived, reading.pages,
                                  workspace.crops_dir, reading.error, reading.permanent)
        if any(p.outcome == "not_a_form" for p in stored):  # letters (ingest/letters.py)
            register_file_letters(held, reading.archived, stored,
                                  registered_layouts(workspace, held))
    return replace(reading, pages=tuple(stored))


def summarise_batch(plan: BatchPlan, readings: Sequence[FileReading],
                    workspace: Workspace, store: Store | None = None) -> BatchSummary:
    """The batch ended as finished, and what it did, file by file and page by page."""
    touched = {(p.form_key, p.serial) for r in readings for p in r.pages
               if p.outcome == "identified"}
    with batch_store(workspace, store) as held:
        held.finish_batch(plan.batch_id)
        incomplete = tuple(r for r in held.responses(plan.layouts)
                           if not r.complete and (r.form_key, r.serial) in touched)
    set_aside = list(plan.set_aside)
    lines: list[PageLine] = []
    answers = flagged = from_cache = 0
    seconds: dict[str, float] = defaultdict(float)
    for reading in readings:
        from_cache += reading.pages_from_cache
        for stage, spent in reading.seconds:
            seconds[stage] += spent
        if reading.error:
            set_aside.append(SetAside(str(reading.archived.original), reading.error))
        for page in reading.pages:
            lines.append(PageLine(reading.archived.name, page.ref.index, page.outcome,
                                  page.reason, page.serial, page.page))
            answers += sum(1 for a in page.answers if a.value)
            flagged += sum(1 for a in page.answers if a.needs_review)
    return BatchSummary(plan.batch_id, len(readings), len(plan.already_read), tuple(set_aside),
                        tuple(lines), answers, flagged, tuple(seconds.items()), incomplete,
                        from_cache)
