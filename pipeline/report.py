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
