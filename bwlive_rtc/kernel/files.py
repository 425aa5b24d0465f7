"""What the server writes is its own: evidence, the database and keys are created
readable by the server's user only, with no moment in which they are not (a chmod after
writing would leave one)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_UMASK = 0o077  # files 0600, directories 0700
PRIVATE_DIRECTORY = 0o700


def private_by_default() -> None:
    """Make every file and directory this process creates from now on private (the
    server's start: its database and WAL, recording segments, keys, whatever a library
    writes)."""
    os.umask(PRIVATE_UMASK)


def private_directory(path: Path) -> None:
    """Create ``path`` and its missing parents as 0700 (never more, whatever the umask);
    existing ones are left as they are."""
    missing = [directory for directory in (path, *path.parents) if not directory.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)


def write_private(path: Path, data: bytes) -> None:
    """Write a secret (a private key) into a file created 0600 (never more)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(data)


def secret_in(path: Path) -> bytes:
    """The 32-byte secret kept in ``path`` (0600), made on first use."""
    if not path.exists():
        write_private(path, secrets.token_bytes(32))
    return path.read_bytes()
