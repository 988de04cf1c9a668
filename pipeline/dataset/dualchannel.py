"""One person who answered on paper and online: found, then kept by a policy the analyst sets.

Pairs are found by the same respondent reference on both channels (a serial given out for
answering online), or listed in a match file. By default both responses stay and each names the
other in `_dual_channel` (a column added only when there are such pairs), so a person decides;
the other policies keep one response and report the one dropped, so nothing goes without a trace.
A person's decision about a pair (the review app, pipeline/review/dual.py) overrides the policy
for that pair alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd

from pipeline.dataset.build import is_further_response
from pipeline.errors import InputFileError, UsageError
from pipeline.store.dual_log import KEPT_CHOICES

DualPolicy = Literal["keep-both", "keep-latest", "keep-online", "keep-paper"]
POLICIES: tuple[DualPolicy, ...] = ("keep-both", "keep-latest", "keep-online", "keep-paper")
DUAL_COLUMN = "_dual_channel"
MATCH_COLUMNS = ("online_response_id", "paper_respondent_ref")
DECIDED = "decided by a person"  # in _dual_channel where a person, not the policy, chose


@dataclass(frozen=True)
class DualPair:
    paper_id: str
    online_id: str
    kept: str  # "both", or the response id kept
    decided: bool = False  # a person's decision, not the policy, resolved it


@dataclass(frozen=True)
class DualChannel:
    frame: pd.DataFrame  # the dataset after the policy, with the _dual_channel column
    pairs: tuple[DualPair, ...]
    policy: DualPolicy


def read_match_file(path: Path) -> list[tuple[str, str]]:
    """(online response id, paper respondent ref) pairs matched by hand (CSV, header row)."""
    if not path.is_file():
        raise InputFileError(f"match file {path} does not exist: check the path")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFileError(f"match file {path} is not a readable CSV file: {exc}") from exc
    missing = [c for c in MATCH_COLUMNS if c not in table.columns]
    if missing:
        raise InputFileError(f"match file {path} lacks the column(s) {', '.join(missing)}: it "
                             f"needs {' and '.join(MATCH_COLUMNS)}")
    return [(str(o), str(p)) for o, p in zip(table[MATCH_COLUMNS[0]], table[MATCH_COLUMNS[1]],
                                             strict=True) if o and p]


def apply_policy(frame: pd.DataFrame, policy: str = "keep-both",
                 matches: Sequence[tuple[str, str]] | None = None, *,
                 decisions: Mapping[tuple[str, str], str] | None = None) -> DualChannel:
    """The dataset with each dual-channel pair resolved by a person's decision (keyed by paper
    id, online id; one of KEPT_CHOICES), else by the policy.

    A pair decided "different" is two people: both stay unmarked and it is not a pair at all.
    """
    if policy not in POLICIES:
        raise UsageError(f"dual-channel policy {policy!r}: choose one of {', '.join(POLICIES)}")
    chosen: DualPolicy = next(p for p in POLICIES if p == policy)
    decided = dict(decisions or {})
    for pair, choice in decided.items():
        if choice not in KEPT_CHOICES:
            raise UsageError(f"dual-channel decision {choice!r} for {pair[0]} and {pair[1]}: "
                             f"it is one of {', '.join(KEPT_CHOICES)}")
    pairs = [pair for pair in find_pairs(frame, matches or [])
             if decided.get(pair) != "different"]
    if not pairs:
        return DualChannel(frame, (), chosen)
    ids = [str(v) for v in frame["response_id"]]
    times = [str(v) for v in frame["submitted_at"]]
    position = {rid: i for i, rid in enumerate(ids)}
    marks = [""] * len(ids)
    drop: set[int] = set()
    resolved: list[DualPair] = []
    for paper_id, online_id in pairs:
        paper_at, online_at = position[paper_id], position[online_id]
        person = decided.get((paper_id, online_id))
        if person is None:
            keep = _kept(chosen, times[paper_at], times[online_at])
        else:
            keep = person if person in ("paper", "online") else None
        if keep is None:
            marks[paper_at], marks[online_at] = online_id, paper_id
            resolved.append(DualPair(paper_id, online_id, "both", person is not None))
            continue
        kept_at, dropped_at = (paper_at, online_at) if keep == "paper" else (online_at, paper_at)
        marks[kept_at] = f"{ids[dropped_at]} (dropped: {DECIDED if person else chosen})"
        drop.add(dropped_at)
        resolved.append(DualPair(paper_id, online_id, ids[kept_at], person is not None))
    out = frame.copy()
    out[DUAL_COLUMN] = marks  # last, so the contract's columns keep their places
    kept = out.drop(index=out.index[sorted(drop)]).reset_index(drop=True)
    return DualChannel(kept, tuple(resolved), chosen)


def find_pairs(frame: pd.DataFrame,
               matches: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(paper response id, online response id) for every person found on both channels, by
    respondent_ref or by the match file's (online id, paper ref) pairs; sorted."""
    paper = frame[frame["channel"] == "paper"]
    online = frame[frame["channel"] == "online"]
    # The addressee's response only: a further response on the serial (a photocopy) is
    # someone else's, whom the online respondent giving that serial is not.
    addressee = pd.Series([not is_further_response(rid, ref) for rid, ref
                           in zip(paper["response_id"], paper["respondent_ref"], strict=True)],
                          index=paper.index, dtype=bool)
    paper = paper.loc[addressee]
    paper_by_ref = dict(zip(paper["respondent_ref"], paper["response_id"], strict=True))
    online_ids = set(online["response_id"])
    pairs: set[tuple[str, str]] = set()
    shared = online[online["respondent_ref"].isin(paper_by_ref.keys())
                    & (online["respondent_ref"] != "")]
    for ref, online_id in zip(shared["respondent_ref"], shared["response_id"], strict=True):
        pairs.add((paper_by_ref[ref], online_id))
    for online_id, ref in matches:
        if online_id not in online_ids:
            raise InputFileError(f"match file: online response {online_id!r} is not in the "
                                 "dataset")
        if ref not in paper_by_ref:
            raise InputFileError(f"match file: no paper response has respondent_ref {ref!r}")
        pairs.add((paper_by_ref[ref], online_id))
    for side, what in ((0, "paper response"), (1, "online response")):
        seen = [pair[side] for pair in pairs]
        doubled = sorted({rid for rid in seen if seen.count(rid) > 1})
        if doubled:
            raise InputFileError(f"{what}(s) {', '.join(doubled)} matched to more than one "
                                 "response of the other channel (by respondent_ref or the "
                                 "match file): correct the match file")
    return sorted(pairs)


def _kept(policy: DualPolicy, paper_time: str, online_time: str) -> str | None:
    """The channel whose response stays, or None to keep both for a person."""
    if policy == "keep-paper":
        return "paper"
    if policy == "keep-online":
        return "online"
    if policy == "keep-latest":
        paper_at, online_at = _instant(paper_time), _instant(online_time)
        if paper_at is None or online_at is None:
            return None  # a time that cannot be read: a person decides
        return "paper" if paper_at >= online_at else "online"
    return None


def _instant(text: str) -> datetime | None:
    """A submission time as exported (ISO 8601, with or without a zone: UTC assumed)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
