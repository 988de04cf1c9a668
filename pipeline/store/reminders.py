"""The reminders printed for addressed copies that had not come back, one round after another.

A reminder is a letter and a fresh copy of the questionnaire with the same serial; the row
here says which copy was reminded, in which round and when, so the next run knows the round and
the tracking knows how many replied after it. The same table tells the store that a second copy
of a reminded serial is the same person's second return, not a photocopy (store.py,
`reminded_returns`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select

from pipeline.store import schema
from pipeline.store.channels import channel_responses
from pipeline.store.store import Store, now_iso


@dataclass(frozen=True)
class AddressedCopy:
    """A copy printed for a recipient of the mailing list, as the store's contacts keep it."""

    form_key: str
    serial: str
    fields: dict[str, str]
    recorded_at: str  # when the copy was printed (its contacts recorded), ISO 8601 UTC


@dataclass(frozen=True)
class Reminder:
    questionnaire_id: str
    form_key: str
    serial: str
    round: int
    after: str  # the --after date (ISO) the reminder was printed for
    issued_at: str = ""


def addressed_copies(store: Store, form_keys: Collection[str]) -> list[AddressedCopy]:
    """Every addressed copy of these forms, by form key and serial."""
    t = schema.contacts
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.c.form_key, t.c.serial, t.c.fields, t.c.recorded_at)
                            .where(t.c.form_key.in_(list(form_keys)))
                            .order_by(t.c.form_key, t.c.serial)).all()
    return [AddressedCopy(str(row.form_key), str(row.serial),
                          {str(k): str(v) for k, v in json.loads(row.fields).items()},
                          str(row.recorded_at)) for row in rows]


def record_reminders(store: Store, reminders: Sequence[Reminder]) -> tuple[Reminder, ...]:
    """Keep the reminders printed, all at once; returns them with the time they were issued."""
    issued_at = now_iso()
    with store.engine.begin() as conn:
        if reminders:
            conn.execute(insert(schema.reminders), [
                {"questionnaire_id": r.questionnaire_id, "form_key": r.form_key,
                 "serial": r.serial, "round": r.round, "after": r.after, "issued_at": issued_at}
                for r in reminders])
    return tuple(Reminder(r.questionnaire_id, r.form_key, r.serial, r.round, r.after, issued_at)
                 for r in reminders)


def reminders_sent(store: Store, questionnaire_id: str) -> list[Reminder]:
    """Every reminder printed for the questionnaire's copies, oldest first; none in a store older
    than the table (a read-only store is never migrated)."""
    t = schema.reminders
    if not store.has_table(t.name):
        return []
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.questionnaire_id == questionnaire_id)
                            .order_by(t.c.id)).all()
    return [Reminder(str(r.questionnaire_id), str(r.form_key), str(r.serial), int(r.round),
                     str(r.after), str(r.issued_at)) for r in rows]


def responded_serials(store: Store, questionnaire_id: str, form_keys: Collection[str]) -> set[str]:
    """The serials of the questionnaire with a response on some channel: scanned (the serial
    printed on the pages, any form key given), keyed, phoned or a letter linked to it, or
    online giving it as the respondent reference."""
    paper = {r.printed_serial for r in store.paper_returns(form_keys)}
    online = {row.respondent_ref.strip() for row in store.online_rows(questionnaire_id)}
    keyed = {r.serial for r in channel_responses(store, [questionnaire_id], received=True)}
    return (paper | online | keyed) - {""}
