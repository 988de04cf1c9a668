"""The response store over SQLAlchemy (SQLite or PostgreSQL): batches, files, pages, answers,
review decisions, online responses and contacts, migrated with Alembic (docs/store.md)."""
