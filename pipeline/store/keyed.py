"""Keyed responses: what a person typed in, from a phone call or a paper return.

A response (channels.py) has one entry, or under double entry two: the second keyed blind by
another person. Where the two differ, a decision settles the field; a decision may also correct a
field later. Nothing is overwritten: the entries stay as keyed, every decision is kept, and the
latest decision on a field wins. A response under double entry is settled once both entries are in
and every field where they differ has a decision; until then it has no answers to export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select

from pipeline.errors import UsageError, WorkspaceError
from pipeline.store import schema
from pipeline.store.channels import ChannelResponse, channel_response, channel_responses
from pipeline.store.store import Store, now_iso

KEYED_CHANNELS = ("phone", "paper-keyed")


@dataclass(frozen=True)
class KeyedEntry:
    id: int
    response_id: str
    entry: int  # 1, or 2 for the second, blind keying under double entry
    answers: Mapping[str, str]  # question name -> value as the dataset holds it
    keyed_by: str
    keyed_at: str


@dataclass(frozen=True)
class KeyedDecision:
    id: int
    response_id: str
    question: str
    value: str
    decided_by: str
    decided_at: str
    why: str


@dataclass(frozen=True)
class KeyedResponse:
    """A keyed response with all that was keyed and decided on it."""

    response: ChannelResponse
    entries: tuple[KeyedEntry, ...]
    decisions: tuple[KeyedDecision, ...]

    @property
    def entries_needed(self) -> int:
        return 2 if self.response.double_entry else 1

    @property
    def differing(self) -> tuple[str, ...]:
        """The fields where the two entries differ (none with fewer than two)."""
        return differing_fields(self.entries)

    @property
    def undecided(self) -> tuple[str, ...]:
        """The differing fields that no decision settles yet."""
        decided = {d.question for d in self.decisions}
        return tuple(name for name in self.differing if name not in decided)

    @property
    def settled(self) -> bool:
        return len(self.entries) >= self.entries_needed and not self.undecided

    def answers(self) -> dict[str, str] | None:
        """The settled answers (None while not settled): entry 1 alone, or where the two
        entries agree, with the latest decision on each field over them."""
        if not self.settled:
            return None
        first = self.entries[0].answers
        names = list(dict.fromkeys(n for e in self.entries for n in e.answers))
        answers = {name: first.get(name, "") for name in names}
        for decision in self.decisions:  # oldest first: the latest wins
            answers[decision.question] = decision.value
        return answers

    def entry(self, number: int) -> KeyedEntry | None:
        return next((e for e in self.entries if e.entry == number), None)


def record_entry(store: Store, response_id: str, entry: int, answers: Mapping[str, str],
                 keyed_by: str) -> KeyedEntry:
    """Keep one keying of a response. Entry 2 only under double entry, by another person than
    entry 1, and each entry once: a correction afterwards is a decision."""
    response = _keyed_response(store, response_id)
    if entry not in (1, 2):
        raise UsageError(f"entry {entry}: a keyed response has entry 1 and, under double "
                         "entry, entry 2")
    if not keyed_by.strip():
        raise WorkspaceError("a keyed entry needs the name of the person who keyed it")
    if entry == 2 and not response.double_entry:
        raise UsageError(f"{response_id} is keyed once: it was not started under double entry")
    kept = entries(store, response_id)
    if any(e.entry == entry for e in kept):
        raise UsageError(f"entry {entry} of {response_id} is keyed already: correct a field "
                         "with a decision instead")
    first = next((e for e in kept if e.entry == 1), None)
    if entry == 2 and first is None:
        raise UsageError(f"{response_id} has no first entry yet: key entry 1 first")
    if entry == 2 and first is not None and first.keyed_by == keyed_by:
        raise UsageError(f"{keyed_by} keyed the first entry of {response_id}: the second is "
                         "keyed by another person")
    values = {str(k): str(v) for k, v in answers.items()}
    keyed_at = now_iso()
    with store.engine.begin() as conn:
        result = conn.execute(insert(schema.keyed_entries).values(
            response_id=response_id, entry=entry, answers=json.dumps(values, ensure_ascii=False),
            keyed_by=keyed_by, keyed_at=keyed_at))
    key = result.inserted_primary_key
    if key is None:
        raise WorkspaceError("the store did not return the id of a new keyed entry")
    return KeyedEntry(int(key[0]), response_id, entry, values, keyed_by, keyed_at)


def record_decision(store: Store, response_id: str, question: str, value: str,
                    decided_by: str, why: str = "") -> KeyedDecision:
    """Keep a decision on one field: the value that stands, over the entries. Under double
    entry, once both entries are in."""
    response = _keyed_response(store, response_id)
    if not decided_by.strip():
        raise WorkspaceError("a decision needs the name of the person who made it")
    if not question:
        raise UsageError("a decision names the question it settles")
    if len({e.entry for e in entries(store, response_id)}) < (2 if response.double_entry
                                                                else 1):
        raise UsageError(f"{response_id} is not keyed in full yet: a field is decided once "
                         "every entry is in")
    decided_at = now_iso()
    with store.engine.begin() as conn:
        result = conn.execute(insert(schema.keyed_decisions).values(
            response_id=response_id, question=question, value=value, decided_by=decided_by,
            decided_at=decided_at, why=why))
    key = result.inserted_primary_key
    if key is None:
        raise WorkspaceError("the store did not return the id of a new decision")
    return KeyedDecision(int(key[0]), response_id, question, value, decided_by, decided_at, why)


def entries(store: Store, response_id: str) -> list[KeyedEntry]:
    """A response's entries, entry 1 first."""
    return _entries(store, [response_id]).get(response_id, [])


def decisions(store: Store, response_id: str) -> list[KeyedDecision]:
    """Every decision on a response, oldest first."""
    return _decisions(store, [response_id]).get(response_id, [])


def keyed_response(store: Store, response_id: str) -> KeyedResponse | None:
    response = channel_response(store, response_id)
    if response is None or response.channel not in KEYED_CHANNELS:
        return None
    return KeyedResponse(response, tuple(entries(store, response_id)),
                         tuple(decisions(store, response_id)))


def keyed_responses(store: Store, questionnaire_ids: Iterable[str] | None = None
                    ) -> list[KeyedResponse]:
    """The keyed responses (phone, paper-keyed) of the questionnaires given (all when None),
    oldest first, each with its entries and decisions: three queries, whatever their number."""
    if not store.has_table(schema.keyed_entries.name):
        return []
    found = [r for r in channel_responses(store, questionnaire_ids)
             if r.channel in KEYED_CHANNELS]
    ids = [r.response_id for r in found]
    by_entry = _entries(store, ids)
    by_decision = _decisions(store, ids)
    return [KeyedResponse(r, tuple(by_entry.get(r.response_id, ())),
                          tuple(by_decision.get(r.response_id, ()))) for r in found]


def differing_fields(keyed: Sequence[KeyedEntry]) -> tuple[str, ...]:
    """The fields where entry 1 and entry 2 differ (a field one left out counts as blank), in
    the order entry 1 has them; none while there are fewer than two entries."""
    first = next((e for e in keyed if e.entry == 1), None)
    second = next((e for e in keyed if e.entry == 2), None)
    if first is None or second is None:
        return ()
    names = dict.fromkeys([*first.answers, *second.answers])
    return tuple(n for n in names
                 if _same(first.answers.get(n, "")) != _same(second.answers.get(n, "")))


def _same(value: str) -> str:
    return " ".join(value.split())


def _keyed_response(store: Store, response_id: str) -> ChannelResponse:
    response = channel_response(store, response_id)
    if response is None:
        raise WorkspaceError(f"no response {response_id} in the store")
    if response.channel not in KEYED_CHANNELS:
        raise UsageError(f"{response_id} came as a {response.channel}: only "
                         f"{' and '.join(KEYED_CHANNELS)} responses are keyed")
    return response


def _entries(store: Store, ids: Sequence[str]) -> dict[str, list[KeyedEntry]]:
    t = schema.keyed_entries
    found: dict[str, list[KeyedEntry]] = {}
    if not ids:
        return found
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.response_id.in_(list(ids)))
                            .order_by(t.c.response_id, t.c.entry, t.c.id)).all()
    for r in rows:
        answers = json.loads(r.answers)
        found.setdefault(str(r.response_id), []).append(KeyedEntry(
            int(r.id), str(r.response_id), int(r.entry),
            {str(k): str(v) for k, v in answers.items()}, str(r.keyed_by), str(r.keyed_at)))
    return found


def _decisions(store: Store, ids: Sequence[str]) -> dict[str, list[KeyedDecision]]:
    t = schema.keyed_decisions
    found: dict[str, list[KeyedDecision]] = {}
    if not ids:
        return found
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.response_id.in_(list(ids)))
                            .order_by(t.c.id)).all()
    for r in rows:
        found.setdefault(str(r.response_id), []).append(KeyedDecision(
            int(r.id), str(r.response_id), str(r.question), str(r.value), str(r.decided_by),
            str(r.decided_at), str(r.why)))
    return found
