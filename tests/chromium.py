"""Launching Debian's Chromium under Playwright with the flags this project's machines need."""
from __future__ import annotations

import os
import shutil

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
]


def chromium_path() -> str:
    path = os.environ.get("BWLIVE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise RuntimeError("Chromium not found: install it with 'apt-get install -y chromium'")
    return path


def launch(playwright, executable: str | None = None, flags: tuple[str, ...] = ()):  # -> Browser (sync or async)
    """Launch headless Chromium (works with the sync and the async Playwright API);
    ``executable``: a wrapper that runs Chromium elsewhere (tests/netlab.py: a namespace)."""
    return playwright.chromium.launch(
        executable_path=executable or chromium_path(), headless=True, args=[*CHROMIUM_FLAGS, *flags]
    )
