"""Connecting to the store: the engine, set up for SQLite or PostgreSQL, and what a store that
cannot be opened or written is said to be.

SQLite runs in WAL mode, each transaction begun explicitly; a store opened for reading only is
opened read-only (and, on a read-only disk, as an immutable file when its last writer closed it
cleanly). A write the database refuses for a reason an operator must fix (read-only, full,
locked for too long) becomes papertwin's own error, so the command says it in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from pipeline.errors import (
    NotWritableError,
    PapertwinError,
    StoreLockedError,
    StoreNotWritableError,
    WorkspaceError,
)
from pipeline.fsutil import probe_writable
from pipeline.store.migrate import check_at_head, upgrade_to_head

# Execution option: on SQLite, begin with the database's write lock (pipeline/store/locks.py).
WRITE_LOCK = "papertwin_write_lock"


def open_engine(url: str, read_only: bool = False) -> Engine:
    """An engine on the store at the newest schema: migrated, or, read_only, checked to be
    there already and never written."""
    try:
        return _connect(url, read_only)
    except SQLAlchemyError as exc:
        if not (read_only and _closed_cleanly(url)):
            raise _open_error(url, exc, read_only) from exc
    # SQLite in WAL mode reads a read-only folder only as an immutable file: safe here,
    # since nobody can write beside a read-only folder and no write was left unfinished.
    try:
        return _connect(url, read_only, immutable=True)
    except SQLAlchemyError as exc:
        raise _open_error(url, exc, read_only) from exc


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unparseable URL)"


def _connect(url: str, read_only: bool, immutable: bool = False) -> Engine:
    """An engine on the store at the newest schema (migrated, or checked when read-only)."""
    try:
        engine = create_engine(_read_only_url(url, immutable) if read_only else url)
    except (ArgumentError, ImportError) as exc:
        raise WorkspaceError(
            f"cannot use the store URL {safe_url(url)}: {exc}; papertwin takes "
            "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DATABASE") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas if read_only else _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    event.listen(engine, "handle_error", _unwritable_store)
    try:
        if read_only:
            check_at_head(engine)
        else:
            upgrade_to_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite store URL; None for another database, an in-memory one, or
    a URL that does not parse (opening the store says what is wrong with it)."""
    try:
        return _sqlite_file(url)
    except ArgumentError:
        return None


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).resolve()


def _read_only_url(url: str, immutable: bool = False) -> str:
    """SQLite opened read-only (mode=ro): it never creates a file or takes a write lock."""
    path = _sqlite_file(url)
    if path is None:
        return url
    if not path.is_file():
        raise WorkspaceError(f"there is no store at {path}: nothing has been ingested or "
                             "imported in this workspace yet")
    mode = "immutable=1" if immutable else "mode=ro"
    return f"sqlite:///file:{quote(str(path))}?{mode}&uri=true"


def _closed_cleanly(url: str) -> bool:
    """A SQLite store whose write-ahead log holds nothing (its last writer checkpointed it)."""
    path = _sqlite_file(url)
    if path is None:
        return False
    wal = path.with_name(path.name + "-wal")
    return not wal.exists() or wal.stat().st_size == 0


# SQLite's and PostgreSQL's ways of saying the store cannot take a write.
_SQLITE_UNWRITABLE = ("attempt to write a readonly database", "database or disk is full",
                      "readonly database")
_POSTGRES_UNWRITABLE = {"25006": "the database is read-only", "53100": "the disk is full",
                        "42501": "the database user may not write"}


def is_store_locked(exc: BaseException) -> bool:
    """Whether an error is another writer's lock on the store, which passes on a second try:
    StoreLockedError, or a "database is locked" that reached the caller unmapped."""
    if isinstance(exc, StoreLockedError):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def _unwritable_store(context: ExceptionContext) -> BaseException | None:
    """A write the store refuses for a reason an operator must fix becomes
    StoreNotWritableError; a lock held by another writer becomes StoreLockedError, which the
    ingest flow retries."""
    original = context.original_exception
    message = str(original).splitlines()[0] if str(original) else ""
    where = safe_url(str(context.engine.url)) if context.engine is not None else "the store"
    if "database is locked" in message:
        return StoreLockedError(f"the store {where} is locked by another papertwin process "
                                "for longer than papertwin waits: try again when it is done")
    sqlstate = getattr(original, "sqlstate", None)
    if any(text in message for text in _SQLITE_UNWRITABLE):
        return StoreNotWritableError(f"cannot write the store {where}: {message}; make the "
                                     "store and its folder writable (or free some space), then "
                                     "run the command again")
    if sqlstate in _POSTGRES_UNWRITABLE:
        return StoreNotWritableError(f"cannot write the store {where}: "
                                     f"{_POSTGRES_UNWRITABLE[sqlstate]} ({message}); ask the "
                                     "database's administrator, then run the command again")
    return None


def _open_error(url: str, exc: SQLAlchemyError, read_only: bool) -> PapertwinError:
    """Why a store would not open, said so that the operator knows what to change."""
    first = str(exc.orig if isinstance(exc, DBAPIError) else exc).splitlines()[0]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not read_only:
        folder = Path(parsed.database).resolve().parent
        if folder.is_dir() and not _can_create_in(folder):
            return StoreNotWritableError(
                f"cannot write the store {folder / Path(parsed.database).name}: its folder "
                f"{folder} is read-only; make it writable, then run the command again "
                "(papertwin export reads a read-only store)")
    if read_only and parsed.get_backend_name() == "sqlite":
        return WorkspaceError(
            f"cannot read the store {safe_url(url)}: {first}; on a read-only disk papertwin "
            "reads the store only if it was closed cleanly: make its folder writable once")
    return WorkspaceError(f"cannot open the store {safe_url(url)}: "
                          f"{exc.__class__.__name__}: {first}")


def _can_create_in(folder: Path) -> bool:
    try:
        probe_writable(folder)
    except NotWritableError:
        return False
    return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    # Let SQLAlchemy, not the sqlite3 module, say where transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    """Begin explicitly: the sqlite3 module would leave DDL (migrations) and reads outside the
    transaction, so a migration or a read-then-write could be half done. A connection with the
    execution option WRITE_LOCK takes the database's write lock at once (locks.py)."""
    immediate = conn.get_execution_options().get(WRITE_LOCK, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
