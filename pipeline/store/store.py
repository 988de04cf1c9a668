"""The response store. One writer (the ingest flow) records each file in one transaction.

Works on SQLite (the workspace's default, in WAL mode) and PostgreSQL (by URL); opening a store
migrates it to the newest schema (pipeline/store/migrate.py, docs/store.md), or, for a command
that only reads, opens it read-only (engine.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Engine, insert, inspect, select, update
from sqlalchemy.engine import Connection, CursorResult

from pipeline.errors import WorkspaceError
from pipeline.fsutil import atomic_write_bytes
from pipeline.records import (
    ArchivedFile,
    Layout,
    OnlineNaming,
    OnlineRow,
    PageResult,
    PaperAnswer,
)
from pipeline.store import schema
from pipeline.store.answer_table import PAPER_COLUMNS, online_answer_table, paper_answer_table
from pipeline.store.contacts import read_contacts, replace_contacts
from pipeline.store.copies import (
    CopyPage,
    Reading,
    StoredCopy,
    copy_runs,
    differing_answers,
    in_standing_order,
)
from pipeline.store.engine import open_engine
from pipeline.store.online_naming import metadata_table, read_naming, record_naming
from pipeline.store.responses import PaperResponse, PaperReturn, paper_responses, paper_returns
from pipeline.store.review import (
    ReviewDecision,
    append_decision,
    decision_log,
)
from pipeline.store.upsert import upsert

BatchEnd = Literal["finished", "stopped", "interrupted"]
_UNSAFE_IN_FILE_NAME = re.compile(r"[^\w.-]")
PROBABLE_PHOTOCOPY = "probably a photocopy, another response"
REMINDED = ("the serial was sent a reminder, so this is the same person's second return (the "
            "first copy and the reminder copy): the copy read first counts")

__all__ = ["FileRecord", "PaperResponse", "PaperReturn", "ReviewDecision", "Store"]


def now_iso() -> str:
    """The time now, in UTC as ISO 8601 text to the second: how the store records every moment."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class FileRecord:
    """A scan file as the store last recorded it."""

    status: str  # read | rejected (for good) | error (to retry)
    error: str
    batch_id: int
    name: str  # the name it was read under


class Store:
    """The one way into the response store; open it with `Store.open`, use it in a `with`
    block (or call `close`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tables: frozenset[str] | None = None

    def has_table(self, name: str) -> bool:
        """Whether the store has this table: a read-only store is never migrated, so one older
        than a table lacks it. Asked of the database once per opened store."""
        if self._tables is None:
            with self.engine.connect() as conn:
                self._tables = frozenset(inspect(conn).get_table_names())
        return name in self._tables

    @classmethod
    def open(cls, url: str, read_only: bool = False) -> Store:
        """Connect and migrate to the newest schema; a store of a newer papertwin is refused.

        read_only: for commands that only read (export): a store on a read-only disk or in a
        read-only database is read as it is, never migrated and never written (engine.py)."""
        return cls(open_engine(url, read_only))

    def check_writable(self) -> None:
        """Say now, before a batch starts, that the store cannot be written; nothing changes."""
        with self.engine.connect() as conn, conn.begin() as transaction:
            conn.execute(update(schema.batches).where(schema.batches.c.id == -1)
                         .values(finished_at=None))
            transaction.rollback()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- batches and files -------------------------------------------------------------------

    def begin_batch(self, inputs: Sequence[str]) -> int:
        """Record a batch of these inputs (paths as given) begun now; returns its id."""
        with self.engine.begin() as conn:
            result = conn.execute(insert(schema.batches).values(
                started_at=now_iso(), inputs=json.dumps(list(inputs))))
            return _new_id(result)

    def unended_batches(self, inputs: Sequence[str], since: str) -> list[int]:
        """Batches of these inputs begun at or after `since` (ISO time) with no end recorded."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(schema.batches.c.id).where(
                schema.batches.c.inputs == json.dumps(list(inputs)),
                schema.batches.c.started_at >= since,
                schema.batches.c.finished_at.is_(None)))
            return [int(row.id) for row in rows]

    def finish_batch(self, batch_id: int) -> None:
        self.end_batch(batch_id, "finished")

    def end_batch(self, batch_id: int, ended: BatchEnd, reason: str = "") -> None:
        """When and how a batch ended; a batch stopped early says why."""
        with self.engine.begin() as conn:
            conn.execute(update(schema.batches).where(schema.batches.c.id == batch_id)
                         .values(finished_at=now_iso(), ended=ended,
                                 stop_reason=reason or None))

    def file_status(self, sha256: str) -> tuple[str, str] | None:
        """(status, error) of a file seen before: read, rejected (for good) or error (retry);
        None for content the store never saw."""
        record = self.file_record(sha256)
        return None if record is None else (record.status, record.error)

    def file_record(self, sha256: str) -> FileRecord | None:
        """How the store last recorded this content, or None when it never saw it."""
        f = schema.files
        with self.engine.connect() as conn:
            row = conn.execute(select(f.c.status, f.c.error, f.c.batch_id, f.c.name)
                               .where(f.c.sha256 == sha256)).first()
        if row is None:
            return None
        return FileRecord(str(row.status), str(row.error or ""), int(row.batch_id),
                          str(row.name))

    def record_file_error(self, batch_id: int, archived: ArchivedFile, error: str,
                          permanent: bool) -> None:
        """A file that cannot be read: rejected for good (corrupt, encrypted), or to retry."""
        with self.engine.begin() as conn:
            _forget_file(conn, archived.sha256)
            conn.execute(insert(schema.files).values(
                sha256=archived.sha256, name=archived.name, archived_path=str(archived.archived),
                size=archived.size, batch_id=batch_id,
                status="rejected" if permanent else "error", error=error))

    def record_file(self, batch_id: int, archived: ArchivedFile, results: Sequence[PageResult],
                    crops_dir: Path, error: str = "", permanent: bool = False) -> list[PageResult]:
        """Store every page of a file at once; returns the results as stored (duplicates marked).

        A file that failed part-way keeps the pages read; with status "error" a later run reads
        it again from the start, replacing what was stored; "rejected" files are not retried.
        """
        crop_paths = write_crops(results, crops_dir)
        stored: list[PageResult] = []
        read_at = now_iso()
        with self.engine.begin() as conn:
            _forget_file(conn, archived.sha256)
            conn.execute(insert(schema.files).values(
                sha256=archived.sha256, name=archived.name, archived_path=str(archived.archived),
                size=archived.size, batch_id=batch_id,
                status=("rejected" if permanent else "error") if error else "read",
                error=error or None, pages=len(results)))
            run_of = _copies_in(results)
            settled: dict[int, MarkedPage] = {}
            for at, result in enumerate(results):
                if at in run_of and at not in settled:
                    # A copy's pages are compared together, once the copies before it in
                    # this file are stored (a copy and its photocopy may share an envelope).
                    run = run_of[at]
                    settled.update(zip(run, reminded_returns(conn, settle_copy(
                        [_mark_duplicate(conn, results[i]) for i in run])), strict=True))
                marked = settled.get(at, MarkedPage(result))
                result = marked.result
                page_id = _new_id(conn.execute(insert(schema.pages).values(
                    file_sha256=archived.sha256, page_index=result.ref.index,
                    **_page_values(marked), read_at=read_at)))
                _insert_readings(conn, page_id, result, crop_paths)
                # A duplicate keeps its reading in the store (a person may choose it to stand),
                # but what it read counts nowhere, so the batch's summary does not see it.
                stored.append(replace(result, boxes=(), answers=())
                              if result.outcome == "duplicate" else result)
        return stored

    # -- reading back ------------------------------------------------------------------------

    def paper_answers(self, form_keys: Iterable[str]) -> list[PaperAnswer]:
        """Current answers: as read, or as the latest review decision has it (review.py);
        ordered by serial, page and question."""
        with self.engine.connect() as conn:
            table = paper_answer_table(conn, list(form_keys))
        table = table.sort_values(["serial", "page", "question"], kind="stable")
        return [PaperAnswer(*row) for row in
                table[list(PAPER_COLUMNS)].itertuples(index=False, name=None)]

    def answer_tables(self, form_keys: Sequence[str], questionnaire_id: str,
                      serials: Collection[str] | None = None,
                      online_ids: Collection[str] | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The paper answers of these forms (answer_table.PAPER_COLUMNS) and the online answers
        of the questionnaire (ONLINE_META, then a column per question), of these copies and
        online responses only when given; read in one connection, so they are of one moment."""
        with self.engine.connect() as conn:
            return (paper_answer_table(conn, form_keys, serials),
                    online_answer_table(conn, questionnaire_id, online_ids))

    def responses(self, layouts: Mapping[str, Layout]) -> list[PaperResponse]:
        """Each paper response of these forms, with the pages present and missing."""
        with self.engine.connect() as conn:
            return paper_responses(conn, layouts)

    def paper_returns(self, form_keys: Collection[str]) -> list[PaperReturn]:
        """Each paper response of these forms with when its first page was read: what the
        tracking of a mailing counts (pipeline/dataset/tracking.py)."""
        with self.engine.connect() as conn:
            return paper_returns(conn, form_keys)

    # -- review ------------------------------------------------------------------------------

    def record_decision(self, form_key: str, serial: str, question: str, new_value: str,
                        reviewer: str, why: str = "") -> ReviewDecision:
        """Append a person's decision; old_value is the value it replaces, taken in the same
        transaction. Decisions are never changed: a correction is a new decision."""
        with self.engine.begin() as conn:
            return append_decision(conn, form_key, serial, question, new_value, reviewer, why,
                                   now_iso())

    def review_log(self, form_key: str | None = None, serial: str | None = None,
                   question: str | None = None) -> list[ReviewDecision]:
        """Every decision, oldest first, optionally for one form, copy or question."""
        with self.engine.connect() as conn:
            return decision_log(conn, form_key, serial, question)

    # -- contacts ----------------------------------------------------------------------------

    def record_contacts(self, form_key: str, contacts: Mapping[str, Mapping[str, str]]) -> int:
        """Recipients of an addressed mailing by serial (forms build --recipients)."""
        with self.engine.begin() as conn:
            return replace_contacts(conn, form_key, contacts, now_iso())

    def contacts(self, form_key: str) -> dict[str, dict[str, str]]:
        """Serial -> the recipient's fields as given; empty for an anonymous mailing."""
        with self.engine.connect() as conn:
            return read_contacts(conn, form_key)

    def contact(self, form_key: str, serial: str) -> dict[str, str] | None:
        """One copy's recipient, or None (an anonymous copy)."""
        with self.engine.connect() as conn:
            return read_contacts(conn, form_key, serial).get(serial)

    def page_outcomes(self, batch_id: int | None = None) -> list[dict[str, Any]]:
        """Every stored page, or one batch's: its file's name, page index, outcome and reason,
        and the form key, serial and page it was identified as; in file name and page order."""
        p, f = schema.pages, schema.files
        query = (select(f.c.name, p.c.page_index, p.c.outcome, p.c.reason, p.c.form_key,
                        p.c.serial, p.c.page)
                 .join(f, f.c.sha256 == p.c.file_sha256).order_by(f.c.name, p.c.page_index))
        if batch_id is not None:
            query = query.where(f.c.batch_id == batch_id)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # -- online channel ----------------------------------------------------------------------

    def replace_online(self, questionnaire_id: str, rows: Sequence[OnlineRow],
                       naming: OnlineNaming | None = None) -> int:
        """Upsert by response id: importing the same export again changes nothing. `naming`,
        how the export named its columns, is recorded in the same transaction."""
        t = schema.online_responses
        imported_at = now_iso()
        encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for 100,000 rows
        with self.engine.begin() as conn:
            upsert(conn, t, [
                {"questionnaire_id": questionnaire_id, "response_id": r.response_id,
                 "submitted_at": r.submitted_at, "respondent_ref": r.respondent_ref,
                 "answers": encode(dict(r.answers)),
                 "source": r.source, "imported_at": imported_at,
                 "metadata": encode(dict(r.metadata))}
                for r in rows])
            if naming is not None:
                record_naming(conn, questionnaire_id, naming, imported_at)
        return len(rows)

    def online_naming(self, questionnaire_id: str) -> OnlineNaming | None:
        """How the questionnaire's online exports named their columns; None when no import
        recorded it (an import made before revision 0010)."""
        with self.engine.connect() as conn:
            return read_naming(conn, questionnaire_id)

    def online_metadata(self, questionnaire_id: str) -> pd.DataFrame:
        """Each online response's metadata values: response_id, then a column per metadata
        column of the tool's (empty where a response has none)."""
        with self.engine.connect() as conn:
            return metadata_table(conn, questionnaire_id)

    def online_rows(self, questionnaire_id: str) -> list[OnlineRow]:
        """The online responses imported for a questionnaire, oldest submission first, answers as
        imported."""
        t = schema.online_responses
        query = (select(t).where(t.c.questionnaire_id == questionnaire_id)
                 .order_by(t.c.submitted_at, t.c.response_id))
        with self.engine.connect() as conn:
            return [OnlineRow(row.response_id, row.submitted_at, row.respondent_ref,
                              json.loads(row.answers), row.source,
                              json.loads(row.metadata or "{}"))
                    for row in conn.execute(query)]


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise WorkspaceError("the store did not return the id of a new row")
    return int(key[0])


def _forget_file(conn: Connection, sha256: str) -> None:
    page_ids = select(schema.pages.c.id).where(schema.pages.c.file_sha256 == sha256)
    conn.execute(schema.answers.delete().where(schema.answers.c.page_id.in_(page_ids)))
    conn.execute(schema.boxes.delete().where(schema.boxes.c.page_id.in_(page_ids)))
    conn.execute(schema.pages.delete().where(schema.pages.c.file_sha256 == sha256))
    conn.execute(schema.files.delete().where(schema.files.c.sha256 == sha256))


def replace_page_reading(conn: Connection, page_id: int, result: PageResult,
                         crop_paths: Mapping[tuple[int, str], str]) -> PageResult:
    """Give a stored page a new reading (a person keyed what the reader could not), inside the
    caller's transaction; a copy of a page already identified elsewhere becomes a duplicate.
    Returns the result as stored."""
    (marked,) = reminded_returns(conn, settle_copy([_mark_duplicate(conn, result,
                                                                    except_page=page_id)]))
    result = marked.result
    conn.execute(update(schema.pages).where(schema.pages.c.id == page_id)
                 .values(**_page_values(marked), read_at=now_iso()))
    delete_readings(conn, [page_id])
    _insert_readings(conn, page_id, result, crop_paths)
    if not marked.photocopy:
        return result
    # A page keyed by hand joins the rest of its copy in the file: a photocopy, all of it.
    spread_photocopies(conn, result.ref.sha256)
    return result


def _page_values(marked: MarkedPage) -> dict[str, Any]:
    result = marked.result
    return {"outcome": result.outcome, "reason": result.reason, "form_key": result.form_key,
            "serial": result.serial, "page": result.page, "rotation": result.rotation,
            "alignment_quality": result.alignment_quality, "photocopy": marked.photocopy,
            "copy_of": marked.copy_of}


def delete_readings(conn: Connection, page_ids: Sequence[int]) -> None:
    """A page's boxes and answers, as the reader found them (people's decisions stay)."""
    conn.execute(schema.answers.delete().where(schema.answers.c.page_id.in_(page_ids)))
    conn.execute(schema.boxes.delete().where(schema.boxes.c.page_id.in_(page_ids)))


def _insert_readings(conn: Connection, page_id: int, result: PageResult,
                     crop_paths: Mapping[tuple[int, str], str]) -> None:
    if result.boxes:
        conn.execute(insert(schema.boxes), [
            {"page_id": page_id, "question": b.question, "value": b.value,
             "state": b.state, "fill": b.fill, "confidence": b.confidence}
            for b in result.boxes])
    if result.answers:
        conn.execute(insert(schema.answers), [
            {"page_id": page_id, "question": a.question, "value": a.value,
             "confidence": a.confidence, "needs_review": a.needs_review,
             "reason": a.reason,
             "crop_path": crop_paths.get((result.ref.index, a.question))}
            for a in result.answers])


@dataclass(frozen=True)
class Agreement:
    """A response whose copy of a page agrees with a page read again: the page rescans it."""

    serial: str  # the response's serial as stored ("<serial>-2" for a further response)
    copy_of: str | None
    reason: str


@dataclass(frozen=True)
class MarkedPage:
    """A page's result as it is stored, with what the store adds about a second copy."""

    result: PageResult
    photocopy: bool = False  # a duplicate whose answers differ from the copy read first
    copy_of: str | None = None  # the printed serial, when result.serial names a further response
    agrees: tuple[Agreement, ...] = ()  # of a duplicate: the responses it agrees with


def _mark_duplicate(conn: Connection, result: PageResult,
                    except_page: int | None = None) -> MarkedPage:
    """A second copy of a page already read stays on record, with its reading, but does not
    count (every query of answers and responses takes identified pages only) until a person
    chooses it to stand instead, or makes it another response (page_decisions.py).

    Its answers are compared with each response's copy of that page on this serial (copies.py):
    the responses it agrees with are those it may rescan; when it agrees with none, it is a
    probable photocopy. settle_copy decides for the copy as a whole."""
    if result.outcome != "identified":
        return MarkedPage(result)
    p, f = schema.pages, schema.files
    query = (select(p.c.id, p.c.serial, p.c.copy_of, f.c.name, p.c.page_index)
             .join(f, f.c.sha256 == p.c.file_sha256)
             .where(p.c.outcome == "identified", p.c.form_key == result.form_key,
                    p.c.page == result.page))
    if except_page is not None:
        query = query.where(p.c.id != except_page)
    # Two queries, each on an index of its own (pages_by_copy, pages_by_printed_copy): the
    # response the serial was printed for, and those made of photocopies of it.
    found = [row for same in (p.c.serial == result.serial, p.c.copy_of == result.serial)
             for row in conn.execute(query.where(same)).all()]
    # The copy that counts first (copies.in_standing_order): the response the serial was
    # printed for, then further ones in the order made.
    by_id = {int(r.id): r for r in found}
    candidates = [by_id[c.page_id] for c in in_standing_order(
        StoredCopy(page_id, True, r.copy_of is not None) for page_id, r in by_id.items())]
    if not candidates:
        return MarkedPage(result)
    readings = _readings(conn, [int(c.id) for c in candidates])
    mine = {a.question: Reading(a.value, a.needs_review) for a in result.answers}
    marked = {b.question for b in result.boxes}
    already = f"serial {result.serial} page {result.page} already read from"
    differ = {int(c.id): differing_answers(readings.get(int(c.id), {}), mine, marked)
              for c in candidates}
    agrees = tuple(
        Agreement(str(c.serial), c.copy_of, f"{already} {c.name} p{c.page_index}"
                  + (f" (response {c.serial})" if c.copy_of else ""))
        for c in candidates if not differ[int(c.id)])
    first = candidates[0]
    named = ", ".join(differ[int(first.id)][:4]) + (", ..." if len(differ[int(first.id)]) > 4
                                                   else "")
    return MarkedPage(replace(
        result, outcome="duplicate",
        reason=f"{already} {first.name} p{first.page_index}; {PROBABLE_PHOTOCOPY}: answers "
               f"differ ({named})"), photocopy=not agrees, agrees=agrees)


def settle_copy(marks: Sequence[MarkedPage]) -> list[MarkedPage]:
    """The pages of one copy (one scan file's run of pages of a serial) decided together: a
    rescan of the response that every one of its duplicate pages agrees with (the response the
    serial was printed for, if it is one), else a probable photocopy in all of them, the pages
    that differ from no copy (a page left blank on both) included."""
    duplicates = [m for m in marks if m.result.outcome == "duplicate"]
    if not duplicates:
        return list(marks)
    common = [a.serial for a in duplicates[0].agrees
              if all(any(b.serial == a.serial for b in m.agrees) for m in duplicates[1:])]
    settled = []
    for mark in marks:
        if mark.result.outcome != "duplicate" or (not common and mark.photocopy):
            settled.append(mark)
        elif common:
            chosen = next(a for a in mark.agrees if a.serial == common[0])
            settled.append(replace(mark, result=replace(mark.result, serial=chosen.serial,
                                                        reason=chosen.reason),
                                   copy_of=chosen.copy_of, photocopy=False))
        else:
            page = mark.result
            settled.append(replace(mark, photocopy=True, result=replace(
                page, reason=f"serial {page.serial} page {page.page} read before; "
                             f"{PROBABLE_PHOTOCOPY}: other pages of this copy differ from "
                             "every copy read before")))
    return settled


def reminded_returns(conn: Connection, marks: Sequence[MarkedPage]) -> list[MarkedPage]:
    """A second copy of a serial that was sent a reminder is that person's second return (the
    original and the reminder copy both came back), not a photocopy handed to someone else:
    it stays a duplicate, and the copy read first counts (docs/reminders.md)."""
    settled = []
    for mark in marks:
        page = mark.result
        if mark.photocopy and _was_reminded(conn, page.form_key, page.serial):
            mark = replace(mark, photocopy=False, result=replace(
                page, reason=f"serial {page.serial} page {page.page} read before; {REMINDED}"))
        settled.append(mark)
    return settled


def _was_reminded(conn: Connection, form_key: str, serial: str) -> bool:
    """Whether a reminder copy of this serial was printed (store/reminders.py): then two copies
    of it may come back from the one person it was addressed to."""
    t = schema.reminders
    return conn.execute(select(t.c.id).where(t.c.form_key == form_key, t.c.serial == serial)
                        .limit(1)).first() is not None


def _copies_in(results: Sequence[PageResult]) -> dict[int, list[int]]:
    """Position of each identified page in a file -> the positions of its copy's pages."""
    identified = [at for at, r in enumerate(results) if r.outcome == "identified"]
    run_of: dict[int, list[int]] = {}
    for run in copy_runs([CopyPage(results[at].form_key, results[at].serial, results[at].page)
                          for at in identified]):
        positions = [identified[i] for i in run]
        run_of.update((at, positions) for at in positions)
    return run_of


def _readings(conn: Connection, page_ids: Sequence[int]) -> dict[int, dict[str, Reading]]:
    """The answers of these pages as the reader found them, by page id and question."""
    a = schema.answers
    found: dict[int, dict[str, Reading]] = {}
    for row in conn.execute(select(a.c.page_id, a.c.question, a.c.value, a.c.needs_review)
                            .where(a.c.page_id.in_(page_ids))):
        found.setdefault(int(row.page_id), {})[str(row.question)] = Reading(
            str(row.value), bool(row.needs_review))
    return found


def spread_photocopies(conn: Connection, file_sha256: str) -> None:
    """A copy with a page that is a probable photocopy is one in all its pages: its other
    duplicate pages in this file follow it (for a page keyed by hand after the rest of its
    file was stored; settle_copy does it as a file is stored)."""
    p = schema.pages
    rows = conn.execute(select(p.c.id, p.c.page_index, p.c.outcome, p.c.form_key, p.c.serial,
                               p.c.copy_of, p.c.page, p.c.photocopy)
                        .where(p.c.file_sha256 == file_sha256,
                               p.c.outcome.in_(("identified", "duplicate")))
                        .order_by(p.c.page_index)).all()
    pages = [CopyPage(str(r.form_key), str(r.copy_of or r.serial), int(r.page)) for r in rows]
    for run in copy_runs(pages):
        if not any(rows[at].photocopy for at in run):
            continue
        for at in run:
            row, page = rows[at], pages[at]
            if row.outcome != "duplicate" or row.photocopy:
                continue
            conn.execute(update(p).where(p.c.id == row.id).values(
                photocopy=True, serial=page.serial, copy_of=None,
                reason=f"serial {page.serial} page {page.page} read before; "
                       f"{PROBABLE_PHOTOCOPY}: other pages of this copy differ from every copy "
                       "read before"))


def file_safe(name: str) -> str:
    """A question's name as one file name: a repeat's `member[2]/age` as `member%5B2%5D%2Fage`.

    Letters, digits, _ . - stay as they are; anything else is %-escaped, '%' included, so two
    names never share a file.
    """
    return _UNSAFE_IN_FILE_NAME.sub(
        lambda m: "".join(f"%{byte:02X}" for byte in m[0].encode()), name)


def write_crops(results: Sequence[PageResult], crops_dir: Path) -> dict[tuple[int, str], str]:
    """The crops of these results as files (before the transaction that names them: a crop
    without a row is harmless, a row without its crop is not); (page index, question) -> path."""
    paths: dict[tuple[int, str], str] = {}
    for result in results:
        for answer in result.answers:
            if answer.crop_png:
                name = file_safe(answer.question)
                target = (crops_dir / result.form_key / result.serial /
                          f"p{result.page}-{name}-{result.ref.sha256[:8]}.png")
                atomic_write_bytes(target, answer.crop_png)
                paths[(result.ref.index, answer.question)] = str(target)
    return paths


