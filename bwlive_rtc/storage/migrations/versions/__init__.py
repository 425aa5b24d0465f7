"""Numbered migrations, applied in order by ``storage.schema.upgrade``; forward only.

A schema change is a new file ``NNNN_what_it_does.py`` with ``revision = "NNNN"``,
``down_revision`` the previous number and an ``upgrade()`` written with Alembic's
operations (``op.create_table``, ``op.batch_alter_table``...), not SQLite-only SQL, so the
same file can run on PostgreSQL.
"""
