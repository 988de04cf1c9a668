"""The work waiting for a person, and what people have done about it.

A flagged answer waits until a decision for its form, serial and question is in the review log;
one referred to a supervisor leaves reviewers' queues until a supervisor decides it. The queue's
order (batch, then question in questionnaire order, then serial) keeps a reviewer on one question
across many returns, which is how mailroom staff work fastest. What is stored, and the queries,
are pipeline/store/review_queue.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.errors import NotFoundError
from pipeline.records import Layout
from pipeline.store import review_queue as stored
from pipeline.store.review import AnswerKey
from pipeline.store.review_queue import (
    BatchRow,
    FieldItem,
    QueueCount,
    Referral,
    box_readings,
    decide,
    next_in_question,
    refer,
)
from pipeline.store.store import Store

__all__ = [
    "BatchRow",
    "FieldItem",
    "QueueCount",
    "Referral",
    "ReviewerRate",
    "batch_overview",
    "box_readings",
    "decide",
    "field_item",
    "flagged_fields",
    "next_in_question",
    "next_item",
    "queue_counts",
    "refer",
    "reviewer_rates",
]

UNLISTED = 10**6  # a question the questionnaire no longer lists goes after the rest


@dataclass(frozen=True)
class ReviewerRate:
    reviewer: str
    last_hour: int
    today: int
    per_hour: float  # today's decisions over the hours between their first and last today
    total: int


def flagged_fields(store: Store, layouts: Mapping[str, Layout],
                   referred: bool | None = False) -> list[FieldItem]:
    """Undecided flagged answers, in queue order. referred: False leaves out answers referred
    to a supervisor (a reviewer's queue), True gives only those, None gives all."""
    items = [i for i in stored.undecided_answers(store, list(layouts))
             if referred is None or (i.referral is not None) == referred]
    order = _question_order(layouts)
    return sorted(items, key=lambda i: (i.batch_id, i.form_key,
                                        order[i.form_key].get(i.question, UNLISTED), i.serial))


def field_item(store: Store, layouts: Mapping[str, Layout], key: AnswerKey) -> FieldItem:
    """One answer whether or not it still waits: a person may open a decided one again."""
    if key[0] not in layouts:
        raise NotFoundError(f"form {key[0]} is not registered in this workspace")
    return stored.field_item(store, key)


def next_item(items: Sequence[FieldItem], after: AnswerKey | None) -> FieldItem | None:
    """The item after the given one in queue order (wrapping round), or the first; None when
    nothing else waits."""
    if not items:
        return None
    if after is not None:
        keys = [i.key for i in items]
        if after in keys:
            rest = items[keys.index(after) + 1:]
            if rest:
                return rest[0]
            return items[0] if items[0].key != after else None
    return items[0]


def queue_counts(store: Store, layouts: Mapping[str, Layout]) -> list[QueueCount]:
    """The queue by batch and question, in queue order."""
    order = _question_order(layouts)
    return sorted(stored.waiting_counts(store, list(layouts)),
                  key=lambda c: (c.batch_id, c.form_key,
                                 order[c.form_key].get(c.question, UNLISTED)))


def reviewer_rates(store: Store, now: datetime | None = None) -> list[ReviewerRate]:
    """Decisions per person: answers, pages and dual-channel pairs alike."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    hour_ago = (moment - timedelta(hours=1)).isoformat()
    midnight = moment.replace(hour=0, minute=0, second=0).isoformat()
    rates = []
    for reviewer, stamps in sorted(stored.decision_times(store).items()):
        today = sorted(s for s in stamps if s >= midnight)
        span = 1.0
        if len(today) > 1:
            first, last = (datetime.fromisoformat(today[0]), datetime.fromisoformat(today[-1]))
            span = max(1.0, (last - first).total_seconds() / 3600)
        rates.append(ReviewerRate(reviewer, sum(s >= hour_ago for s in stamps), len(today),
                                  round(len(today) / span, 1), len(stamps)))
    return rates


def batch_overview(store: Store, counts: Sequence[QueueCount]) -> list[BatchRow]:
    """Batches received, newest first, with pages by outcome and answers still waiting."""
    waiting: Counter[int] = Counter()
    for count in counts:
        waiting[count.batch_id] += count.waiting + count.referred
    return stored.batch_rows(store, waiting)


def _question_order(layouts: Mapping[str, Layout]) -> dict[str, dict[str, int]]:
    """Form key -> question -> its place in the questionnaire."""
    return {key: {q.name: i for i, q in enumerate(layout.questionnaire.questions)}
            for key, layout in layouts.items()}
