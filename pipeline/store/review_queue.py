"""The answers waiting for a person, as stored: flagged answers no decision covers yet, referrals
to a supervisor, and what the review app's overview counts (the queue by question, decisions by
person, batches).

The log of decisions itself, and how an answer's value follows from it, is review.py: ingest and
the dataset read it too, while this module serves the review app alone. The queue's order is the
app's (pipeline/review/queue.py); what is here is in the order the database keeps it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.engine import Connection

from pipeline.errors import NotFoundError, UsageError, WorkspaceError
from pipeline.records import flag_of
from pipeline.store import schema
from pipeline.store.review import AnswerKey, ReviewDecision, append_decision, latest_decisions
from pipeline.store.store import Store, now_iso

__all__ = [
    "BatchRow",
    "FieldItem",
    "QueueCount",
    "Referral",
    "batch_rows",
    "box_readings",
    "decide",
    "decision_times",
    "field_item",
    "next_in_question",
    "refer",
    "undecided_answers",
    "waiting_counts",
]


@dataclass(frozen=True)
class FieldItem:
    """One flagged answer: a question of one returned copy."""

    form_key: str
    serial: str
    question: str
    batch_id: int
    page: int
    value: str  # the reader's guess ("" when it would not guess)
    confidence: float
    reason: str
    source: str  # "<file name> p<page index>"
    crop_path: str | None
    referral: Referral | None = None

    @property
    def key(self) -> AnswerKey:
        return (self.form_key, self.serial, self.question)

    @property
    def flag(self) -> str:
        """The category the reason starts with, or "flagged" when it names none."""
        return flag_of(self.reason) or "flagged"


@dataclass(frozen=True)
class Referral:
    id: int
    referred_by: str
    referred_at: str
    note: str


@dataclass(frozen=True)
class QueueCount:
    batch_id: int
    form_key: str
    question: str
    waiting: int
    referred: int


@dataclass(frozen=True)
class BatchRow:
    batch_id: int
    started_at: str
    finished_at: str
    files: int
    files_set_aside: int
    outcomes: Mapping[str, int]  # pages by outcome
    fields_waiting: int
    ended: str = ""  # finished | stopped | interrupted; "" while running (or killed)
    stop_reason: str = ""


# -- the queue -----------------------------------------------------------------------------------

def undecided_answers(store: Store, form_keys: Sequence[str]) -> list[FieldItem]:
    """Flagged answers of these forms that no decision covers, each with its open referral;
    by batch, form, serial and page (an answer spanning pages as its first flagged page)."""
    p, a, f = schema.pages, schema.answers, schema.files
    with store.engine.connect() as conn:
        decided = latest_decisions(conn, form_keys)
        referrals = _open_referrals(conn, form_keys)
        rows = conn.execute(
            select(p.c.form_key, p.c.serial, p.c.page, p.c.page_index, f.c.name, f.c.batch_id,
                   a.c.question, a.c.value, a.c.confidence, a.c.reason, a.c.crop_path)
            .join(p, p.c.id == a.c.page_id).join(f, f.c.sha256 == p.c.file_sha256)
            .where(p.c.outcome == "identified", p.c.form_key.in_(list(form_keys)),
                   a.c.needs_review.is_(True))
            .order_by(f.c.batch_id, p.c.form_key, p.c.serial, p.c.page)).all()
    items: dict[AnswerKey, FieldItem] = {}
    for row in rows:
        key = (row.form_key, row.serial, row.question)
        if key in decided or key in items:
            continue
        items[key] = FieldItem(row.form_key, row.serial, row.question, int(row.batch_id),
                               int(row.page), row.value, float(row.confidence), row.reason,
                               f"{row.name} p{row.page_index}", row.crop_path,
                               referrals.get(key))
    return list(items.values())


def field_item(store: Store, key: AnswerKey) -> FieldItem:
    """One answer whether or not it still waits: a person may open a decided one again."""
    p, a, f = schema.pages, schema.answers, schema.files
    with store.engine.connect() as conn:
        row = conn.execute(
            select(p.c.page, p.c.page_index, f.c.name, f.c.batch_id, a.c.value, a.c.confidence,
                   a.c.reason, a.c.crop_path)
            .join(p, p.c.id == a.c.page_id).join(f, f.c.sha256 == p.c.file_sha256)
            .where(p.c.outcome == "identified", p.c.form_key == key[0], p.c.serial == key[1],
                   a.c.question == key[2])
            # The page that flagged it, as the queue shows it; else the first the question is on.
            .order_by(a.c.needs_review.desc(), p.c.page)).first()
        referral = _open_referrals(conn, [key[0]], key).get(key)
    if row is None:
        raise NotFoundError(f"copy {key[1]} of {key[0]} has no answer to {key[2]!r}")
    return FieldItem(*key, int(row.batch_id), int(row.page), row.value, float(row.confidence),
                     row.reason, f"{row.name} p{row.page_index}", row.crop_path, referral)


def next_in_question(store: Store, after: AnswerKey, batch_id: int,
                     referred: bool = False) -> AnswerKey | None:
    """The next waiting answer to the same question in the same batch, by serial: what follows
    a decision almost every time, found without going through the whole queue. None when no
    later serial waits."""
    p, a, f = schema.pages, schema.answers, schema.files
    d, r = schema.review_decisions, schema.review_referrals
    decided = exists().where(d.c.form_key == p.c.form_key, d.c.serial == p.c.serial,
                             d.c.question == a.c.question)
    waiting_for_supervisor = exists().where(
        r.c.form_key == p.c.form_key, r.c.serial == p.c.serial, r.c.question == a.c.question,
        r.c.settled_by.is_(None))
    with store.engine.connect() as conn:
        row = conn.execute(
            select(p.c.serial)
            .join(p, p.c.id == a.c.page_id).join(f, f.c.sha256 == p.c.file_sha256)
            .where(p.c.outcome == "identified", p.c.form_key == after[0],
                   p.c.serial > after[1], a.c.question == after[2],
                   a.c.needs_review.is_(True), f.c.batch_id == batch_id, ~decided,
                   waiting_for_supervisor if referred else ~waiting_for_supervisor)
            .order_by(p.c.serial).limit(1)).first()
    return None if row is None else (after[0], str(row.serial), after[2])


def box_readings(store: Store, item: FieldItem) -> dict[str, tuple[str, float]]:
    """What the reader saw in each box of a choice answer: choice -> (state, ink share)."""
    p, b = schema.pages, schema.boxes
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(b.c.value, b.c.state, b.c.fill).join(p, p.c.id == b.c.page_id)
            .where(p.c.outcome == "identified", p.c.form_key == item.form_key,
                   p.c.serial == item.serial, b.c.question == item.question))
        return {str(r.value): (str(r.state), float(r.fill)) for r in rows}


# -- decisions and referrals ---------------------------------------------------------------------

def decide(store: Store, key: AnswerKey, value: str, reviewer: str, why: str) -> ReviewDecision:
    """Log a decision and settle any referral of the same answer, in one transaction."""
    r = schema.review_referrals
    with store.engine.begin() as conn:
        decision = append_decision(conn, *key, value, reviewer, why, now_iso())
        conn.execute(update(r).where(r.c.form_key == key[0], r.c.serial == key[1],
                                     r.c.question == key[2], r.c.settled_by.is_(None))
                     .values(settled_by=decision.id))
    return decision


def refer(store: Store, key: AnswerKey, reviewer: str, note: str) -> Referral:
    """Send an answer to a supervisor; it leaves reviewers' queues until one decides it."""
    if not reviewer.strip():
        raise WorkspaceError("a referral needs the reviewer's name")
    r = schema.review_referrals
    with store.engine.begin() as conn:
        if key in _open_referrals(conn, [key[0]], key):
            raise UsageError(f"{key[2]} of copy {key[1]} is already waiting for a supervisor")
        at = now_iso()
        result = conn.execute(insert(r).values(form_key=key[0], serial=key[1], question=key[2],
                                               referred_by=reviewer, referred_at=at,
                                               note=note.strip()))
        ident = result.inserted_primary_key
        if ident is None:
            raise WorkspaceError("the store did not return the id of a new referral")
    return Referral(int(ident[0]), reviewer, at, note.strip())


def _open_referrals(conn: Connection, form_keys: Sequence[str],
                    only: AnswerKey | None = None) -> dict[AnswerKey, Referral]:
    r = schema.review_referrals
    query = select(r).where(r.c.form_key.in_(list(form_keys)), r.c.settled_by.is_(None))
    if only is not None:
        query = query.where(r.c.serial == only[1], r.c.question == only[2])
    rows = conn.execute(query.order_by(r.c.id))
    return {(row.form_key, row.serial, row.question):
            Referral(int(row.id), row.referred_by, row.referred_at, row.note) for row in rows}


# -- the overview --------------------------------------------------------------------------------

def waiting_counts(store: Store, form_keys: Sequence[str]) -> list[QueueCount]:
    """Undecided flagged answers by batch, form and question, counted by the database: the
    overview of a national consultation's queue costs no row per answer in Python."""
    p, a, f = schema.pages, schema.answers, schema.files
    d, r = schema.review_decisions, schema.review_referrals
    decided = exists().where(d.c.form_key == p.c.form_key, d.c.serial == p.c.serial,
                             d.c.question == a.c.question)
    referred = exists().where(r.c.form_key == p.c.form_key, r.c.serial == p.c.serial,
                              r.c.question == a.c.question, r.c.settled_by.is_(None))
    waiting = (select(f.c.batch_id, p.c.form_key, p.c.serial, a.c.question,
                      referred.label("referred"))
               .join(p, p.c.id == a.c.page_id).join(f, f.c.sha256 == p.c.file_sha256)
               .where(p.c.outcome == "identified", p.c.form_key.in_(list(form_keys)),
                      a.c.needs_review.is_(True), ~decided)
               .distinct().subquery())
    with store.engine.connect() as conn:
        rows = conn.execute(select(waiting.c.batch_id, waiting.c.form_key, waiting.c.question,
                                   waiting.c.referred, func.count())
                            .group_by(waiting.c.batch_id, waiting.c.form_key,
                                      waiting.c.question, waiting.c.referred)).all()
    counted: dict[tuple[int, str, str], list[int]] = {}
    for batch_id, form_key, question, is_referred, n in rows:
        slot = counted.setdefault((int(batch_id), str(form_key), str(question)), [0, 0])
        slot[1 if is_referred else 0] += int(n)
    return [QueueCount(b, k, q, n[0], n[1]) for (b, k, q), n in sorted(counted.items())]


def decision_times(store: Store) -> dict[str, list[str]]:
    """When each person decided something (ISO times): answers, pages and dual-channel pairs
    alike, for the rates the overview shows."""
    times: dict[str, list[str]] = defaultdict(list)
    with store.engine.connect() as conn:
        for table in (schema.review_decisions, schema.page_decisions, schema.dual_decisions):
            for row in conn.execute(select(table.c.reviewer, table.c.decided_at)):
                times[str(row.reviewer)].append(str(row.decided_at))
    return dict(times)


def batch_rows(store: Store, waiting: Mapping[int, int]) -> list[BatchRow]:
    """Batches received, newest first, with their files, pages by outcome, and the answers
    `waiting` says still wait for a person in each."""
    b, f, p = schema.batches, schema.files, schema.pages
    with store.engine.connect() as conn:
        batches = conn.execute(select(b).order_by(b.c.id.desc())).all()
        files = conn.execute(select(f.c.batch_id, f.c.status, func.count())
                             .group_by(f.c.batch_id, f.c.status)).all()
        pages = conn.execute(select(f.c.batch_id, p.c.outcome, func.count())
                             .join(f, f.c.sha256 == p.c.file_sha256)
                             .group_by(f.c.batch_id, p.c.outcome)).all()
    file_counts: dict[int, Counter[str]] = defaultdict(Counter)
    for batch_id, status, n in files:
        file_counts[int(batch_id)][str(status)] += int(n)
    outcomes: dict[int, dict[str, int]] = defaultdict(dict)
    for batch_id, outcome, n in pages:
        outcomes[int(batch_id)][str(outcome)] = int(n)
    return [BatchRow(int(row.id), row.started_at, row.finished_at or "",
                     sum(file_counts[int(row.id)].values()),
                     file_counts[int(row.id)]["rejected"] + file_counts[int(row.id)]["error"],
                     outcomes[int(row.id)], waiting.get(int(row.id), 0), row.ended or "",
                     row.stop_reason or "")
            for row in batches]
