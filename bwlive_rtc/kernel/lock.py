"""One server per data directory: ``bwlive serve`` holds an exclusive lock on
``<data-dir>/bwlive.lock`` for its whole life, taken before it touches anything else in
the directory (crash recovery, the database, recordings). A second server on the same
directory is refused at once with the running one's pid. Commands that only read or make
short admin writes (``fleet``, ``admin``) do not take the lock: SQLite's WAL lets them
run beside the server."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .files import private_directory

LOCK_FILE = "bwlive.lock"


class DataDirectoryInUse(OSError):
    """Another process (a running server) holds the data directory's lock."""


class DataDirectoryLock:
    """``with DataDirectoryLock(data_dir): ...``: held until the block ends (or the
    process does: the kernel drops a flock with its file descriptor, so a crash leaves no
    stale lock behind)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        private_directory(self.data_dir)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DataDirectoryInUse(
                f"the data directory {self.data_dir} is in use by another bwlive server (pid {holder}); "
                "stop it first, or give this one another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
