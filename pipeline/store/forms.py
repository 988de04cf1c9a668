"""The forms registered in the store and the serials issued for each.

A serial is the respondent reference: two copies of a questionnaire must never share one, even
when they are printed in different variants (languages, large print: each its own form key) and
their readings meet in one dataset, or when two `forms build` runs issue serials at once. So
issuing takes the questionnaire's lock (locks.py), then continues after the highest serial
issued for any of the questionnaire's forms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from pipeline.errors import WorkspaceError
from pipeline.records import SERIAL_DIGITS, Layout, layout_from_dict, layout_to_dict
from pipeline.store import schema
from pipeline.store.locks import locked_transaction
from pipeline.store.store import Store, now_iso

SerialRange = tuple[int, int]  # first, last: a run of serials issued together


@dataclass(frozen=True)
class RegisteredForm:
    layout: Layout  # without copies
    ranges: tuple[SerialRange, ...]  # the serials issued for it, run by run, in order

    @property
    def serials(self) -> tuple[str, ...]:
        """Every serial issued for the form, as printed."""
        return tuple(str(n).zfill(SERIAL_DIGITS)
                     for first, last in self.ranges for n in range(first, last + 1))


def serial_ranges(numbers: Iterable[int]) -> tuple[SerialRange, ...]:
    """Serial numbers as runs of consecutive ones."""
    ranges: list[SerialRange] = []
    for n in sorted(set(numbers)):
        if ranges and ranges[-1][1] == n - 1:
            ranges[-1] = (ranges[-1][0], n)
        else:
            ranges.append((n, n))
    return tuple(ranges)


def register_form(store: Store, layout: Layout, issued: Iterable[int] = ()) -> None:
    """Keep the form's geometry; the serial numbers `issued` count as issued for it from now on
    (those it had are kept)."""
    with locked_transaction(store, _serials_lock(layout)) as conn:
        _ensure_row(conn, layout)
        had = {n for first, last in _ranges(conn, layout.form_key)
               for n in range(first, last + 1)}
        for first, last in serial_ranges(set(issued) - had):
            _add_range(conn, layout.form_key, first, last)


def issue_serials(store: Store, layout: Layout, count: int) -> list[str]:
    """`count` new serials for the form, after every one issued so far for any form of its
    questionnaire (every variant of it, every version)."""
    with locked_transaction(store, _serials_lock(layout)) as conn:
        _ensure_row(conn, layout)
        first = _issued_for_questionnaire(conn, layout.questionnaire.id) + 1
        last = first + count - 1
        if last >= 10**SERIAL_DIGITS:
            raise WorkspaceError(f"form {layout.form_key} has run out of {SERIAL_DIGITS}-digit "
                                 "serials")
        _add_range(conn, layout.form_key, first, last)
    return [str(n).zfill(SERIAL_DIGITS) for n in range(first, last + 1)]


def registered_forms(store: Store) -> dict[str, RegisteredForm]:
    """Every form in the store, by form key; none in a store older than the register (a
    read-only store is never migrated)."""
    t = schema.forms
    if not store.has_table(t.name):
        return {}
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.c.form_key, t.c.layout, t.c.issued)
                            .order_by(t.c.form_key)).all()
        ranges: dict[str, list[SerialRange]] = {}
        if store.has_table(schema.serial_ranges.name):
            r = schema.serial_ranges
            for row in conn.execute(select(r.c.form_key, r.c.first, r.c.last)
                                    .order_by(r.c.form_key, r.c.first)):
                ranges.setdefault(str(row.form_key), []).append((int(row.first), int(row.last)))
        else:  # a read-only store from before 0012: serials ran from 1 then
            ranges = {str(row.form_key): [(1, int(row.issued))] for row in rows if row.issued}
    return {str(row.form_key): RegisteredForm(
                layout_from_dict(json.loads(row.layout), f"form {row.form_key} in the store"),
                tuple(ranges.get(str(row.form_key), ())))
            for row in rows}


def _ensure_row(conn: Connection, layout: Layout) -> None:
    t = schema.forms
    if conn.execute(select(t.c.form_key).where(t.c.form_key == layout.form_key)).first():
        return
    data = json.dumps(layout_to_dict(replace(layout, copies=())), ensure_ascii=False)
    conn.execute(insert(t).values(form_key=layout.form_key, layout=data, issued=0,
                                  registered_at=now_iso()))


def _serials_lock(layout: Layout) -> str:
    return f"serials:{layout.questionnaire.id}"


def _issued_for_questionnaire(conn: Connection, questionnaire_id: str) -> int:
    """The highest serial issued for any registered form of the questionnaire."""
    t = schema.forms
    rows = conn.execute(select(t.c.layout, t.c.issued).where(t.c.issued > 0)).all()
    return max((int(row.issued) for row in rows
                if _questionnaire_id(row.layout) == questionnaire_id), default=0)


def _questionnaire_id(layout_json: str) -> str:
    """The questionnaire id of a stored layout, without building the whole layout."""
    data = json.loads(layout_json)
    questionnaire = data.get("questionnaire") if isinstance(data, dict) else None
    return str(questionnaire.get("id", "")) if isinstance(questionnaire, dict) else ""


def _ranges(conn: Connection, form_key: str) -> list[SerialRange]:
    r = schema.serial_ranges
    return [(int(row.first), int(row.last)) for row in conn.execute(
        select(r.c.first, r.c.last).where(r.c.form_key == form_key).order_by(r.c.first))]


def _add_range(conn: Connection, form_key: str, first: int, last: int) -> None:
    """Record a run of serials issued for the form, and raise its highest serial issued."""
    conn.execute(insert(schema.serial_ranges).values(form_key=form_key, first=first, last=last,
                                                     issued_at=now_iso()))
    t = schema.forms
    conn.execute(update(t).where(t.c.form_key == form_key, t.c.issued < last)
                 .values(issued=last))


def record_template(store: Store, form_key: str, printed: Mapping[str, object]) -> None:
    """Keep how the form was printed (JSON: the kept template's path in the workspace and the
    print options), so a copy can be printed again identically; the latest print wins."""
    t = schema.forms
    with store.engine.begin() as conn:
        done = conn.execute(update(t).where(t.c.form_key == form_key)
                            .values(template=json.dumps(dict(printed), ensure_ascii=False,
                                                        sort_keys=True)))
        if not done.rowcount:
            raise WorkspaceError(f"form {form_key} is not registered in the store")


def form_template(store: Store, form_key: str) -> dict[str, Any] | None:
    """How the form was printed, as record_template kept it; None for a form printed elsewhere
    or registered before the store kept it."""
    t = schema.forms
    if not store.has_table(t.name):
        return None
    with store.engine.connect() as conn:
        row = conn.execute(select(t.c.template).where(t.c.form_key == form_key)).first()
    if row is None or row.template is None:
        return None
    found = json.loads(row.template)
    return found if isinstance(found, dict) else None
