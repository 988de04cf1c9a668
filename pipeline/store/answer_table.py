"""Answers read back as tables, for building the dataset of a large consultation.

A row object per answer costs seconds per million answers; these read the rows through the
database driver's own cursor and build columns, so a national consultation's 800,000 paper
answers and 100,000 online responses come back in about a second each. The values are those of
Store.paper_answers and Store.online_rows: review decisions applied (review.py).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from pipeline.store import schema
from pipeline.store.review import latest_decisions

# The fields of store.PaperAnswer, in order.
PAPER_COLUMNS = ("form_key", "serial", "page", "question", "value", "confidence",
                 "needs_review", "reason", "source", "read_at", "decided_by", "read_value",
                 "copy_of")
ONLINE_META = ("response_id", "submitted_at", "respondent_ref", "source")


def paper_answer_table(conn: Connection, form_keys: Sequence[str],
                       serials: Collection[str] | None = None) -> pd.DataFrame:
    """Every answer on an identified page of these forms (of these copies only, when given),
    one row each (PAPER_COLUMNS)."""
    p, a, f = schema.pages, schema.answers, schema.files
    chosen = [p.c.outcome == "identified", p.c.form_key.in_(form_keys)]
    if serials is not None:
        chosen.append(p.c.serial.in_(sorted(serials)))
    page_rows = fetch_rows(conn, select(p.c.id, p.c.form_key, p.c.serial, p.c.page,
                                        p.c.page_index, p.c.read_at, f.c.name, p.c.copy_of)
                           .join(f, f.c.sha256 == p.c.file_sha256).where(*chosen))
    pages = pd.DataFrame.from_records(page_rows, columns=["page_id", "form_key", "serial",
                                                          "page", "page_index", "read_at",
                                                          "name", "copy_of"])
    pages["source"] = pages["name"] + " p" + pages["page_index"].astype(str)
    pages["copy_of"] = pages["copy_of"].fillna("").astype(str)
    answer_rows = fetch_rows(conn, select(a.c.page_id, a.c.question, a.c.value, a.c.confidence,
                                          a.c.needs_review, a.c.reason)
                             .join(p, p.c.id == a.c.page_id).where(*chosen))
    answers = pd.DataFrame.from_records(answer_rows, columns=["page_id", "question", "value",
                                                              "confidence", "needs_review",
                                                              "reason"])
    answers["needs_review"] = answers["needs_review"].astype(bool)
    table = answers.merge(pages[["page_id", "form_key", "serial", "page", "source", "read_at",
                                 "copy_of"]], on="page_id", how="inner")
    table["decided_by"] = ""
    table["read_value"] = None
    return _apply_decisions(conn, table[list(PAPER_COLUMNS)], form_keys)


def _apply_decisions(conn: Connection, table: pd.DataFrame,
                     form_keys: Sequence[str]) -> pd.DataFrame:
    """As Store.paper_answers: a decided question takes the decision's value on its first page
    and is empty on the pages it continues to."""
    decisions = latest_decisions(conn, list(form_keys))
    if not decisions or table.empty:
        return table
    decided = pd.DataFrame([(k[0], k[1], k[2], d.new_value, d.reviewer)
                            for k, d in decisions.items()],
                           columns=["form_key", "serial", "question", "decided", "reviewer"])
    table = table.merge(decided, on=["form_key", "serial", "question"], how="left")
    table = table.sort_values(["form_key", "serial", "question", "page"], kind="stable")
    hit = table["decided"].notna()
    first = hit & ~table.duplicated(["form_key", "serial", "question"])
    table["read_value"] = table["read_value"].astype(object)
    table.loc[hit, "read_value"] = table.loc[hit, "value"]
    table.loc[hit, "value"] = ""
    table.loc[first, "value"] = table.loc[first, "decided"]
    table.loc[hit, "confidence"] = 1.0
    table.loc[hit, "needs_review"] = False
    table.loc[hit, "decided_by"] = table.loc[hit, "reviewer"]
    return table.drop(columns=["decided", "reviewer"])


def online_answer_table(conn: Connection, questionnaire_id: str,
                        response_ids: Collection[str] | None = None) -> pd.DataFrame:
    """Online responses (these only, when given) in submission order: ONLINE_META columns, then
    one column per question the export held (as exported)."""
    t = schema.online_responses
    query = (select(t.c.response_id, t.c.submitted_at, t.c.respondent_ref, t.c.source,
                    t.c.answers)
             .where(t.c.questionnaire_id == questionnaire_id)
             .order_by(t.c.submitted_at, t.c.response_id))
    if response_ids is not None:
        query = query.where(t.c.response_id.in_(sorted(response_ids)))
    rows = fetch_rows(conn, query)
    meta = pd.DataFrame.from_records([r[:4] for r in rows], columns=list(ONLINE_META))
    answers = pd.DataFrame.from_records(json.loads("[" + ",".join(r[4] for r in rows) + "]"),
                                        index=meta.index)
    return pd.concat([meta, answers.fillna("")], axis=1)


def fetch_rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The query's rows as plain tuples, straight from the driver's cursor."""
    compiled = query.compile(dialect=conn.dialect,
                             compile_kwargs={"render_postcompile": True})
    params = compiled.params
    arguments: Any = (tuple(params[name] for name in compiled.positiontup or ())
                      if compiled.positional else params)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), arguments)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()
