"""Contacts of an addressed mailing, kept apart from the answers.

A copy's serial is the only link between a recipient and a response. The dataset is pseudonymous
unless an export asks for contacts explicitly; nothing else in the store reads this table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.store import schema
from pipeline.store.upsert import upsert


def replace_contacts(conn: Connection, form_key: str,
                     contacts: Mapping[str, Mapping[str, str]], recorded_at: str) -> int:
    """Record each serial's fields; a serial recorded before is replaced, others are kept."""
    upsert(conn, schema.contacts, [
        {"form_key": form_key, "serial": serial, "recorded_at": recorded_at,
         "fields": json.dumps(dict(fields), ensure_ascii=False)}
        for serial, fields in contacts.items()])
    return len(contacts)


def read_contacts(conn: Connection, form_key: str,
                  serial: str | None = None) -> dict[str, dict[str, str]]:
    """Serial -> fields, for every serial of the form or the one given."""
    t = schema.contacts
    query = select(t.c.serial, t.c.fields).where(t.c.form_key == form_key)
    if serial is not None:
        query = query.where(t.c.serial == serial)
    rows = conn.execute(query.order_by(t.c.serial))
    return {str(row.serial): {str(k): str(v) for k, v in json.loads(row.fields).items()}
            for row in rows}
