"""Alembic migrations of the response store, run by Store.open (pipeline/store/migrate.py)."""
