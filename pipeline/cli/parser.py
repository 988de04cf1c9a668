"""The `papertwin` command's parser, and the options it turns into papertwin's own settings.

The verbs themselves run the flows (flows/cli.py, the dispatch table; the library never imports
the flows); what they print is pipeline/cli/present.py.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.errors import UsageError
from pipeline.read.page import ReaderSettings
from pipeline.scan.intake import MAX_PAGES_PER_FILE
from pipeline.simulate.degrade import PROFILE_NAMES as DEGRADATION_PROFILES

if TYPE_CHECKING:
    from pipeline.dataset import ExportOptions
    from pipeline.forms.layout import LayoutOptions
    from pipeline.online import ImportOptions

__all__ = ["build_parser", "export_options", "import_options", "layout_options", "marks",
           "reader_settings"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="papertwin",
        description="Print paper twins of online surveys, read the scanned returns, and "
                    "reconcile both channels into one dataset.",
    )
    parser.add_argument("--version", action="version", version=f"papertwin {__version__}")
    _add_common_options(parser, with_defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _add_common_options(common, with_defaults=False)
    verbs = _Verbs(parser.add_subparsers(dest="verb", required=True, metavar="VERB"), common)

    forms = verbs.add_parser("forms", help="design and print questionnaires")
    forms_verbs = _Verbs(forms.add_subparsers(dest="forms_verb", required=True,
                                              metavar="ACTION"), common)
    build = forms_verbs.add_parser("build", help="PDF with N barcoded copies, plus layout.json")
    build.add_argument("template", type=Path,
                       help="questionnaire template: YAML, XLSForm (.xlsx, .xls, .csv, .md) or "
                            "queXML")
    copies = build.add_mutually_exclusive_group(required=True)
    copies.add_argument("--copies", type=int, help="number of anonymous copies to print")
    copies.add_argument("--recipients", type=Path,
                        help="CSV of recipients (name, address columns): one addressed copy each")
    build.add_argument("--out", type=Path, required=True, help="folder for form.pdf, layout.json")
    _add_layout_options(build)
    preview = forms_verbs.add_parser("preview", help="PNG pages of a specimen copy")
    preview.add_argument("template", type=Path, help="questionnaire template")
    preview.add_argument("--out", type=Path, required=True, help="folder for the PNG pages")
    preview.add_argument("--dpi", type=int, default=100, help="resolution (default 100)")
    preview.add_argument("--recipients", type=Path,
                         help="CSV of recipients: preview the first few addressed copies, with "
                              "their cover letters")
    _add_layout_options(preview)
    imported = forms_verbs.add_parser("import", help="register a form printed by queXF")
    imported.add_argument("banding", type=Path, help="queXF banding file (XML)")
    imported.add_argument("--out", type=Path, required=True, help="folder for layout.json")
    imported.add_argument("--id", dest="form_id", default=None,
                          help="questionnaire id for the dataset (default quexf_<its id>)")

    simulate = verbs.add_parser("simulate", help="filled, scanner-damaged returns of a built form")
    simulate.add_argument("--form", type=Path, required=True, help="folder of a built form")
    simulate.add_argument("--out", type=Path, required=True, help="folder for the batch and truth")
    simulate.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    simulate.add_argument("--dpi", type=int, default=200, help="scan resolution (default 200)")
    simulate.add_argument("--clean", action="store_true", help="no scanner damage")
    simulate.add_argument("--off-route", type=_share, default=None, metavar="SHARE",
                          help="share of respondents who answer questions their printed route "
                               "skips (default 0.1)")
    simulate.add_argument("--degrade", default=None, metavar="PROFILE",
                          choices=DEGRADATION_PROFILES,
                          help="print, damage and scan the returns as a degradation profile "
                               f"says, instead of mild damage: {', '.join(DEGRADATION_PROFILES)} "
                               "(needs augraphy)")
    simulate.add_argument("--marks", default="", metavar="MARKS",
                          help="the marks respondents make, comma-separated, each respondent one "
                               "of them: tick, cross, spill, dot, circle (default: ticks and "
                               "crosses)")
    simulate.add_argument("--letter", action="store_true",
                          help="put a typed two-page letter among the forms, after the first "
                               "copy (docs/letters.md)")

    ingest = verbs.add_parser("ingest", help="read scanned returns into the store")
    ingest.add_argument("paths", nargs="+", type=Path, help="scan files or folders of them")
    _add_reading_options(ingest)

    watch = verbs.add_parser("watch", help="ingest the scan files dropped into a folder")
    watch.add_argument("inbox", type=Path, help="the folder scans are dropped into")
    watch.add_argument("--interval", type=_seconds, default=None, metavar="SECONDS",
                       help="seconds between two looks at the inbox (default 10)")
    watch.add_argument("--settle", type=_seconds, default=None, metavar="SECONDS",
                       help="a file is read once it has not changed for this long (default 5)")
    watch.add_argument("--once", action="store_true", help="one pass, then exit")
    watch.add_argument("--serve", action="store_true",
                       help="serve the watch_inbox flow as a Prefect deployment run every "
                            "interval by Prefect's scheduler (until Ctrl-C)")
    _add_reading_options(watch)

    reconcile = verbs.add_parser("reconcile", help="merge an online export into the store")
    reconcile.add_argument("--digital", type=Path, required=True,
                           help="online export (.csv or .xlsx) of ODK Central, KoboToolbox, "
                                "LimeSurvey, or any tool with --mapping")
    reconcile.add_argument("--convention", default="auto",
                           choices=["auto", "odk", "kobo", "limesurvey", "generic"],
                           help="the export's column convention (default auto: detected from "
                                "its metadata columns; docs/online-imports.md)")
    reconcile.add_argument("--mapping", type=Path, default=None, metavar="FILE",
                           help="column mapping file (YAML or CSV): export column to question, "
                                "values to choice names, id/submitted/reference columns")
    reconcile.add_argument("--reference-column", default=None, metavar="COLUMN",
                           help="column holding the respondent reference "
                                "(default respondent_ref; LimeSurvey also token)")
    reconcile.add_argument("--labels-to-names", action="store_true",
                           help="map a KoboToolbox export made with labels back to names "
                                "instead of refusing it")
    reconcile.add_argument("--form", default=None, help="questionnaire id, if several")

    export = verbs.add_parser("export", help="write the unified dataset")
    export.add_argument("--format", choices=["csv", "parquet", "xlsx", "sav", "dta"],
                        default="csv",
                        help="file format (default csv; sav: SPSS, dta: Stata); the codebook "
                             "and a summary per question go beside it, or in the same workbook "
                             "for xlsx, and the codebook as a page to read (NAME.codebook.md)")
    export.add_argument("--out", type=Path, required=True, help="dataset file to write")
    export.add_argument("--form", default=None, help="questionnaire id, if several")
    export.add_argument("--dual-channel", default="keep-both",
                        choices=["keep-both", "keep-latest", "keep-online", "keep-paper"],
                        help="one person on both channels: keep both and name the other in "
                             "_dual_channel (default), or keep one response")
    export.add_argument("--match", type=Path, default=None, metavar="FILE",
                        help="CSV of online_response_id,paper_respondent_ref pairs found by hand")
    export.add_argument("--split-multiple", action="store_true",
                        help="add a name/choice column of 1 and 0 for each multiple choice")
    export.add_argument("--with-contacts", action="store_true",
                        help="add the addressed mailing's names and addresses (contact_* "
                             "columns); without it the dataset is pseudonymous (serial only)")
    export.add_argument("--repeats", default="tables", choices=["tables", "wide"],
                        help="repeat groups as a table each, keyed to its parent response as "
                             "the reconciled online export keys them (default), or as the "
                             "dataset's own columns, one per printed copy (member[2]/age)")
    export.add_argument("--route", default="flag", choices=["keep", "flag", "blank"],
                        help="paper answers to questions the respondent's own answers skip: "
                             "name them in _off_route (flag, default), also empty them in the "
                             "dataset (blank; the store keeps them), or neither (keep)")
    export.add_argument("--raw", action="store_true",
                        help="CSV values exactly as stored: no ' before values a spreadsheet "
                             "would run as formulas (for R or pandas, never for a spreadsheet)")
    export.add_argument("--language", default=None, metavar="CODE",
                        help="language of the SPSS and Stata labels (default: the form's first)")
    export.add_argument("--timezone", default="UTC", metavar="ZONE",
                        help="time zone of times written on paper without one (default UTC; "
                             "such as Europe/London)")
    export.add_argument("--columns", choices=["online", "short"], default="online",
                        help="online (default): the online export's own column names (group "
                             "paths: travel/bus_freq) and its metadata columns (start, end, "
                             "deviceid, ...); short: question names, no metadata")

    report = verbs.add_parser("report", help="copies printed per variant and how many came "
                                             "back, by channel, week and postcode district")
    report.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="also write the tables as CSV files and a PNG chart of returns "
                             "per week into DIR")
    report.add_argument("--form", "--questionnaire", dest="form", default=None,
                        help="questionnaire id, if several")

    reminders = verbs.add_parser("reminders", help="a reminder letter and a fresh copy for "
                                                   "each addressed copy not yet returned")
    reminders.add_argument("--after", type=_day, required=True, metavar="DATE",
                           help="YYYY-MM-DD: remind the copies posted (or last reminded) on or "
                                "before DATE that have no response on any channel")
    reminders.add_argument("--out", type=Path, required=True, metavar="DIR",
                           help="folder for reminders.pdf and reminders.csv")
    reminders.add_argument("--form", "--questionnaire", dest="form", default=None,
                           help="questionnaire id, if several")

    review = verbs.add_parser("review", help="serve the review web app (default on "
                                             "127.0.0.1:8800)")
    review.add_argument("--port", type=int, default=8800, help="port (default 8800)")
    review.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; anything else belongs "
                             "behind a TLS proxy)")
    review.add_argument("--allowed-host", action="append", default=[], metavar="NAME[:PORT]",
                        help="also answer to this host name, as people type it (the name of a "
                             "TLS proxy in front of the app); any port unless one is given; "
                             "repeatable. Always answered: --host and localhost, 127.0.0.1, "
                             "[::1], on --port")
    review.add_argument("--insecure-cookies", action="store_true",
                        help="send the session cookie over plain HTTP to a host other than "
                             "this machine (never in production)")

    users = verbs.add_parser("users", help="people who may log in to the review app")
    users_verbs = _Verbs(users.add_subparsers(dest="users_verb", required=True,
                                              metavar="ACTION"), common)
    add_user = users_verbs.add_parser("add", help="a new person, asked for a password")
    add_user.add_argument("name", help="the name they log in with")
    add_user.add_argument("--role", required=True, choices=["reviewer", "supervisor", "admin"],
                          help="reviewer: decides answers and pages; supervisor: also sees "
                               "contacts, referrals and the team's rates; admin: as supervisor")
    add_user.add_argument("--password-stdin", action="store_true",
                          help="read the password from the first line of stdin (scripts)")
    password = users_verbs.add_parser("password", help="set a new password (ends sessions)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true",
                          help="read the password from the first line of stdin (scripts)")
    users_verbs.add_parser("list", help="everyone, with their role")
    for action, what in (("disable", "stop someone logging in (their decisions stay)"),
                         ("enable", "let a disabled person log in again")):
        users_verbs.add_parser(action, help=what).add_argument("name")

    demo = verbs.add_parser("demo", help="the whole loop on the shipped template and scans")
    demo.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)

    server = verbs.add_parser("server", help="the workspace's papertwin server, which keeps "
                                             "Prefect and papertwin loaded between commands")
    server.add_argument("server_verb", choices=["status", "stop", "start"], metavar="ACTION",
                        help="status: whether it runs, its pid, Prefect API and idle time; "
                             "stop: stop it and its Prefect server; start: start it now")
    return parser


class _Verbs:
    """Subcommands that accept the common options after the verb too."""

    def __init__(self, actions: Any, common: argparse.ArgumentParser) -> None:
        self.actions = actions
        self.common = common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self.actions.add_parser(
            name, parents=[self.common], **kwargs)
        return parser


def _add_layout_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--large-print", action="store_true",
                        help="16 pt text and larger boxes (its own layout and form key)")
    parser.add_argument("--languages", default=None,
                        help="languages to print, in order, e.g. en,cy (default: the first)")
    parser.add_argument("--duplex", action="store_true",
                        help="for double-sided printing: each copy padded to whole sheets with "
                             "a page that says it is blank")


def _add_common_options(parser: argparse.ArgumentParser, with_defaults: bool) -> None:
    def default(value: Any) -> Any:
        return value if with_defaults else argparse.SUPPRESS

    parser.add_argument("--workspace", type=Path, default=default(None),
                        help="workspace folder (default: $PAPERTWIN_HOME, else ./papertwin-data)")
    parser.add_argument("-v", "--verbose", action="store_true", default=default(False),
                        help="show Prefect's flow and task logs")
    parser.add_argument("--debug", action="store_true", default=default(False),
                        help="show tracebacks of internal errors")


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
    """How pages are read: the same options for ingest and watch."""
    parser.add_argument("--review-below", type=_share, default=None, metavar="C",
                        help="answers read with less confidence than C (0-1) go to a person "
                             f"(default {ReaderSettings().review_below})")
    parser.add_argument("--audit-share", type=_share, default=0.0, metavar="S",
                        help="also send this share (0-1) of confident answers to a person, "
                             "picked at random but the same on a rerun (default 0)")
    parser.add_argument("--words", type=Path, default=None, metavar="FILE",
                        help="words the returns are likely to hold (place names, services), "
                             "one per line, to help read handwriting")
    parser.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT",
                        help="read the pages on the workers of this running Dask scheduler "
                             "(they need papertwin, tesseract and the workspace at the same "
                             "path: docs/scale-out.md); default: local threads")
    parser.add_argument("--max-pages", type=_page_count, default=MAX_PAGES_PER_FILE, metavar="N",
                        help="set aside a scan file of more than N pages instead of reading it "
                             f"(default {MAX_PAGES_PER_FILE}: a full sheet feeder, both sides)")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: give it as YYYY-MM-DD") \
            from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _page_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of pages") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a number of pages (1 or more)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.0 < value < 86400.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 86400 seconds")
    return value


def layout_options(args: argparse.Namespace) -> LayoutOptions:
    from pipeline.forms.layout import LayoutOptions

    languages = tuple(x.strip() for x in args.languages.split(",") if x.strip()) \
        if args.languages else None
    return LayoutOptions(languages=languages, large_print=args.large_print)


def reader_settings(args: argparse.Namespace) -> ReaderSettings:
    """How ingest and watch read pages; UsageError when --words cannot be read."""
    settings = ReaderSettings(audit_share=args.audit_share)
    if args.review_below is not None:
        settings = replace(settings, review_below=args.review_below)
    if args.words is not None:
        try:
            text = args.words.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--words {args.words} cannot be read: {exc}") from exc
        words = tuple(w for w in (line.strip() for line in text.splitlines()) if w)
        settings = replace(settings, user_words=words)
    return settings


def marks(args: argparse.Namespace) -> tuple[str, ...]:
    """The marks simulated respondents make (--marks tick,dot,...)."""
    return tuple(m.strip() for m in args.marks.split(",") if m.strip())


def import_options(args: argparse.Namespace) -> ImportOptions:
    """How reconcile reads the online export; UsageError when --mapping is not a file."""
    from pipeline.online import ImportOptions

    if args.mapping is not None and not args.mapping.is_file():
        raise UsageError(f"--mapping {args.mapping} does not exist: check the path")
    return ImportOptions(convention=args.convention, mapping=args.mapping,
                         reference_column=args.reference_column,
                         labels_to_names=args.labels_to_names)


def export_options(args: argparse.Namespace) -> ExportOptions:
    from pipeline.dataset import ExportOptions

    return ExportOptions(dual_policy=args.dual_channel, match_file=args.match,
                         split_multiple=args.split_multiple,
                         with_contacts=args.with_contacts, raw=args.raw,
                         language=args.language, timezone=args.timezone,
                         columns=args.columns, repeats=args.repeats, route=args.route)
