"""The forms registered in the store and the serials issued for each.

A serial is the respondent reference: two copies of a questionnaire must never share one, even
when they are printed in different variants (languages, large print: each its own form key) and
their readings meet in one dataset, or when two `forms build` runs issue serials at once. So
issuing takes the questionnaire's lock (locks.py), then continues after the highest serial
issued for any of the questionnaire's forms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from pipeline.errors import WorkspaceError
from pipeline.records import SERIAL_DIGITS, Layout, layout_from_dict, layout_to_dict
from pipeline.store import schema
from pipeline.store.locks import locked_transaction
from pipeline.store.store import Store, now_iso


@dataclass(frozen=True)
class RegisteredForm:
    layout: Layout  # without copies
    issued: int  # serials 1..issued have been issued


def register_form(store: Store, layout: Layout, issued: int = 0) -> None:
    """Keep the form's geometry; `issued` raises the count of serials issued (never lowers it)."""
    with locked_transaction(store, _serials_lock(layout)) as conn:
        _ensure_row(conn, layout)
        _raise_issued(conn, layout.form_key, issued)


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
        conn.execute(update(schema.forms).where(schema.forms.c.form_key == layout.form_key)
                     .values(issued=last))
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
    return {str(row.form_key): RegisteredForm(
                layout_from_dict(json.loads(row.layout), f"form {row.form_key} in the store"),
                int(row.issued))
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


def _raise_issued(conn: Connection, form_key: str, issued: int) -> None:
    t = schema.forms
    conn.execute(update(t).where(t.c.form_key == form_key, t.c.issued < issued)
                 .values(issued=issued))


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
