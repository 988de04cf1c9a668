"""Keyed responses (phoned in, or a paper return typed in) as rows of the unified dataset.

A keyed response is a row once it is settled (pipeline/store/keyed.py): keyed once, or under
double entry keyed twice with every difference decided. One not settled yet is left out, never
exported half settled; the review app's keyed-entry list shows what waits.

A paper return keyed by its serial whose copy was also scanned (the same questionnaire and serial)
is one row, never two: the scan's row, with the keyed answers over the read ones wherever the
person keyed an answer (a person checked them), its channel `paper-keyed`, and both sources in
`_source`. A question the keyed entry answers no longer waits for a person.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipeline.store.keyed import KeyedResponse


def keyed_source(keyed: KeyedResponse) -> str:
    """Who keyed the response and when, and who decided its fields: its provenance."""
    parts = [f"keyed {keyed.response.response_id} ({keyed.response.channel})"]
    parts += [f"entry {e.entry} by {e.keyed_by} at {e.keyed_at}" for e in keyed.entries]
    deciders = sorted({d.decided_by for d in keyed.decisions})
    if deciders:
        fields = len({d.question for d in keyed.decisions})
        parts.append(f"{fields} field{'s' if fields != 1 else ''} decided by "
                     f"{', '.join(deciders)}")
    return "; ".join(parts)


def with_keyed(frame: pd.DataFrame, keyed: Sequence[KeyedResponse]) -> pd.DataFrame:
    """The dataset's table with the settled keyed responses: merged into the scanned row of the
    same copy where there is one, else as rows of their own after the others."""
    columns = list(frame.columns)
    scanned: dict[str, list[int]] = {}  # serial -> the scanned rows of copies with it
    for i, (rid, ref, channel) in enumerate(zip(frame["response_id"], frame["respondent_ref"],
                                                frame["channel"], strict=True)):
        if channel == "paper" and ref and rid.endswith(f"-{ref}"):  # not a photocopy's
            scanned.setdefault(ref, []).append(i)
    merged = frame.copy()
    added: list[dict[str, str]] = []
    for response in keyed:
        answers = response.answers()
        if answers is None:
            continue  # not settled: left out, never half settled
        serial = response.response.serial
        source = keyed_source(response)
        row = _scanned_copy(frame, scanned, response) if serial else None
        if row is not None:
            given = {n: v for n, v in answers.items() if v and n in columns}
            for name, value in given.items():
                merged.at[row, name] = value
            waiting = [n for n in str(merged.at[row, "_needs_review"]).split() if n not in given]
            merged.at[row, "_needs_review"] = " ".join(waiting)
            merged.at[row, "channel"] = "paper-keyed"
            merged.at[row, "_source"] = f"{source}; {merged.at[row, '_source']!s}"
            continue
        added.append({
            **{n: v for n, v in answers.items() if n in columns},
            "response_id": response.response.response_id,
            "channel": response.response.channel,
            "submitted_at": response.entries[0].keyed_at,
            "respondent_ref": serial,
            "_source": source,
        })
    if added:
        rows = pd.DataFrame([{c: entry.get(c, "") for c in columns} for entry in added],
                            columns=columns, dtype=str)
        merged = pd.concat([merged, rows], ignore_index=True)
    return merged.reset_index(drop=True)


def _scanned_copy(frame: pd.DataFrame, scanned: dict[str, list[int]],
                  keyed: KeyedResponse) -> int | None:
    """The scanned row of the copy a paper return was keyed from: of the variant it was keyed
    from, else the only scanned copy with its serial (None when none, or when several variants
    share the serial and none is the one keyed from); each row is taken once."""
    if keyed.response.channel != "paper-keyed":
        return None
    rows = scanned.get(keyed.response.serial, [])
    exact = f"paper-{keyed.response.form_key}-{keyed.response.serial}"
    chosen = next((i for i in rows if frame.at[i, "response_id"] == exact),
                  rows[0] if len(rows) == 1 else None)
    if chosen is not None:
        rows.remove(chosen)
    return chosen
