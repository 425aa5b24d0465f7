"""Metadata storage (SQLite by default). Evidence (media) storage comes with recordings."""
