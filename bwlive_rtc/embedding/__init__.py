"""Embedding bwlive in another site: API keys, viewer tokens and their CORS (docs/EMBEDDING.md)."""
