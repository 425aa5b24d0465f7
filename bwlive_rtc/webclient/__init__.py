"""Serving the browser client (the files live in the repository's ``web/``)."""
