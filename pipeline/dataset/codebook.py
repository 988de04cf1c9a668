"""What each column of the dataset means, and how each question was answered per channel.

The codebook lets an analyst use the dataset without the questionnaire: one row per column of
the dataset as written (leading, question, 0/1 split, online-only and provenance columns), with
its name in every format (CSV/Parquet/XLSX, SPSS, Stata), the printed question number, the
question and choice texts in every language of the form (a grid row's with its grid's wording),
the type, when the route asks it (in words and as the form's expression), the numbers SPSS and
Stata files give word codes, and what an empty cell can mean. The summary counts answers per
question, channel and value, so paper and online can be compared at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from pipeline.dataset.missing import MISSING_CODES
from pipeline.dataset.names import tool_names
from pipeline.dataset.types import TYPED_AS, column_kinds, integer_codes, split_owner
from pipeline.forms.condition_words import filter_line
from pipeline.forms.numbering import question_numbers
from pipeline.model import Grid, Question, Questionnaire, expand_items

CHANNELS = ("paper", "online")
# What papertwin's own columns hold (DESIGN.md's contract and docs/dataset.md).
COLUMN_DESCRIPTIONS: dict[str, str] = {
    "response_id": "the response's id: paper-<form key>-<serial> on paper, the online tool's "
                   "id online",
    "channel": "how the response came: paper (scanned) or online; phone or paper-keyed (keyed "
               "by a person); letter (correspondence, its text in _letter_text)",
    "submitted_at": "when it came, ISO 8601 in UTC: online, the tool's submission time; paper, "
                    "when its last page was read",
    "respondent_ref": "the copy serial printed on the paper form (also given online by those "
                      "invited to answer there): the link to the mailing list",
    "_needs_review": "questions (names, space separated) whose answer waits for a person",
    "_confidence": "lowest confidence of the response's readings, 0 to 1 (paper only)",
    "_source": "where the response was read: scan file and page, or export file and row",
    "_pages_missing": "printed pages of the copy never identified (their questions wait)",
    "_off_route": "questions answered on paper that the respondent's own earlier answers "
                  "skip (names, space separated)",
    "_letter_text": "a letter's text, as read or as a person corrected it (channel letter)",
    "_dual_channel": "the same person's response on the other channel, and which was kept",
}
CODEBOOK_COLUMNS = ("column", "sav_name", "dta_name", "number", "question", "label", "type",
                    "typed_as", "choices", "numbered", "asked_if", "relevant", "missing",
                    "channels", "description")


def codebook(questionnaire: Questionnaire, online_columns: frozenset[str],
             online_only: tuple[str, ...] = (), columns: Sequence[str] | None = None,
             numbered: Mapping[str, Mapping[str, int]] | None = None,
             short_names: Mapping[str, str] | None = None,
             metadata: Sequence[tuple[str, str]] = ()) -> pd.DataFrame:
    """One row per column of the dataset (`columns`, as written; by default the questions and
    online-only columns alone), saying what it holds and which channels asked it: every
    question is printed on paper; online, those the export has a column for. `numbered` gives
    the numbers SPSS and Stata files give a choice question's word codes; `short_names` the
    question name of a column named as the online export names it (columns.py), and
    `metadata` the online tool's own columns, with what each holds."""
    if columns is None:
        columns = [*(q.name for q in questionnaire.questions), *online_only]
    short_of = dict(short_names or {})
    described = dict(metadata)
    languages = questionnaire.languages
    by_name = {q.name: q for q in questionnaire.questions}
    grids = {g.name: g for g in expand_items(questionnaire.items) if isinstance(g, Grid)}
    numbers = question_numbers(questionnaire)
    shorts = [short_of.get(c, c) for c in columns]
    kinds = column_kinds(shorts, questionnaire)
    sav, dta = tool_names(columns, "sav"), tool_names(columns, "dta")
    rows = []
    for column, short in zip(columns, shorts, strict=True):
        question = by_name.get(short)
        owner = split_owner(short, by_name)
        row: dict[str, object] = {c: "" for c in CODEBOOK_COLUMNS}
        row.update(column=column, sav_name=sav[column], dta_name=dta[column],
                   type=kinds[short], typed_as=TYPED_AS[kinds[short]])
        if column in described:
            row.update(type="metadata", channels="online", description=described[column])
            for lang in languages:
                row[_in(lang, "label", languages)] = described[column]
        elif question is not None:
            grid = grids.get(question.grid)
            row.update(question=question.name, number=_number(question, grid, numbers),
                       type=question.type,
                       channels="paper, online" if short in online_columns else "paper",
                       relevant=question.relevant,
                       missing=_missing(kinds[short] in ("integer", "decimal", "choice")))
            if kinds[short] == "choice":
                row["typed_as"] = "Int64" if integer_codes(question) else "text"
            for lang in languages:
                row[_in(lang, "label", languages)] = _label(question, grid, lang)
                row[_in(lang, "choices", languages)] = "; ".join(
                    f"{c.name} = {c.label.text(lang)}" for c in question.choices)
                row[_in(lang, "asked_if", languages)] = _asked_if(question, lang, numbers,
                                                                   by_name)
            if question.is_choice and not integer_codes(question) and numbered:
                row["numbered"] = "; ".join(f"{n} = {code}" for code, n
                                            in numbered.get(short, {}).items())
        elif owner is not None:
            choice = short.rsplit("/", 1)[1]
            row.update(question=owner.name, number=_number(owner, None, numbers),
                       channels="paper, online" if owner.name in online_columns else "paper",
                       description=f"1 if {choice} was chosen in {owner.name}, else 0",
                       missing=_missing(True))
            for lang in languages:
                choice_text = next((c.label.text(lang) for c in owner.choices
                                    if c.name == choice), choice)
                row[_in(lang, "label", languages)] = f"{owner.label.text(lang)}: {choice_text}"
        elif short in online_only:
            row.update(question=short, channels="online",
                       description="asked online only: the paper form does not print it")
        else:
            row.update(description=_described(column))
        rows.append(row)
    order = [c for c in CODEBOOK_COLUMNS if c not in ("label", "choices", "asked_if")]
    texts = [_in(lang, part, languages) for part in ("label", "choices", "asked_if")
             for lang in languages]
    order[order.index("type"):order.index("type")] = texts
    return pd.DataFrame(rows, columns=order).fillna("")


def _in(lang: str, part: str, languages: Sequence[str]) -> str:
    """`label` for a form in one language; `label_en`, `label_cy` for one in several."""
    return part if len(languages) == 1 else f"{part}_{lang}"


def _number(question: Question, grid: Grid | None, numbers: Mapping[str, object]) -> str:
    """The number printed beside the question (a grid row's is its grid's)."""
    found = numbers.get(grid.name if grid is not None else question.name)
    if found is None and question.other_of:
        found = numbers.get(question.other_of)
    return "" if found is None else str(found)


def _label(question: Question, grid: Grid | None, lang: str) -> str:
    """The question as printed; a grid row with its grid's question before it."""
    own = question.label.text(lang)
    return f"{grid.label.text(lang)}: {own}" if grid is not None else own


def _asked_if(question: Question, lang: str, numbers: Mapping[str, object],
              by_name: Mapping[str, Question]) -> str:
    if not question.relevant:
        return ""
    return filter_line(question.relevant, lang, numbers, by_name)  # type: ignore[arg-type]


def _missing(coded: bool) -> str:
    """What an empty cell means, and its codes in SPSS and Stata files."""
    if not coded:
        return ("empty; _needs_review, _off_route and _pages_missing say why (SPSS and Stata: "
                "empty text or system missing)")
    return "; ".join(f"SPSS {c.spss}, Stata .{c.stata}: {c.words}" for c in MISSING_CODES)


def _described(column: str) -> str:
    if column in COLUMN_DESCRIPTIONS:
        return COLUMN_DESCRIPTIONS[column]
    if column.startswith("contact_"):
        return f"the addressee's {column.removeprefix('contact_')} from the mailing list"
    return ""


def codebook_page(table: pd.DataFrame, title: str) -> str:
    """The codebook as a Markdown page to read: one section per column."""
    lines = [f"# Codebook: {title}", "",
             "Every column of the dataset, in order. Names differ by format where a tool "
             "refuses the dataset's own (SPSS, Stata).", "",
             "Missing-value codes in SPSS (.sav) and Stata (.dta) files, on number and choice "
             "questions:", ""]
    lines += [f"- `{c.spss}` / `.{c.stata}`: {c.words}" for c in MISSING_CODES]
    lines.append("")
    skip = {"column"}
    for row in table.to_dict("records"):
        table = row.get("table", "dataset")
        heading = (f"## `{row['column']}`" if table in ("", "dataset")
                   else f"## `{row['column']}` (table `{table}`)")
        if row.get("number"):
            heading += f" (question {row['number']})"
        lines += [heading, ""]
        for key, value in row.items():
            if key in skip or value in ("", None):
                continue
            lines.append(f"- **{str(key).replace('_', ' ')}**: {_md(str(value))}")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text as Markdown shows it literally (a code like `*` or `_x_` is not formatting)."""
    for mark in ("\\", "*", "_", "`", "[", "]", "<", ">", "#", "|"):
        text = text.replace(mark, "\\" + mark)
    return text


def summary(questionnaire: Questionnaire, frame: pd.DataFrame) -> pd.DataFrame:
    """Counts per question, channel and value; a multiple choice counts each choice named, and
    free text counts answered and unanswered only. An empty answer that waits for a person (an
    undecided reading, a page never identified) is counted as waiting, never as blank."""
    rows: list[dict[str, object]] = []
    # paper and online first, then any other channel present (phone, paper-keyed, ...)
    channels = (*CHANNELS, *sorted(set(frame["channel"]) - set(CHANNELS)))
    by_channel = {channel: frame[frame["channel"] == channel] for channel in channels}
    waiting_rows = _waiting_rows(frame)
    for question in questionnaire.questions:
        if question.name not in frame.columns:
            continue
        for channel in channels:
            values = by_channel[channel][question.name]
            if values.empty:
                continue
            waiting = (values == "") & values.index.isin(waiting_rows.get(question.name, []))
            blank = int((values == "").sum()) - int(waiting.sum())
            if question.is_choice:
                named = values[values != ""]
                if question.type == "select_multiple":
                    named = named.str.split().explode()
                counts = named.value_counts()
                for choice in question.choice_names():
                    rows.append(_row(question.name, channel, choice, int(counts.get(choice, 0))))
                for other in sorted(set(counts.index) - set(question.choice_names())):
                    rows.append(_row(question.name, channel, f"{other} (not a choice)",
                                     int(counts[other])))
            else:
                rows.append(_row(question.name, channel, "(answered)", len(values) - blank))
            rows.append(_row(question.name, channel, "(blank)", blank))
            if waiting.any():
                rows.append(_row(question.name, channel, "(waiting for a person)",
                                 int(waiting.sum())))
    return pd.DataFrame(rows, columns=["question", "channel", "value", "count"])


def _waiting_rows(frame: pd.DataFrame) -> dict[str, list[object]]:
    """Question name -> the rows whose _needs_review names it (few: found once, not per
    question)."""
    if "_needs_review" not in frame.columns:
        return {}
    named = frame["_needs_review"].str.split().explode().dropna()
    return {str(name): list(rows) for name, rows in named.groupby(named).groups.items()}


def _row(question: str, channel: str, value: str, count: int) -> dict[str, object]:
    return {"question": question, "channel": channel, "value": value, "count": count}
