"""The kernel, the ground floor every feature stands on: access levels and their
enforcement, app keys, request reading, the error vocabulary, the feature record,
settings, clock, event bus and audit log. It imports nothing above it."""
