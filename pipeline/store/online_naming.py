"""The online export's own column names and its tool's metadata values, as imported.

`papertwin export --columns online` names the dataset as the online export named it; the
import records how (records.OnlineNaming, one per questionnaire, updated by each import) and
each response's metadata values beside its answers (online_responses.metadata).
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from pipeline.records import OnlineNaming
from pipeline.store import schema
from pipeline.store.answer_table import fetch_rows
from pipeline.store.upsert import upsert


def record_naming(conn: Connection, questionnaire_id: str, naming: OnlineNaming,
                  recorded_at: str) -> OnlineNaming:
    """The naming of a new import kept, over what earlier imports recorded (OnlineNaming.then);
    returns what is recorded now."""
    earlier = read_naming(conn, questionnaire_id)
    merged = earlier.then(naming) if earlier is not None else naming
    t = schema.online_naming
    upsert(conn, t, [{
        "questionnaire_id": questionnaire_id, "convention": merged.convention,
        "group_separator": merged.group_separator,
        "columns": json.dumps(dict(merged.columns), ensure_ascii=False),
        "choice_columns": json.dumps(dict(merged.choice_columns), ensure_ascii=False),
        "metadata": json.dumps(list(merged.metadata), ensure_ascii=False),
        "recorded_at": recorded_at,
    }])
    return merged


def read_naming(conn: Connection, questionnaire_id: str) -> OnlineNaming | None:
    """How the questionnaire's online exports named their columns; None when no import
    recorded it (none yet, or all before revision 0010)."""
    t = schema.online_naming
    row = conn.execute(select(t.c.convention, t.c.group_separator, t.c["columns"],
                              t.c.choice_columns, t.c["metadata"])
                       .where(t.c.questionnaire_id == questionnaire_id)).first()
    if row is None:
        return None
    return OnlineNaming(convention=str(row[0]), group_separator=str(row[1]),
                        columns=json.loads(row[2]), choice_columns=json.loads(row[3]),
                        metadata=tuple(json.loads(row[4])))


def metadata_table(conn: Connection, questionnaire_id: str) -> pd.DataFrame:
    """response_id, then one column per metadata column any response holds, text throughout
    ("" where a response has none, as one imported before revision 0010)."""
    t = schema.online_responses
    rows = fetch_rows(conn, select(t.c.response_id, t.c["metadata"])
                      .where(t.c.questionnaire_id == questionnaire_id))
    values = pd.DataFrame.from_records(
        json.loads("[" + ",".join(r[1] or "{}" for r in rows) + "]"), index=range(len(rows)))
    ids = pd.DataFrame({"response_id": [str(r[0]) for r in rows]})
    return pd.concat([ids, values.fillna("").astype(str)], axis=1)
