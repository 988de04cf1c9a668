"""One respondent found on paper and online: a person decides which response stands.

The pairs are those the export finds (pipeline/dataset/dualchannel.py), from the same dataset
the export builds, so what a reviewer sees is what the export resolves. Decisions are an
append-only log (table dual_decisions): a second thought is a new decision, and the latest one
for a pair (highest id) is the one the next export follows, over the analyst's policy.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.dataset import find_pairs, load_dataset, read_match_file
from pipeline.registry import registered_questionnaire
from pipeline.store.dual_log import (
    DualDecision,
    Pair,
    decided_kept,
    dual_decision_log,
    dual_decisions,
    record_dual_decision,
    referring_online,
)
from pipeline.store.store import Store
from pipeline.workspace import Workspace

__all__ = ["DualDecision", "DualMatch", "decided_kept", "dual_decision_log", "dual_decisions",
           "dual_matches", "pending_matches", "record_dual_decision"]

# Beyond this many, the rows are chosen by building the whole dataset instead of by a list in the
# query (SQLite takes at most 32,766 values in one query).
MAX_CANDIDATES = 10_000


@dataclass(frozen=True)
class DualMatch:
    paper_response_id: str
    online_response_id: str
    respondent_ref: str  # the paper copy's serial (online may lack it: a match-file pair)
    paper_submitted_at: str  # when the copy's last page was read
    online_submitted_at: str
    # (question, paper value, online value): the questionnaire's questions, then those asked
    # online only (no paper value), in the dataset's column order.
    answers: tuple[tuple[str, str, str], ...]
    decision: DualDecision | None  # the latest for this pair; None while pending
    # Paper questions still waiting for a person: empty in the dataset until decided, which is
    # not the same as unanswered.
    paper_waiting: tuple[str, ...] = ()


def dual_matches(workspace: Workspace, form: str | None = None,
                 matches: Path | Sequence[Pair] | None = None) -> list[DualMatch]:
    """Every pair the export would find (the questionnaire picked as the export picks it: the
    only one registered, or the one named), with its latest decision; sorted by paper id.

    `matches` is a match file, or its (online response id, paper respondent ref) pairs.
    """
    hand_matched = read_match_file(matches) if isinstance(matches, Path) else list(matches or [])
    with Store.open(workspace.store_url) as store:
        layouts, questionnaire = registered_questionnaire(workspace, form, store)
        serials, online_ids = _candidates(store, questionnaire.id, hand_matched)
        if max(len(serials), len(online_ids)) > MAX_CANDIDATES:
            dataset = load_dataset(store, layouts, questionnaire)  # cheaper than such a list
        else:
            dataset = load_dataset(store, layouts, questionnaire, serials, online_ids)
        decided = dual_decisions(store)
    frame = dataset.frame
    pairs = find_pairs(frame, hand_matched)
    paired = {rid for pair in pairs for rid in pair}
    # Only the paired rows as records: the dataset may hold hundreds of thousands.
    rows = {str(r["response_id"]): r for r in
            frame[frame["response_id"].isin(paired)].to_dict("records")}
    questions = [*(q.name for q in questionnaire.questions), *dataset.online_only]
    return [_match(rows[paper_id], rows[online_id], questions,
                   decided.get((paper_id, online_id)))
            for paper_id, online_id in pairs]


def _candidates(store: Store, questionnaire_id: str,
                hand_matched: Sequence[Pair]) -> tuple[set[str], set[str]]:
    """The copies (serials) and online responses that can be in a pair: those an online
    response names by respondent_ref, and those of the match file. Only their rows are built,
    not a national consultation's dataset, and the pairs found among them are the export's."""
    referring = referring_online(store, questionnaire_id)
    serials = {ref for _, ref in referring} | {ref for _, ref in hand_matched}
    online_ids = {rid for rid, _ in referring} | {rid for rid, _ in hand_matched}
    return serials, online_ids


def pending_matches(workspace: Workspace, form: str | None = None,
                    matches: Path | Sequence[Pair] | None = None) -> list[DualMatch]:
    """The pairs nobody has decided yet: what the review queue offers."""
    return [m for m in dual_matches(workspace, form, matches) if m.decision is None]


def _match(paper: Mapping[Hashable, Any], online: Mapping[Hashable, Any],
           questions: list[str], decision: DualDecision | None) -> DualMatch:
    return DualMatch(
        paper_response_id=str(paper["response_id"]),
        online_response_id=str(online["response_id"]),
        respondent_ref=str(paper["respondent_ref"]),
        paper_submitted_at=str(paper["submitted_at"]),
        online_submitted_at=str(online["submitted_at"]),
        answers=tuple((q, str(paper[q]), str(online[q])) for q in questions),
        decision=decision,
        paper_waiting=tuple(str(paper.get("_needs_review", "") or "").split()),
    )
