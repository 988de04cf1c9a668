"""`papertwin reminders`: a reminder for every addressed copy that has not come back.

An addressed copy (a recipient of `forms build --recipients`) has come back when its serial has
a response on any channel: a scanned copy of it (any variant of the questionnaire), a phoned-in,
keyed or letter response linked to it, or an online response giving it as the reference. The
others that are due get a reminder letter and a fresh copy of their questionnaire, printed again
from the kept template with the recorded options (print_record.py) and with the SAME serial, so
whichever copy comes back counts once (docs/reminders.md). A copy is due when it was posted,
or last reminded, on or before the --after date: a copy posted later has not had its time yet.

Everything goes into one print file and one list; the store records each reminder with its
round (1 for the first reminder of a copy, 2 for the next, ...), once both files are written.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pikepdf

from pipeline.errors import WorkspaceError
from pipeline.forms.build import PART_COPIES
from pipeline.forms.letter import plan_letters
from pipeline.forms.printorder import print_order
from pipeline.forms.recipients import recipient_of
from pipeline.forms.render import letter_design, render_pdf
from pipeline.forms.variants import LARGE_PRINT, STANDARD, Variant
from pipeline.formulas import neutral_csv
from pipeline.fsutil import atomic_write_text, atomic_writer, make_folder
from pipeline.print_record import Reprint, reprint_plan
from pipeline.records import Copy, PageCode
from pipeline.registry import registered_questionnaire
from pipeline.store.reminders import (
    AddressedCopy,
    Reminder,
    addressed_copies,
    record_reminders,
    reminders_sent,
    responded_serials,
)
from pipeline.store.store import Store
from pipeline.workspace import Workspace

PDF_NAME = "reminders.pdf"
LIST_NAME = "reminders.csv"
LIST_COLUMNS = ("serial", "round", "form_key", "variant", "languages", "first_page")


@dataclass(frozen=True)
class RemindedCopy:
    """One reminder as printed: the copy, its round, where it starts in the print file."""

    serial: str
    round: int
    form_key: str
    variant: str  # the mailing's name for it: "en-standard", "cy-en-large-print"
    languages: str  # as printed, as runs.csv writes them: "en", "cy,en"
    fields: Mapping[str, str]  # the recipient as the mailing list gave them
    first_page: int  # of the print file, counting from 1: the letter's first page


@dataclass(frozen=True)
class ReminderRun:
    """What a run of `papertwin reminders` found and printed."""

    questionnaire_id: str
    after: date
    addressed: int  # addressed copies of the questionnaire
    replied: int  # of those, with a response on some channel
    not_due: int  # silent, but posted or last reminded after the --after date
    reminded: tuple[RemindedCopy, ...] = ()
    written: tuple[Path, ...] = ()  # the print file and the list, when any reminder printed

    @property
    def rounds(self) -> dict[int, int]:
        """Reminders printed in this run, by round."""
        return dict(sorted(Counter(copy.round for copy in self.reminded).items()))


def send_reminders(workspace: Workspace, after: date, out_dir: Path,
                   questionnaire_id: str | None = None, today: date | None = None
                   ) -> ReminderRun:
    """Print the reminders due (DIR/reminders.pdf and DIR/reminders.csv) and record them;
    nothing is written when nobody is due. `today` is the date the letters carry."""
    layouts, questionnaire = registered_questionnaire(workspace, questionnaire_id)
    keys = sorted(key for key, layout in layouts.items()
                  if layout.questionnaire.id == questionnaire.id)
    with Store.open(workspace.ensure().store_url) as store:
        copies = addressed_copies(store, keys)
        replied = responded_serials(store, questionnaire.id, keys)
        sent = reminders_sent(store, questionnaire.id)
        silent = [copy for copy in copies if copy.serial not in replied]
        latest = _latest_reminders(sent)
        due = [copy for copy in silent
               if max(_day(copy.recorded_at), latest.get((copy.form_key, copy.serial),
                                                         date.min)) <= after]
        run = ReminderRun(questionnaire.id, after, len(copies), len(copies) - len(silent),
                          len(silent) - len(due))
        if not due:
            return run
        rounds = Counter((r.form_key, r.serial) for r in sent)
        reprints = {key: reprint_plan(workspace, store, key)
                    for key in sorted({copy.form_key for copy in due})}
        reminded, pdf = _print(reprints, due, rounds, out_dir, today or date.today())
        listing = out_dir / LIST_NAME
        atomic_write_text(listing, _listing(reminded))
        record_reminders(store, [Reminder(questionnaire.id, copy.form_key, copy.serial,
                                          copy.round, after.isoformat())
                                 for copy in reminded])
    return replace(run, reminded=tuple(reminded), written=(pdf, listing))


def _latest_reminders(sent: Sequence[Reminder]) -> dict[tuple[str, str], date]:
    """The day each copy's latest reminder was printed, by form key and serial."""
    latest: dict[tuple[str, str], date] = {}
    for reminder in sent:
        copy = (reminder.form_key, reminder.serial)
        latest[copy] = max(latest.get(copy, date.min), _day(reminder.issued_at))
    return latest


def _day(moment: str) -> date:
    """The day of a time as the store writes it (ISO 8601, UTC)."""
    return date.fromisoformat(moment[:10])


def _print(reprints: Mapping[str, Reprint], due: Sequence[AddressedCopy],
           rounds: Counter[tuple[str, str]], out_dir: Path,
           today: date) -> tuple[list[RemindedCopy], Path]:
    """Each form's reminders (letter, then the questionnaire again) in form key and serial
    order, joined into one print file."""
    make_folder(out_dir)
    reminded: list[RemindedCopy] = []
    page = 1
    pdf_path = out_dir / PDF_NAME
    with tempfile.TemporaryDirectory(prefix="papertwin-reminders-") as tmp:
        parts: list[Path] = []
        for key, reprint in reprints.items():
            mine = [copy for copy in due if copy.form_key == key]
            layout = reprint.plan.layout
            for start in range(0, len(mine), PART_COPIES):  # memory stays flat, as in a build
                chunk = mine[start:start + PART_COPIES]
                part = Path(tmp) / f"part-{len(parts):05d}.pdf"
                pages_each = _print_form(reprint, chunk, part, today)
                parts.append(part)
                for copy in chunk:
                    reminded.append(RemindedCopy(
                        copy.serial, rounds[key, copy.serial] + 1, key,
                        Variant(reprint.plan.languages,
                                LARGE_PRINT if layout.large_print else STANDARD).name,
                        ",".join(reprint.plan.languages), copy.fields, page))
                    page += pages_each
        with atomic_writer(pdf_path) as handle, pikepdf.Pdf.new() as joined:
            opened = [pikepdf.open(part) for part in parts]
            try:
                for source in opened:
                    joined.pages.extend(source.pages)
                joined.save(handle)
            finally:
                for source in opened:
                    source.close()
    return reminded, pdf_path


def _print_form(reprint: Reprint, copies: Sequence[AddressedCopy], path: Path,
                today: date) -> int:
    """One form's reminders into `path`; returns the pages each takes."""
    plan = reprint.plan
    recipients = [recipient_of(copy.fields) for copy in copies]
    missing = [copy.serial for copy, who in zip(copies, recipients, strict=True)
               if not who.name or not who.address]
    if missing:
        raise WorkspaceError(f"the contacts of serial(s) {', '.join(missing)} of form "
                             f"{plan.layout.form_key} have no name or address to print")
    serials = [copy.serial for copy in copies]
    letters = plan_letters(replace(letter_design(plan, today), reminder=True), recipients,
                           serials)
    printed = [Copy(serial, tuple(PageCode(plan.layout.form_key, serial, p.page).encode()
                                  for p in plan.layout.pages)) for serial in serials]
    with path.open("wb") as handle:
        render_pdf(plan, printed, handle, recipients, letters, reprint.duplex)
    return print_order(letters.pages, len(plan.pages), reprint.duplex).per_copy


def _listing(reminded: Sequence[RemindedCopy]) -> str:
    """The list beside the print file: one row per reminder, the recipient's columns last; no
    field able to run as a spreadsheet formula."""
    columns = list(dict.fromkeys(name for copy in reminded for name in copy.fields))
    return neutral_csv([[*LIST_COLUMNS, *columns], *(
        [copy.serial, str(copy.round), copy.form_key, copy.variant, copy.languages,
         str(copy.first_page), *(copy.fields.get(name, "") for name in columns)]
        for copy in reminded)])
