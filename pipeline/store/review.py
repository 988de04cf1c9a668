"""Review decisions: an append-only log; the current value of a paper answer follows from it.

A person's decision is never updated or deleted: a second thought is a new decision whose
old_value is the first one's new_value. The latest decision (highest id: ids only grow, on SQLite
and PostgreSQL alike, while two decisions can share a second) for a form, serial and question
overrides what the reader found on every page that question spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.engine import Connection

from pipeline.errors import WorkspaceError
from pipeline.store import schema


@dataclass(frozen=True)
class ReviewDecision:
    id: int
    form_key: str
    serial: str
    question: str
    old_value: str
    new_value: str
    reviewer: str
    decided_at: str
    why: str


AnswerKey = tuple[str, str, str]  # form key, serial, question


def latest_decisions(conn: Connection, form_keys: Sequence[str]) -> dict[AnswerKey, ReviewDecision]:
    """The latest decision for each answer of these forms a person has decided, by (form key,
    serial, question): the one whose value stands."""
    t = schema.review_decisions
    latest = (select(func.max(t.c.id)).where(t.c.form_key.in_(form_keys))
              .group_by(t.c.form_key, t.c.serial, t.c.question))
    return {(d.form_key, d.serial, d.question): d
            for d in _decisions(conn, select(t).where(t.c.id.in_(latest)))}


def decision_log(conn: Connection, form_key: str | None, serial: str | None,
                 question: str | None) -> list[ReviewDecision]:
    """Every decision, oldest first; only one form's, copy's or question's where that is given
    (None: any)."""
    t = schema.review_decisions
    query = select(t).order_by(t.c.id)
    if form_key is not None:
        query = query.where(t.c.form_key == form_key)
    if serial is not None:
        query = query.where(t.c.serial == serial)
    if question is not None:
        query = query.where(t.c.question == question)
    return _decisions(conn, query)


def current_value(conn: Connection, form_key: str, serial: str, question: str) -> str:
    """The latest decision's value, else the reader's, pages joined as the dataset joins them."""
    decided = latest_decisions(conn, [form_key]).get((form_key, serial, question))
    if decided is not None:
        return decided.new_value
    p, a = schema.pages, schema.answers
    values = conn.execute(
        select(a.c.value).join(p, p.c.id == a.c.page_id)
        .where(p.c.outcome == "identified", p.c.form_key == form_key, p.c.serial == serial,
               a.c.question == question)
        .order_by(p.c.page)
    ).scalars().all()
    if not values:
        raise WorkspaceError(f"no answer to '{question}' was read from copy {serial} of "
                             f"{form_key}: there is nothing to decide")
    return " ".join(str(v) for v in values if v)


def append_decision(conn: Connection, form_key: str, serial: str, question: str,
                    new_value: str, reviewer: str, why: str, decided_at: str) -> ReviewDecision:
    """Append a decision in the caller's transaction, its old_value the answer's value until now;
    returns it as stored. WorkspaceError when no reviewer is named."""
    if not reviewer.strip():
        raise WorkspaceError("a review decision needs the reviewer's name")
    old_value = current_value(conn, form_key, serial, question)
    result = conn.execute(insert(schema.review_decisions).values(
        form_key=form_key, serial=serial, question=question, old_value=old_value,
        new_value=new_value, reviewer=reviewer, decided_at=decided_at, why=why))
    key = result.inserted_primary_key
    if key is None:
        raise WorkspaceError("the store did not return the id of a new review decision")
    return ReviewDecision(int(key[0]), form_key, serial, question, old_value, new_value,
                          reviewer, decided_at, why)


def _decisions(conn: Connection, query: Select[Any]) -> list[ReviewDecision]:
    return [ReviewDecision(int(r.id), r.form_key, r.serial, r.question, r.old_value,
                           r.new_value, r.reviewer, r.decided_at, r.why)
            for r in conn.execute(query)]
