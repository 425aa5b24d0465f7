"""Numbered migrations, applied in order by ``storage.schema.upgrade``; forward only."""
