"""Alembic's script directory: ``env.py`` and the numbered migrations in ``versions/``."""
