"""What the command line prints after a batch or an import: short, naming what needs a person."""

from __future__ import annotations

from typing import TextIO

from pipeline.batch import BatchSummary

OUTCOME_ORDER = ("identified", "duplicate", "unknown_form", "not_a_form", "unreadable", "blank")


def print_batch_summary(summary: BatchSummary, out: TextIO) -> None:
    outcomes = summary.outcomes
    total = sum(outcomes.values())
    parts = [f"{outcomes[o]} {o.replace('_', ' ')}" for o in OUTCOME_ORDER if outcomes.get(o)]
    print(f"batch {summary.batch_id}: {summary.files_read} files read, "
          f"{summary.files_already_read} already ingested, {len(summary.set_aside)} set aside",
          file=out)
    print(f"  pages: {total}" + (f" ({', '.join(parts)})" if parts else ""), file=out)
    print(f"  answers read: {summary.answers}; flagged for review: {summary.flagged}", file=out)
    for line in summary.pages:
        if line.outcome != "identified":
            print(f"  {line.file} p{line.index}: {line.outcome.replace('_', ' ')}"
                  f" - {line.reason}", file=out)
    if summary.incomplete:
        print(f"  incomplete responses (a page not scanned yet): {len(summary.incomplete)}",
              file=out)
    for response in summary.incomplete:
        missing = ", ".join(str(n) for n in response.pages_missing)
        noun = "page" if len(response.pages_missing) == 1 else "pages"
        print(f"  serial {response.serial} of {response.form_key}: {noun} {missing} missing",
              file=out)


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
        lines += [f"- `{item.path}`: {item.reason}" for item in summary.set_aside]
    if summary.incomplete:
        lines += ["", "## Incomplete responses (a page not scanned yet)", ""]
        lines += [f"- serial {r.serial} of {r.form_key}: pages "
                  f"{', '.join(str(n) for n in r.pages_missing)} missing"
                  for r in summary.incomplete]
    lines += ["", "## Review queue", "",
              f"{summary.flagged} answers of this batch wait for a person in the review queue "
              "(each with its reason; they are marked in the dataset's `_needs_review` column "
              "until decided)." if summary.flagged else
              "No answer of this batch waits for a person in the review queue."]
    return "\n".join(lines) + "\n"
