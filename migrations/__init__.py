"""Alembic migrations of the journal database."""
