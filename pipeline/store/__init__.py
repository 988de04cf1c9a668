"""The response store over SQLAlchemy (SQLite or PostgreSQL): batches, files, pages, answers,
review decisions, online responses and contacts, migrated with Alembic (docs/store.md).

The store is the only owner of persistence: no other package imports SQLAlchemy, Alembic or the
schema, or reaches the engine; they open a `Store` (store.py) and pass it to the functions of
the modules named in `__all__`. The store knows the shared records (pipeline/records.py), not
the stages that make them. contacts, copies, locks, migrate, responses, schema, upsert and the
migrations are its own.
"""

__all__ = [
    "accounts",
    "answer_table",
    "dual_log",
    "engine",
    "forms",
    "login_attempts",
    "page_decisions",
    "review",
    "review_queue",
    "store",
]
