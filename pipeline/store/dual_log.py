"""Decisions about one person found on paper and online: an append-only log, like the review
log of answers (review.py). A second thought is a new decision; the latest one for a pair (highest
id) is the one the export follows, over the analyst's policy (pipeline/dataset/dualchannel.py).
The online responses that name a paper copy, where the pairs to decide come from, are read here
too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, func, insert, select
from sqlalchemy.engine import Connection

from pipeline.errors import UsageError, WorkspaceError
from pipeline.store import schema
from pipeline.store.store import Store, now_iso

Pair = tuple[str, str]  # paper response id, online response id
# What a person may decide about a pair: keep both, keep one, or they are different people.
DualKept = Literal["both", "paper", "online", "different"]
KEPT_CHOICES: tuple[DualKept, ...] = ("both", "paper", "online", "different")


@dataclass(frozen=True)
class DualDecision:
    id: int
    paper_response_id: str
    online_response_id: str
    kept: str  # both | paper | online | different
    reviewer: str
    decided_at: str
    why: str


def record_dual_decision(store: Store, paper_response_id: str, online_response_id: str,
                         kept: str, reviewer: str, why: str = "") -> DualDecision:
    """Append a person's decision about one pair; never changed: a correction is a new one."""
    if kept not in KEPT_CHOICES:
        raise UsageError(f"dual-channel decision {kept!r}: it is one of {', '.join(KEPT_CHOICES)}")
    if not reviewer.strip():
        raise WorkspaceError("a dual-channel decision needs the reviewer's name")
    if not paper_response_id or not online_response_id:
        raise UsageError("a dual-channel decision names both the paper and the online response")
    decided_at = now_iso()
    with store.engine.begin() as conn:
        result = conn.execute(insert(schema.dual_decisions).values(
            paper_response_id=paper_response_id, online_response_id=online_response_id,
            kept=kept, reviewer=reviewer, decided_at=decided_at, why=why))
    key = result.inserted_primary_key
    if key is None:
        raise WorkspaceError("the store did not return the id of a new dual-channel decision")
    return DualDecision(int(key[0]), paper_response_id, online_response_id, kept, reviewer,
                        decided_at, why)


def dual_decisions(store: Store) -> dict[Pair, DualDecision]:
    """The latest decision per pair (highest id: two decisions can share a second)."""
    t = schema.dual_decisions
    latest = select(func.max(t.c.id)).group_by(t.c.paper_response_id, t.c.online_response_id)
    with store.engine.connect() as conn:
        found = _decisions(conn, select(t).where(t.c.id.in_(latest)))
    return {(d.paper_response_id, d.online_response_id): d for d in found}


def dual_decision_log(store: Store) -> list[DualDecision]:
    """Every dual-channel decision, oldest first: who decided what, and why."""
    t = schema.dual_decisions
    with store.engine.connect() as conn:
        return _decisions(conn, select(t).order_by(t.c.id))


def decided_kept(store: Store) -> dict[Pair, str]:
    """What the latest decisions keep, as dualchannel.apply_policy takes them."""
    return {pair: d.kept for pair, d in dual_decisions(store).items()}


def referring_online(store: Store, questionnaire_id: str) -> list[tuple[str, str]]:
    """(online response id, respondent ref) of the online responses that name a paper copy: with
    a match file's pairs, the only rows a pair can be made of."""
    t = schema.online_responses
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.c.response_id, t.c.respondent_ref)
                            .where(t.c.questionnaire_id == questionnaire_id,
                                   t.c.respondent_ref != "")).all()
    return [(str(r.response_id), str(r.respondent_ref)) for r in rows]


def _decisions(conn: Connection, query: Select[Any]) -> list[DualDecision]:
    return [DualDecision(int(r.id), r.paper_response_id, r.online_response_id, r.kept,
                         r.reviewer, r.decided_at, r.why)
            for r in conn.execute(query)]
