"""The `papertwin` command: its dispatch table, one function per verb.

Each verb parses (pipeline/cli/parser.py), checks what a person can get wrong before Prefect
starts, runs its flow, and hands the result to pipeline/cli/present.py to print. The table lives
beside the flows because its verbs run them; the library never imports the flows. Errors end as
one line on stderr and a stable exit code (pipeline/errors.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from pipeline.cli import present
from pipeline.cli.parser import (
    build_parser,
    export_options,
    import_options,
    layout_options,
    marks,
    reader_settings,
)
from pipeline.errors import ExitCode, PapertwinError, UsageError
from pipeline.workspace import Workspace

Verb = Callable[[argparse.Namespace, Workspace], int]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    set_prefect_environment(args.verbose)
    try:
        return VERBS[args.verb](args, Workspace.resolve(args.workspace))
    except PapertwinError as exc:
        present.error(str(exc))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        present.interrupted()
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError as exc:
        if present.output_closed():
            return int(ExitCode.OUTPUT_CLOSED)
        if args.debug:
            traceback.print_exc()
        present.internal_error(exc)
        return int(ExitCode.OTHER_ERROR)
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        present.internal_error(exc)
        return int(ExitCode.OTHER_ERROR)


def set_prefect_environment(verbose: bool) -> None:
    """Prefect reads its settings at import: quiet unless asked, and never phoning home (the
    workspace server sets the same before it imports Prefect)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        # Failures end as papertwin's one line; Prefect's own account of them (tracebacks of
        # every task that saw the error) goes to its server and the UI, not the terminal, and
        # so do its internal workers' complaints when a command is interrupted.
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_DEBUG_LEVEL", "CRITICAL")


def _prefect() -> contextlib.AbstractContextManager[str]:
    """The Prefect API the verb's flows report to (PREFECT_API_URL, else one papertwin runs)."""
    from flows.temporary_server import prefect_api

    return prefect_api()


# -- forms ---------------------------------------------------------------------------------------

def forms(args: argparse.Namespace, workspace: Workspace) -> int:
    if args.forms_verb == "import":
        return _forms_import(args, workspace)
    # A bad template, or a recipient list the template cannot print, is said before Prefect
    # starts (plan_variants reads the template to check the list against it).
    if args.recipients is not None:
        from pipeline.forms.variants import plan_variants

        plan_variants(args.template, args.recipients, layout_options(args))
    else:
        from pipeline.forms.sources import load_questionnaire

        load_questionnaire(args.template)
    if args.forms_verb == "preview":
        from flows.forms import preview_forms

        with _prefect():
            pages, warnings = preview_forms(args.template, args.out, layout_options(args),
                                            args.dpi, args.recipients, args.duplex)
        present.warnings(warnings)
        present.previewed(pages, args.template, args.out)
        return 0
    from flows.forms import generate_forms
    from pipeline.mailing import BuiltMailing

    with _prefect():
        built = generate_forms(args.template, args.out, workspace, args.copies,
                               layout_options(args), args.recipients, args.duplex)
    present.warnings(built.warnings)
    if isinstance(built, BuiltMailing):
        present.built_mailing(built)
    else:
        present.built_forms(built)
    return 0


def _forms_import(args: argparse.Namespace, workspace: Workspace) -> int:
    from pipeline.forms.quexf import banding_layout

    banding_layout(args.banding, args.form_id)  # a bad banding file is said before Prefect starts
    from flows.forms import import_form

    with _prefect():
        imported = import_form(args.banding, args.out, workspace, args.form_id)
    present.warnings(imported.warnings)
    present.imported_form(imported, args.banding)
    return 0


def simulate(args: argparse.Namespace, workspace: Workspace) -> int:
    from pipeline.forms.build import LAYOUT_NAME
    from pipeline.forms.manifest import read_layout
    from pipeline.simulate.damage import Damage

    read_layout(args.form / LAYOUT_NAME)  # a missing or bad form is said before Prefect starts
    from flows.simulate import simulate

    damage = Damage.none() if args.clean else Damage.mild()
    with _prefect():
        batch = simulate(args.form, args.out, seed=args.seed, dpi=args.dpi, damage=damage,
                         degradation=args.degrade, marks=marks(args), off_route=args.off_route,
                         letter=args.letter)
    present.simulated(batch)
    return 0


# -- scans in ------------------------------------------------------------------------------------

def ingest(args: argparse.Namespace, workspace: Workspace) -> int:
    from pipeline.ingest.batch import check_can_ingest

    check_can_ingest(workspace)  # before Prefect starts, so what is missing is said at once
    settings = reader_settings(args)
    from flows.ingest import run_ingest

    with _prefect():
        summary = run_ingest(list(args.paths), workspace, settings, args.dask_address,
                             args.max_pages)
    present.print_batch_summary(summary, sys.stdout)
    if summary.set_aside:
        present.set_aside(summary)
        return int(ExitCode.FILES_SET_ASIDE)
    return 0


def watch(args: argparse.Namespace, workspace: Workspace) -> int:
    from pipeline.ingest.batch import check_can_ingest
    from pipeline.ingest.inbox import DEFAULT_INTERVAL, DEFAULT_SETTLE, InboxPass, check_inbox

    inbox = check_inbox(args.inbox, workspace)  # refused before Prefect starts
    check_can_ingest(workspace)
    interval = DEFAULT_INTERVAL if args.interval is None else args.interval
    settle = DEFAULT_SETTLE if args.settle is None else args.settle
    settings = reader_settings(args)
    from flows.watch import serve_inbox, watch_loop

    if args.serve:
        serve_inbox(inbox, workspace, interval, settle, settings, args.dask_address,
                    args.max_pages)
        return 0
    passes: list[InboxPass] = []

    def report(result: InboxPass) -> None:
        passes.append(result)
        present.inbox_pass(result, inbox)

    try:
        if not args.once:
            present.watching(inbox, interval, settle)
        with _prefect():
            watch_loop(inbox, workspace, interval, settle, settings, args.once, report,
                       args.dask_address, args.max_pages)
    except KeyboardInterrupt:
        present.stopped_watching(inbox, passes)
        return int(ExitCode.INTERRUPTED)
    if any(p.quarantined for p in passes):
        return int(ExitCode.FILES_SET_ASIDE)
    return 0


# -- the online export and the dataset -----------------------------------------------------------

def reconcile(args: argparse.Namespace, workspace: Workspace) -> int:
    options = import_options(args)
    from flows.reconcile import reconcile

    with _prefect():
        imported = reconcile(args.digital, workspace, args.form, options)
    present.print_import_report(imported, args.digital, sys.stdout)
    return 0


def export(args: argparse.Namespace, workspace: Workspace) -> int:
    options = export_options(args)
    from flows.export import export_dataset

    with _prefect():
        summary = export_dataset(workspace, args.out, args.format, args.form, options)
    present.exported(summary, args.with_contacts)
    return 0


def report(args: argparse.Namespace, workspace: Workspace) -> int:
    from flows.report import tracking_report

    with _prefect():
        result = tracking_report(workspace, args.out, args.form)
    present.tracking_report(result)
    return 0


def reminders(args: argparse.Namespace, workspace: Workspace) -> int:
    from flows.reminders import reminders as print_reminders

    with _prefect():
        result = print_reminders(workspace, args.after, args.out, args.form)
    present.reminders_printed(result)
    return 0


# -- the review app and its users ----------------------------------------------------------------

def review(args: argparse.Namespace, workspace: Workspace) -> int:
    from pipeline.review.serving import review_app, review_warnings, serve

    present.warnings(review_warnings(workspace, args.host, args.insecure_cookies))
    app, allowed = review_app(workspace, args.host, args.port, args.allowed_host,
                              args.insecure_cookies)
    present.review_serving(args.host, args.port, allowed)
    serve(app, args.host, args.port)
    return 0


def users(args: argparse.Namespace, workspace: Workspace) -> int:
    from pipeline.review.accounts import add_user, list_users, set_disabled, set_password
    from pipeline.store.store import Store

    with Store.open(workspace.ensure().store_url) as store:
        if args.users_verb == "add":
            present.user_added(add_user(store, args.name,
                                        present.ask_password(args.password_stdin), args.role))
        elif args.users_verb == "password":
            set_password(store, args.name, present.ask_password(args.password_stdin))
            present.password_set(args.name)
        elif args.users_verb == "list":
            present.users(list_users(store))
        elif args.users_verb in ("disable", "enable"):
            set_disabled(store, args.name, args.users_verb == "disable")
            present.user_switched(args.name, args.users_verb)
        else:
            raise UsageError(f"unknown users action {args.users_verb}")
    return 0


# -- the rest ------------------------------------------------------------------------------------

def demo(args: argparse.Namespace, workspace: Workspace) -> int:
    from flows.demo import run_demo

    with _prefect():
        return run_demo(args.workspace)


def server(args: argparse.Namespace, workspace: Workspace) -> int:
    from flows.server_control import server_command

    return server_command(args.server_verb, workspace.root)


VERBS: dict[str, Verb] = {
    "forms": forms, "simulate": simulate, "ingest": ingest, "watch": watch,
    "reconcile": reconcile, "export": export, "report": report,
    "reminders": reminders, "review": review, "users": users,
    "demo": demo, "server": server,
}


if __name__ == "__main__":
    sys.exit(main())
