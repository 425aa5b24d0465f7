"""A headless viewer (WHEP subscriber) in Python, for tests, benchmarks and diagnostics."""
