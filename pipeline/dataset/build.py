"""The unified dataset: one row per response, paper and online, in the online survey's columns.

Built with whole-column operations rather than a dict per response, since a national
consultation brings hundreds of thousands of online rows and tens of thousands of paper returns.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import astuple, dataclass, field, replace

import pandas as pd

from pipeline.dataset.keyed import with_keyed
from pipeline.dataset.letters import with_letters
from pipeline.model import Questionnaire
from pipeline.records import Layout, OnlineRow, PaperAnswer, flag_reason
from pipeline.store.answer_table import (
    ONLINE_META,
    PAPER_COLUMNS,
)
from pipeline.store.keyed import keyed_responses
from pipeline.store.store import Store

LEADING_COLUMNS = ("response_id", "channel", "submitted_at", "respondent_ref")
# _pages_missing: the copy's printed pages that were never identified (lost in the post, not
# scanned yet, or waiting unidentified for a person); their questions are in _needs_review, so
# a lost page is never read as a blank answer.
PROVENANCE_COLUMNS = ("_needs_review", "_confidence", "_source", "_pages_missing")
# Form key -> page number -> the questions that page prints, for the pages that print any.
QuestionPages = dict[str, dict[int, tuple[str, ...]]]


def dataset_columns(questionnaire: Questionnaire, online_only: tuple[str, ...] = ()) -> list[str]:
    """The contract's columns; questions asked online only follow the questionnaire's own."""
    return [*LEADING_COLUMNS, *(q.name for q in questionnaire.questions), *online_only,
            *PROVENANCE_COLUMNS]


@dataclass(frozen=True)
class Dataset:
    """The dataset's table and what the codebook says of its online columns."""

    frame: pd.DataFrame
    online_columns: frozenset[str]  # question columns the online export has
    online_only: tuple[str, ...]  # columns asked online that the paper form does not print
    # response id -> the questions printed on pages of the copy that were never identified
    unread: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def build_dataset(store: Store, layouts: dict[str, Layout],
                  questionnaire: Questionnaire) -> pd.DataFrame:
    """The whole dataset's table alone, without what the codebook needs to know of it."""
    return load_dataset(store, layouts, questionnaire).frame


def load_dataset(store: Store, layouts: dict[str, Layout], questionnaire: Questionnaire,
                 serials: Collection[str] | None = None,
                 online_ids: Collection[str] | None = None) -> Dataset:
    """The dataset; or its rows of some paper copies (serials) and online responses only, built
    the same way (the review app shows a few of a national consultation's rows)."""
    form_keys = [k for k, layout in layouts.items()
                 if layout.questionnaire.id == questionnaire.id]
    paper, online = store.answer_tables(form_keys, questionnaire.id, serials, online_ids)
    dataset = combine_tables(paper, online, questionnaire, question_pages(layouts))
    if serials is None and online_ids is None:  # keyed.py, then letters.py
        dataset = replace(dataset, frame=with_keyed(dataset.frame,
                                                    keyed_responses(store, [questionnaire.id])))
        dataset = replace(dataset, frame=with_letters(dataset.frame, store, questionnaire))
    return dataset


def question_pages(layouts: Mapping[str, Layout]) -> QuestionPages:
    """Which questions each page of each form prints: what a copy lacks when a page is lost."""
    printed: QuestionPages = {}
    for form_key, layout in layouts.items():
        by_page = {page.page: tuple(dict.fromkeys(f.question for f in page.fields))
                   for page in layout.pages}
        printed[form_key] = {number: names for number, names in by_page.items() if names}
    return printed


def combine_channels(paper: list[PaperAnswer], online: list[OnlineRow],
                     questionnaire: Questionnaire,
                     layouts: Mapping[str, Layout] | None = None) -> Dataset:
    """The same as load_dataset, from answers already read (with the layouts, pages never
    identified are found as load_dataset finds them)."""
    paper_table = pd.DataFrame.from_records([astuple(a) for a in paper],
                                            columns=list(PAPER_COLUMNS))
    names = list(dict.fromkeys(name for row in online for name in row.answers))
    online_table = pd.DataFrame({
        "response_id": [r.response_id for r in online],
        "submitted_at": [r.submitted_at for r in online],
        "respondent_ref": [r.respondent_ref for r in online],
        "source": [r.source for r in online],
        **{name: [r.answers.get(name, "") for r in online] for name in names},
    }, dtype=str)
    return combine_tables(paper_table, online_table, questionnaire,
                          question_pages(layouts) if layouts is not None else None)


def combine_tables(paper: pd.DataFrame, online: pd.DataFrame, questionnaire: Questionnaire,
                   printed: QuestionPages | None = None) -> Dataset:
    """Paper responses first (by serial), then online ones (by submission time)."""
    names = [q.name for q in questionnaire.questions]
    answered_online = [c for c in online.columns if c not in ONLINE_META]
    online_only = tuple(c for c in answered_online if c not in names)
    columns = dataset_columns(questionnaire, online_only)
    choices = {q.name: q.type == "select_multiple" for q in questionnaire.questions
               if q.is_choice}
    unread: dict[str, tuple[str, ...]] = {}
    parts = [f.reindex(columns=columns) for f in (paper_records(paper, names, printed, choices,
                                                                unread),
                                                  online_records(online)) if len(f)]
    if not parts:
        frame = pd.DataFrame(columns=columns, dtype=str)
    else:
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        frame = frame.fillna("").astype(str).reset_index(drop=True)
    return Dataset(frame, frozenset(answered_online), online_only, unread)


def online_records(table: pd.DataFrame) -> pd.DataFrame:
    """The online rows as stored, as dataset rows: nothing on them waits for a person."""
    records = table.rename(columns={"source": "_source"})
    records.insert(1, "channel", "online")
    records["_needs_review"] = ""
    records["_confidence"] = ""
    records["_pages_missing"] = ""
    return records


def paper_records(frame: pd.DataFrame, names: list[str],
                  printed: QuestionPages | None = None,
                  choices: Mapping[str, bool] | None = None,
                  unread: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """One row per copy from one row per answer (PAPER_COLUMNS). With `printed`, a copy's
    pages that were never identified are named in _pages_missing and their questions wait in
    _needs_review (and, given `unread`, are added to it by response id: what an empty cell of
    theirs means). `choices` (choice question -> multiple) says how a choice question whose
    boxes are on several pages is read."""
    if frame.empty:
        return pd.DataFrame(columns=[*LEADING_COLUMNS, *names, *PROVENANCE_COLUMNS], dtype=str)
    keys = ["form_key", "serial"]
    pages = (frame.drop_duplicates(["form_key", "serial", "page"])
             .sort_values(["form_key", "serial", "page"]))
    per_copy = pages.groupby(keys, sort=False).agg(submitted_at=("read_at", "max"),
                                                   copy_of=("copy_of", "first"))
    per_copy["source"] = _joined_runs(pages["form_key"].tolist(), pages["serial"].tolist(),
                                      pages["source"].tolist())
    missing = _pages_missing(pages["form_key"].tolist(), pages["serial"].tolist(),
                             pages["page"].tolist(), printed or {})
    frame = _merge_continued(frame, choices or {})
    values = frame.pivot(index=keys, columns="question", values="value")
    values = values.reindex(columns=names, fill_value="").fillna("")
    # Few answers wait for a person: list them per copy from those rows alone.
    position_of = {name: i for i, name in enumerate(names)}
    waiting: dict[tuple[str, str], list[str]] = {}
    for form_key, serial, question in frame.loc[frame["needs_review"].astype(bool),
                                                ["form_key", "serial", "question"]].itertuples(
                                                    index=False, name=None):
        if question in position_of:
            waiting.setdefault((form_key, serial), []).append(question)
    for (form_key, serial), lost in missing.items():
        by_page = (printed or {})[form_key]
        on_lost = [name for page in lost for name in by_page[page] if name in position_of]
        waiting.setdefault((form_key, serial), []).extend(on_lost)
        if unread is not None:
            unread[f"paper-{form_key}-{serial}"] = tuple(on_lost)
    confidence = frame.groupby(keys)["confidence"].min()
    meta = pd.DataFrame({
        "response_id": [f"paper-{k}-{s}" for k, s in values.index],
        "channel": "paper",
        "submitted_at": per_copy["submitted_at"].reindex(values.index).to_numpy(),
        # A further response on a serial (a photocopy, "<serial>-2") keeps the mailing's link.
        "respondent_ref": [printed or serial for printed, serial in zip(
            per_copy["copy_of"].reindex(values.index).fillna(""),
            values.index.get_level_values("serial"), strict=True)],
        "_needs_review": [" ".join(sorted(set(waiting.get(copy, ())),
                                          key=position_of.__getitem__))
                          for copy in values.index],
        "_confidence": [f"{c:.2f}" for c in confidence.reindex(values.index)],
        "_source": per_copy["source"].reindex(values.index).to_numpy(),
        "_pages_missing": [" ".join(str(n) for n in missing.get(copy, ()))
                           for copy in values.index],
    })
    records = pd.concat([meta, values.reset_index(drop=True)], axis=1)
    order = sorted(range(len(values.index)), key=lambda i: values.index[i][::-1])
    return records.iloc[order].reset_index(drop=True)


def _joined_runs(forms: list[str], serials: list[str], sources: list[str]) -> list[str]:
    """The sources of each copy's pages joined, in one pass over pages sorted by copy (a
    groupby calling join per copy costs a second for 20,000 copies)."""
    joined: list[str] = []
    current: list[str] = []
    last: tuple[str, str] | None = None
    for form_key, serial, source in zip(forms, serials, sources, strict=True):
        if (form_key, serial) != last and current:
            joined.append("; ".join(current))
            current = []
        last = (form_key, serial)
        current.append(source)
    if current:
        joined.append("; ".join(current))
    return joined


def _pages_missing(forms: list[str], serials: list[str], numbers: list[int],
                   printed: QuestionPages) -> dict[tuple[str, str], tuple[int, ...]]:
    """The printed pages each copy lacks, from its pages sorted by copy, in one pass."""
    missing: dict[tuple[str, str], tuple[int, ...]] = {}
    present: set[int] = set()
    last: tuple[str, str] | None = None

    def close(copy: tuple[str, str]) -> None:
        lost = tuple(n for n in sorted(printed.get(copy[0], {})) if n not in present)
        if lost:
            missing[copy] = lost

    for form_key, serial, number in zip(forms, serials, numbers, strict=True):
        if (form_key, serial) != last:
            if last is not None:
                close(last)
            present = set()
            last = (form_key, serial)
        present.add(int(number))
    if last is not None:
        close(last)
    return missing


def _merge_continued(frame: pd.DataFrame, choices: Mapping[str, bool]) -> pd.DataFrame:
    """One answer per question: a text that continues over pages is joined in page order; a
    choice question whose boxes are on several pages (a long list split between them) takes
    the choices marked on any of them, and a single choice marked on two pages waits for a
    person."""
    repeated = frame.duplicated(["form_key", "serial", "question"], keep=False)
    if not repeated.any():
        return frame
    parts = frame[repeated].sort_values("page")
    merged = parts.groupby(["form_key", "serial", "question"], sort=False).agg(
        page=("page", "min"),
        value=("value", list),
        pages=("page", list),
        confidence=("confidence", "min"),
        needs_review=("needs_review", "any"),
        reason=("reason", lambda s: "; ".join(r for r in s if r)),
        source=("source", "first"),
        read_at=("read_at", "max"),
        decided_by=("decided_by", "first"),
        read_value=("read_value", "first"),
        copy_of=("copy_of", "first"),
    ).reset_index()
    joined = [_joined_answer(question, values, pages, choices) for question, values, pages
              in zip(merged["question"], merged["value"], merged["pages"], strict=True)]
    merged["value"] = [value for value, _ in joined]
    conflict = pd.Series([bool(reason) for _, reason in joined], index=merged.index)
    merged["needs_review"] = merged["needs_review"].astype(bool) | conflict
    merged["reason"] = ["; ".join(r for r in (reason, extra) if r)
                        for reason, (_, extra) in zip(merged["reason"], joined, strict=True)]
    return pd.concat([frame[~repeated], merged[list(PAPER_COLUMNS)]], ignore_index=True)


def _joined_answer(question: str, values: list[str], pages: list[int],
                   choices: Mapping[str, bool]) -> tuple[str, str]:
    """The answer of a question read on several pages, and why it waits, if it does."""
    if question not in choices:
        return " ".join(v for v in values if v), ""
    marked = list(dict.fromkeys(name for value in values for name in value.split()))
    if choices[question] or len(marked) <= 1:
        return " ".join(marked), ""
    where = sorted({page for value, page in zip(values, pages, strict=True) if value})
    return "", flag_reason("ambiguous", f"{len(marked)} marked ({' '.join(marked)}) on pages "
                                        f"{' and '.join(str(p) for p in where)}")


def split_multiple(frame: pd.DataFrame, questionnaire: Questionnaire) -> pd.DataFrame:
    """A `name/choice` column of 1 and 0 after each multiple choice, as ODK and Kobo export when
    asked; empty where the question was not answered."""
    out = frame.copy()
    for question in questionnaire.questions:
        if question.type != "select_multiple" or question.name not in out.columns:
            continue
        chosen = out[question.name].str.split()
        answered = out[question.name] != ""
        at = list(out.columns).index(question.name)
        for offset, choice in enumerate(question.choice_names(), start=1):
            column = chosen.map(lambda names, c=choice: "1" if c in names else "0")
            out.insert(at + offset, f"{question.name}/{choice}", column.where(answered, ""))
    return out


CONTACT_PREFIX = "contact_"


def is_further_response(response_id: str, respondent_ref: str) -> bool:
    """A paper response made of a photocopy: its id is the first response's plus "-<n>"
    (docs/dataset.md), while respondent_ref keeps the serial printed on it."""
    return bool(respondent_ref) and re.search(
        rf"-{re.escape(respondent_ref)}-\d+$", response_id) is not None


def with_contacts(frame: pd.DataFrame,
                  contacts: dict[str, dict[str, dict[str, str]]]) -> pd.DataFrame:
    """The recipients' details beside their paper responses, as `contact_<field>` columns at
    the end. Only on request: the dataset is pseudonymous (serial only) by default. Joined by
    response id, so a further response on a serial (a photocopy, `paper-<key>-<serial>-2`) has
    none: its respondent is not the addressee."""
    by_response = {f"paper-{key}-{serial}": fields
                   for key, by_serial in contacts.items() for serial, fields in by_serial.items()}
    fields = list(dict.fromkeys(f for entry in by_response.values() for f in entry))
    out = frame.copy()
    for name in fields:
        out[f"{CONTACT_PREFIX}{name}"] = [by_response.get(rid, {}).get(name, "")
                                          for rid in out["response_id"]]
    return out
