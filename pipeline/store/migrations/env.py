"""Alembic's entry point: migrate the connection that pipeline/store/migrate.py hands over.

No alembic.ini and no URL here: the store opens its own engine (with its SQLite pragmas) and
passes a connection inside its transaction, so a migration and the check before it are one unit.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from pipeline.errors import WorkspaceError
from pipeline.store.schema import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise WorkspaceError("the store's migrations run through Store.open, which gives them "
                             "a connection; they have no URL of their own")
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
