"""The project's exceptions and the one table that maps them to exit codes.

Every error a user can cause ends as one of these, so the command line can print one line that
names the file or program and what to do, and exit with a code that scripts can rely on.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable exit codes of the `papertwin` command (documented in docs/exit-codes.md)."""

    OK = 0
    OTHER_ERROR = 1
    USAGE = 2
    TEMPLATE = 3
    INPUT_FILE = 4
    MISSING_PROGRAM = 5
    PROGRAM_FAILED = 6
    WORKSPACE = 7
    FILES_SET_ASIDE = 8
    NOT_WRITABLE = 9
    STORE_NOT_WRITABLE = 10
    ORCHESTRATION = 11
    INTERRUPTED = 130
    OUTPUT_CLOSED = 141  # what a shell reports for a program its pipe's reader left (SIGPIPE)


class PapertwinError(Exception):
    """Base class: a message for a person, and an exit code."""

    exit_code: ExitCode = ExitCode.OTHER_ERROR


class UsageError(PapertwinError):
    exit_code = ExitCode.USAGE


class TemplateError(PapertwinError):
    """A questionnaire template is missing or does not describe a valid questionnaire."""

    exit_code = ExitCode.TEMPLATE


class LayoutError(PapertwinError):
    """A layout manifest is missing, of an unknown schema, or inconsistent."""

    exit_code = ExitCode.TEMPLATE


class InputFileError(PapertwinError):
    """A scan or data file cannot be read."""

    exit_code = ExitCode.INPUT_FILE


class MissingProgramError(PapertwinError):
    """An external program papertwin needs is not installed."""

    exit_code = ExitCode.MISSING_PROGRAM


class ProgramFailedError(PapertwinError):
    """An external program crashed, timed out or returned an error."""

    exit_code = ExitCode.PROGRAM_FAILED


class ProgramTimeoutError(ProgramFailedError):
    pass


class WorkspaceError(PapertwinError):
    """The workspace is missing something a command needs (no registered form, no results)."""

    exit_code = ExitCode.WORKSPACE


class NotWritableError(PapertwinError):
    """A folder papertwin must write (the workspace, or an output folder) is read-only or full:
    the operator's to fix, not a bug, and retrying will not help until they do."""

    exit_code = ExitCode.NOT_WRITABLE


class StoreNotWritableError(PapertwinError):
    """The store cannot be written (read-only file, folder or database, a full disk, or locked
    by another process for longer than papertwin waits)."""

    exit_code = ExitCode.STORE_NOT_WRITABLE


class StoreLockedError(StoreNotWritableError):
    """Another process holds the store's write lock: worth a retry, unlike the rest."""


class OrchestrationError(PapertwinError):
    """Prefect's server (the temporary one papertwin starts, or the one PREFECT_API_URL names)
    did not answer in time."""

    exit_code = ExitCode.ORCHESTRATION


class ServerStartError(OrchestrationError):
    """The workspace's papertwin server could not be started: the command runs on its own."""


class FilesSetAsideError(PapertwinError):
    """Some input files could not be read; the rest were ingested."""

    exit_code = ExitCode.FILES_SET_ASIDE


class NotFoundError(WorkspaceError):
    """What was asked for by its id (a page, an answer, a form) is not in the workspace."""
