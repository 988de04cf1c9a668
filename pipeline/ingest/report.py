"""A batch's account as Prefect artifacts: a table of pages by outcome and a Markdown summary.

File names, reasons (which embed file names) and the serials and form keys read off barcodes are
shown escaped (pipeline/terminal.py): none of them can add a line to the summary. In Markdown they
are also kept from adding structure (a link, an image, a code span of their own).
"""

from __future__ import annotations

import re

from pipeline.ingest.batch import BatchSummary
from pipeline.terminal import shown

OUTCOME_ORDER = ("identified", "duplicate", "unknown_form", "not_a_form", "unreadable", "blank")
# What could start a link, an image, an HTML tag or entity, emphasis or a code span in a line.
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>&!|~])")


def outcome_rows(summary: BatchSummary) -> list[dict[str, str | int]]:
    """Pages by outcome, one row each, in the order a person reads them, for a table view."""
    outcomes = summary.outcomes
    order = [o for o in OUTCOME_ORDER if o in outcomes] + sorted(set(outcomes) - set(OUTCOME_ORDER))
    return [{"outcome": o.replace("_", " "), "pages": outcomes[o]} for o in order]


def batch_markdown(summary: BatchSummary) -> str:
    """The batch summary as Markdown, for a dashboard: what was read, and what needs a person."""
    total = len(summary.pages)
    lines = [
        f"# Batch {summary.batch_id}",
        "",
        f"- files read: {summary.files_read}; already ingested: {summary.files_already_read}; "
        f"set aside: {len(summary.set_aside)}",
        f"- pages: {total}" + (f" ({summary.pages_from_cache} taken from the cache of an "
                               "earlier run)" if summary.pages_from_cache else ""),
        f"- answers read: {summary.answers}; flagged for review: {summary.flagged}",
    ]
    if summary.set_aside:
        lines += ["", "## Set aside", ""]
        lines += [f"- {markdown_code(item.path)}: {markdown_text(item.reason)}"
                  for item in summary.set_aside]
    if summary.incomplete:
        lines += ["", "## Incomplete responses (a page not scanned yet)", ""]
        lines += [f"- serial {markdown_text(r.serial)} of {markdown_text(r.form_key)}: pages "
                  f"{', '.join(str(n) for n in r.pages_missing)} missing"
                  for r in summary.incomplete]
    lines += ["", "## Review queue", "",
              f"{summary.flagged} answers of this batch wait for a person in the review queue "
              "(each with its reason; they are marked in the dataset's `_needs_review` column "
              "until decided)." if summary.flagged else
              "No answer of this batch waits for a person in the review queue."]
    return "\n".join(lines) + "\n"


def markdown_text(text: str) -> str:
    """Text that renders as itself in a Markdown line: escaped for the terminal (no line
    breaks), and every character that could start inline Markdown or HTML backslash-escaped."""
    return MARKDOWN_INLINE.sub(r"\\\1", shown(text))


def markdown_code(text: str) -> str:
    """Text as a code span, fenced by more backticks than it holds in a row (CommonMark), so a
    backtick in a file name cannot end the span early."""
    text = shown(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
