"""A mailing's recipients split by the variant each asked for (languages and format).

Each variant is a layout of its own, with its own form key; the print room takes them as runs,
in the order of their names, each in the recipient list's order. Nothing here touches the
workspace: pipeline/mailing.py prints and registers the runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.forms.layout import LayoutOptions
from pipeline.forms.recipients import FORMAT_COLUMN, LANGUAGE_COLUMN, Recipient, read_recipients
from pipeline.forms.sources import load_questionnaire

STANDARD = "standard"
LARGE_PRINT = "large-print"


@dataclass(frozen=True)
class Variant:
    languages: tuple[str, ...]  # printed, in order
    format: str  # standard | large-print

    @property
    def name(self) -> str:
        """Readable, and a folder name: `en-standard`, `cy-en-large-print`."""
        return "-".join((*self.languages, self.format))

    @property
    def options(self) -> LayoutOptions:
        return LayoutOptions(languages=self.languages, large_print=self.format == LARGE_PRINT)


@dataclass(frozen=True)
class VariantRun:
    """The recipients printed in one variant, in the recipient list's order."""

    variant: Variant
    recipients: tuple[Recipient, ...]


def variant_of(recipient: Recipient, run_options: LayoutOptions | None,
               template_languages: Sequence[str]) -> Variant:
    """The recipient's own languages and format; a blank one takes the run's (the command
    line's options, else the template's first language in standard print)."""
    options = run_options or LayoutOptions()
    languages = (recipient.languages or options.languages
                 or tuple(template_languages[:1]))
    fmt = recipient.format or (LARGE_PRINT if options.large_print else STANDARD)
    return Variant(tuple(languages), fmt)


def split_by_variant(recipients: Sequence[Recipient], run_options: LayoutOptions | None,
                     template_languages: Sequence[str]) -> tuple[VariantRun, ...]:
    """One run per variant asked for, sorted by the variant's name. Each recipient's row says
    the variant it was printed in (in its `language` and `format` columns, where the list has
    them), so a blank in the list is kept as what was printed."""
    runs: dict[Variant, list[Recipient]] = {}
    for recipient in recipients:
        variant = variant_of(recipient, run_options, template_languages)
        runs.setdefault(variant, []).append(_as_printed(recipient, variant))
    return tuple(VariantRun(variant, tuple(runs[variant]))
                 for variant in sorted(runs, key=lambda v: v.name))


def _as_printed(recipient: Recipient, variant: Variant) -> Recipient:
    """The recipient with its row's preference columns filled with the variant printed."""
    row = dict(recipient.row)
    for column in list(row):
        if column.lower() == LANGUAGE_COLUMN:
            row[column] = ",".join(variant.languages)
        elif column.lower() == FORMAT_COLUMN:
            row[column] = variant.format
    return replace(recipient, row=row, languages=variant.languages, format=variant.format)


def plan_variants(template: Path, recipients_file: Path,
                  run_options: LayoutOptions | None) -> tuple[VariantRun, ...]:
    """The recipient list read, its `language` column checked against the template's languages,
    and split into runs by variant."""
    questionnaire = load_questionnaire(template).questionnaire
    recipients = read_recipients(recipients_file, questionnaire.languages)
    return split_by_variant(recipients, run_options, questionnaire.languages)
