"""Everything the `papertwin` command prints to a person, in one place.

Names, reasons and values that come from outside (file names, barcode text, an online export's
columns and cells) are shown escaped (pipeline/terminal.py), so none of them can add a line or
forge one. Results go to stdout; warnings, refusals and errors to stderr, each starting with
"papertwin:", so a script can tell them apart.
"""

from __future__ import annotations

import getpass
import os
import select
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.errors import UsageError
from pipeline.terminal import shown

if TYPE_CHECKING:
    from pipeline.dataset import ExportSummary
    from pipeline.dataset.report import TrackingReport
    from pipeline.dataset.tracking import Tracking
    from pipeline.forms.build import BuiltForm
    from pipeline.ingest.batch import BatchSummary
    from pipeline.ingest.inbox import InboxPass
    from pipeline.mailing import BuiltMailing
    from pipeline.online import OnlineImport
    from pipeline.publish import ImportedForm
    from pipeline.reminders import ReminderRun
    from pipeline.review.accounts import User
    from pipeline.simulate.returns import SimulatedBatch

OUTCOME_ORDER = ("identified", "duplicate", "unknown_form", "not_a_form", "unreadable", "blank")
MAX_ROW_LINES = 20  # per kind of per-row report in an import's report; the rest are counted


# -- errors and warnings -------------------------------------------------------------------------

def error(message: str) -> None:
    print(f"papertwin: {shown(message)}", file=sys.stderr)


def warnings(messages: Iterable[str]) -> None:
    for message in messages:
        print(f"papertwin: warning: {shown(message)}", file=sys.stderr)


def interrupted() -> None:
    print("papertwin: interrupted", file=sys.stderr)


def output_closed() -> bool:
    """Whether the error is standard output's reader gone (`papertwin report | head -1`): then
    nothing more is printed there, not even Python's complaint at exit. False for any other
    broken pipe (a socket), which is an error like any other."""
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        gone = any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (OSError, ValueError):
        return False
    if gone:
        os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return gone


def internal_error(exc: BaseException) -> None:
    print(f"papertwin: internal error: {exc.__class__.__name__}: {shown(str(exc))} "
          "(rerun with --debug for details)", file=sys.stderr)


# -- forms ---------------------------------------------------------------------------------------

def built_forms(built: BuiltForm) -> None:
    layout = built.layout
    copies = f"{len(layout.copies)} {'copy' if len(layout.copies) == 1 else 'copies'}"
    printed = (f", {layout.pages_per_copy} printed with the letter and blank pages"
               if layout.pages_per_copy != len(layout.pages) else "")
    print(f"built {copies} of form {shown(layout.form_key)} "
          f"({len(layout.pages)} pages each{printed}, serials {layout.copies[0].serial}-"
          f"{layout.copies[-1].serial})")
    if len(built.pdf_paths) == 1:
        print(f"  PDF:      {shown(str(built.pdf_path))}")
    else:
        print(f"  PDF:      {len(built.pdf_paths)} parts, {shown(str(built.pdf_paths[0]))} to "
              f"{shown(built.pdf_paths[-1].name)}")
    print(f"  layout:   {shown(str(built.layout_path))}")
    if built.contacts_path is not None:
        print(f"  contacts: {shown(str(built.contacts_path))} (names and addresses by serial: "
              "keep it safe)")


def built_mailing(mailing: BuiltMailing) -> None:
    copies = sum(len(p.built.layout.copies) for p in mailing.runs)
    print(f"built a mailing of {copies} addressed copies in {len(mailing.runs)} variants, "
          "one print run each:")
    for printed in mailing.runs:
        layout = printed.built.layout
        print(f"  {shown(printed.run.variant.name)}: {len(layout.copies)} of form "
              f"{shown(layout.form_key)}, serials {layout.copies[0].serial}-"
              f"{layout.copies[-1].serial}, in {shown(str(printed.built.pdf_path.parent))}")
    print(f"  runs:     {shown(str(mailing.runs_path))}")
    print(f"  contacts: {shown(str(mailing.contacts_path))} (names and addresses by serial, with "
          "each one's variant: keep it safe)")


def reminders_printed(run: ReminderRun, out: TextIO | None = None) -> None:
    """What `papertwin reminders` found, and the files it wrote; why nothing, when nothing."""
    out = out or sys.stdout
    after = run.after.isoformat()
    name = shown(run.questionnaire_id)
    if not run.addressed:
        print(f"no reminders: {name} has no addressed copies (reminders go to the recipients "
              "of `papertwin forms build --recipients`)", file=out)
        return
    found = (f"{run.addressed} addressed copies of {name}: {run.replied} replied, "
             f"{run.addressed - run.replied} not yet")
    if run.not_due:
        found += f" ({run.not_due} of them posted or reminded after {after}, not yet due)"
    print(found, file=out)
    if not run.reminded:
        print(f"no reminders: nobody is due (silent, posted or last reminded on or before "
              f"{after})", file=out)
        return
    rounds = ", ".join(f"{count} in round {number}" for number, count in run.rounds.items())
    print(f"printed {len(run.reminded)} reminders ({rounds})", file=out)
    pdf, listing = run.written
    print(f"  print file: {shown(str(pdf))}", file=out)
    print(f"  list:       {shown(str(listing))} (names and addresses by serial: keep it safe)",
          file=out)


def previewed(pages: Sequence[Path], template: Path, out_dir: Path) -> None:
    print(f"previewed {len(pages)} pages of {shown(str(template))} in {shown(str(out_dir))}")


def imported_form(imported: ImportedForm, banding: Path) -> None:
    layout = imported.layout
    questions = len(layout.questionnaire.questions)
    print(f"imported form {shown(layout.form_key)} from {shown(str(banding))} "
          f"({len(layout.pages)} pages, {questions} questions); its scans are read by "
          "`papertwin ingest`")
    print(f"  layout:   {shown(str(imported.layout_path))}")


def simulated(batch: SimulatedBatch) -> None:
    print(f"simulated {batch.responses} returns ({batch.pages} pages)")
    print(f"  scans:        {shown(str(batch.pdf_path))}")
    print(f"  ground truth: {shown(str(batch.truth_path))}")


# -- ingest and the inbox ------------------------------------------------------------------------

def print_batch_summary(summary: BatchSummary, out: TextIO = sys.stdout) -> None:
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
            print(f"  {shown(line.file)} p{line.index}: {line.outcome.replace('_', ' ')}"
                  f" - {shown(line.reason)}", file=out)
    if summary.incomplete:
        print(f"  incomplete responses (a page not scanned yet): {len(summary.incomplete)}",
              file=out)
    for response in summary.incomplete:
        missing = ", ".join(str(n) for n in response.pages_missing)
        noun = "page" if len(response.pages_missing) == 1 else "pages"
        print(f"  serial {shown(response.serial)} of {shown(response.form_key)}: {noun} {missing} "
              "missing", file=out)


def set_aside(summary: BatchSummary) -> None:
    for item in summary.set_aside:
        print(f"papertwin: set aside: {shown(item.reason)}", file=sys.stderr)


def watching(inbox: Path, interval: float, settle: float) -> None:
    print(f"watching {shown(str(inbox))} every {interval:g} s (files settle for {settle:g} s); "
          "Ctrl-C to stop", flush=True)


def inbox_pass(result: InboxPass, inbox: Path) -> None:
    """One pass of `papertwin watch`: its batch, and where each file went."""
    from pipeline.ingest.inbox import describe

    if result.busy:
        print(f"papertwin: another watcher is working on {shown(str(inbox))}; skipped this "
              "pass", file=sys.stderr)
    if result.summary is not None:
        print_batch_summary(result.summary, sys.stdout)
    for item in result.filed:
        print(f"  {describe(item)}")
    sys.stdout.flush()


def stopped_watching(inbox: Path, passes: Sequence[InboxPass]) -> None:
    processed = sum(p.processed for p in passes)
    quarantined = sum(p.quarantined for p in passes)
    print(f"stopped watching {shown(str(inbox))}: {processed} files to processed/, "
          f"{quarantined} to quarantine/", flush=True)


# -- the online export and the dataset -----------------------------------------------------------

def print_import_report(imported: OnlineImport, path: Path, out: TextIO = sys.stdout) -> None:
    """Everything an import noticed, written to `out` (the terminal), `path` naming the online
    export as the person gave it."""
    how = "detected" if imported.detected else "as named by --convention"
    print(f"imported {len(imported.rows)} online responses from {shown(str(path))}", file=out)
    print(f"  convention: {imported.convention} ({imported.convention_title}), {how}"
          + (f"; mapping file {shown(imported.mapping)}" if imported.mapping else ""), file=out)
    meta = [f"response id column '{shown(imported.id_column)}'"]
    meta.append(f"submitted '{shown(imported.submitted_column)}'" if imported.submitted_column
                else "no submission time column")
    meta.append(f"respondent reference '{shown(imported.reference_column)}'"
                if imported.reference_column else "no respondent reference column")
    print(f"  {'; '.join(meta)}", file=out)
    print(f"  question columns matched: {len(imported.matched)}", file=out)
    if imported.missing:
        print(f"  questions with no column in the export (paper only): "
              f"{_listed(imported.missing)}", file=out)
    kept = {column for _, column in imported.online_only}
    if kept:
        print("  questions asked online only, answers kept: " + ", ".join(
            f"{shown(name)} ({shown(column)})" for name, column in imported.online_only),
            file=out)
    dropped = [c for c in imported.extra if c not in kept]
    if dropped:
        print(f"  columns that are no question (online only, not imported): "
              f"{_listed(dropped)}", file=out)
    for difference in imported.choice_differences:
        print(f"  choices differ between channels: {shown(difference.question)} has "
              f"{_listed(difference.values)} online, which the paper form lacks "
              f"({difference.rows} responses; kept as exported)", file=out)
    for bad in imported.invalid[:MAX_ROW_LINES]:
        print(f"  row {bad.row}: '{shown(bad.value)}' is not a choice of {shown(bad.question)} "
              "(kept as is)", file=out)
    _more(len(imported.invalid), "values not among the choices", out)
    for split in imported.disagreements[:MAX_ROW_LINES]:
        print(f"  row {split.row}: {shown(split.question)} says '{shown(split.combined)}' but its "
              f"0/1 columns say '{shown(split.split)}' (the single column is kept)", file=out)
    _more(len(imported.disagreements), "disagreements", out)
    for repeat in imported.repeats:
        print(f"  repeat group {shown(repeat.repeat)}: {repeat.instances} rows from "
              f"{shown(repeat.table)}, kept under the copies' names", file=out)
    for warning in imported.warnings:
        print(f"  note: {shown(warning)}", file=out)


def _listed(names: Iterable[str]) -> str:
    return ", ".join(shown(name) for name in names)


def _more(count: int, what: str, out: TextIO) -> None:
    if count > MAX_ROW_LINES:
        print(f"  ... and {count - MAX_ROW_LINES} more {what}", file=out)


def exported(summary: ExportSummary, with_contacts: bool) -> None:
    channels = ", ".join(f"{n} {c}" for c, n in sorted(summary.by_channel.items()))
    print(f"wrote {summary.rows} responses ({channels or 'none'}) to {shown(str(summary.path))}")
    for extra in summary.written[1:]:
        print(f"  also {shown(str(extra))}")
    print(f"  {summary.needs_review} responses have answers waiting for a person")
    if summary.dual_pairs:
        decided = sum(1 for pair in summary.dual_pairs if pair.decided)
        waiting = sum(1 for pair in summary.dual_pairs if pair.kept == "both" and not pair.decided)
        people = len(summary.dual_pairs)
        print(f"  {people} {'person' if people == 1 else 'people'} answered on paper and online "
              f"({summary.dual_policy}): {decided} settled by a person in the review app, "
              f"{waiting} pairs kept for a person to decide (_dual_channel names the other "
              "response)")
    if summary.off_route:
        done = ("emptied in the dataset, kept in the store" if summary.route == "blank"
                else "kept")
        print(f"  {summary.off_route} paper responses answered questions their own answers "
              f"skip (--route {summary.route}): named in _off_route, {done}")
    if with_contacts:
        print("  it holds names and addresses (contact_* columns): keep it as safe as the "
              "mailing list")
    if summary.online_only:
        print("  asked online only (kept, empty for paper): "
              + ", ".join(shown(name) for name in summary.online_only))
    for column, why in summary.kept_as_text.items():
        print(f"  column {shown(column)} kept as text: {shown(why)}")
    if summary.repeats:
        keys = "ODK Central's PARENT_KEY and KEY" if summary.repeat_keys == "odk" else \
            "KoboToolbox's _index and _parent_index"
        print("  repeat groups as tables, keyed by " + keys + ": " + ", ".join(
            f"{shown(name)} ({rows} rows)" for name, rows in summary.repeats.items()))
    if summary.tracking is not None and summary.tracking.total.printed:
        print(f"  the mailing: {_tracking_line(summary.tracking)}")


# -- the tracking of a mailing -------------------------------------------------------------------

def tracking_report(report: TrackingReport, out: TextIO | None = None) -> None:
    """The tables of `papertwin report`, aligned for a terminal; the files written after."""
    from pipeline.dataset.tracking import CHANNEL_LABELS, CHANNELS, DISTRICT_MIN_COPIES

    out = out or sys.stdout
    tracking = report.tracking
    print(f"returns of {shown(tracking.questionnaire_id)}:\n  {_tracking_line(tracking)}",
          file=out)
    # The keyed and letter columns only once a response came that way (the CSV files always
    # have them), so a mailing back on paper and online alone reads as it always did.
    others = [name for name, channels in (("keyed", ("paper_keyed", "phone")),
                                          ("letter", ("letter",)))
              if any(tracking.responses(channel) for channel in channels)]
    print("\ncopies by variant", file=out)
    _table(["variant", "languages", "printed", "addressed", "paper", "online", *others,
            "returned", "not returned", "rate"],
           [[shown(v.variant), shown(v.languages), v.printed, v.addressed, v.paper, v.online,
             *(getattr(v, name) for name in others), v.returned, v.not_returned, _rate(v.rate)]
            for v in [*tracking.variants, tracking.total]], out, left=2)
    print("\nresponses by channel", file=out)
    _table(["channel", "responses"],
           [[CHANNEL_LABELS[channel], count] for channel, count in tracking.channels], out)
    print("\nresponses by ISO week of return (paper: first page read; online: submitted"
          + ("; keyed, phone and letters: registered" if others else "") + ")", file=out)
    shown_channels = [at for at, channel in enumerate(CHANNELS)
                      if tracking.responses(channel)]
    if tracking.weeks:
        _table(["week", *(CHANNEL_LABELS[CHANNELS[at]] for at in shown_channels), "total"],
               [[week.week, *(week.counts[at] for at in shown_channels), week.total]
                for week in tracking.weeks], out)
    else:
        print("  none yet", file=out)
    print(f"\naddressed copies by postcode district (districts of fewer than "
          f"{DISTRICT_MIN_COPIES} copies counted as other)", file=out)
    if tracking.districts:
        _table(["district", "addressed", "paper", "online", *others, "returned", "rate"],
               [[shown(d.district), d.addressed, d.paper, d.online,
                 *(getattr(d, name) for name in others), d.returned, _rate(d.rate)]
                for d in tracking.districts], out)
    else:
        print("  no addressed copies (no recipient list was given to forms build)", file=out)
    if tracking.reminders:
        print("\nreminders by round (replied: of those reminded, on any channel since)", file=out)
        _table(["round", "sent", "replied", "rate"],
               [[r.round, r.sent, r.replied, _rate(r.rate)] for r in tracking.reminders], out)
    if report.written:
        print("", file=out)
    for path in report.written:
        print(f"wrote {shown(str(path))}", file=out)


def _tracking_line(tracking: Tracking) -> str:
    """Copies out, back per channel, and the rate, in one line; and the online responses that
    are not of the mailing, in another when there are some."""
    total = tracking.total
    rate = f" ({_rate(total.rate)})" if total.rate is not None else ""
    other = tracking.responses("online_other")
    keyed = f", {total.keyed} keyed" if total.keyed else ""
    letter = f", {total.letter} by letter" if total.letter else ""
    reminded = "; ".join(f"round {r.round}: {r.sent} reminded, {r.replied} replied since"
                         for r in tracking.reminders)
    return (f"{total.printed} copies printed, {total.returned} returned{rate}: "
            f"{total.paper} on paper, {total.online} online{keyed}{letter}; "
            f"{total.not_returned} not yet "
            "returned" + (f"\n  and {other} online responses not from the mailing" if other
                          else "") + (f"\n  reminders: {reminded}" if reminded else ""))


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1%}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str | int]], out: TextIO,
           left: int = 1) -> None:
    """Columns aligned under their header: the first `left` to the left, the rest (counts) to
    the right."""
    cells = [list(header), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[at]) for row in cells) for at in range(len(header))]
    for row in cells:
        print("  " + "  ".join(cell.ljust(width) if at < left else cell.rjust(width)
                               for at, (cell, width) in enumerate(zip(row, widths, strict=True)))
              .rstrip(), file=out)


# -- the review app and its users ----------------------------------------------------------------

def review_serving(host: str, port: int, allowed: Sequence[str]) -> None:
    print(f"papertwin review: http://{shown(host)}:{port}/ (Ctrl-C stops it); "
          f"answers to {', '.join(shown(name) for name in allowed)}")


def ask_password(from_stdin: bool) -> str:
    """The first line of stdin (scripts), or asked twice at the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for a password: give --password-stdin and the "
                         "password on stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ: nothing was changed")
    return first


def user_added(user: User) -> None:
    print(f"added {shown(user.name)} ({user.role})")


def password_set(name: str) -> None:
    print(f"new password for {shown(name)}; their sessions have ended")


def users(people: Iterable[User]) -> None:
    for user in people:
        state = " (disabled)" if user.disabled else ""
        print(f"{shown(user.name)}\t{user.role}{state}\tsince {user.created_at}")


def user_switched(name: str, action: str) -> None:
    print(f"{shown(name)} {action}d")


# -- the workspace server -----------------------------------------------------------------------

def server_stopped(workspace: Path, pid: int | None) -> None:
    print(f"stopped the papertwin server of {shown(str(workspace))} (pid {pid})"
          if pid is not None else f"no papertwin server runs for {shown(str(workspace))}")


def server_status(workspace: Path, status: Mapping[str, Any] | None) -> None:
    """`papertwin server status`: `status` as the server reports it, None when none runs."""
    if status is None:
        print(f"papertwin server: not running for {shown(str(workspace))}")
        return
    idle = float(status["idle_seconds"])
    running = int(status["running"])
    print(f"papertwin server: running for {shown(str(workspace))}")
    print(f"  pid:         {status['pid']}")
    print(f"  Prefect API: {status['api_url']}")
    print("  idle:        " + (f"{running} command{'s' if running != 1 else ''} running"
                                if running else
                                f"{idle:.0f} s (stops after {float(status['idle_limit']):g} s "
                                "idle)"))
    print(f"  log:         {shown(str(status['log']))}")


def running_alone(reason: str) -> None:
    """The workspace server could not take the command: it runs in this process instead."""
    print(f"papertwin: {shown(reason)}; running this command on its own", file=sys.stderr,
          flush=True)


# -- the demo ------------------------------------------------------------------------------------

def say(line: str, out: TextIO = sys.stdout) -> None:
    """A line of a command's own account (the demo's steps), escaped like every other."""
    print(shown(line), file=out)
