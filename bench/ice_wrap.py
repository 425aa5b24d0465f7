"""Run a ``bwlive`` command with ICE host candidates on one address only.

    python bench/ice_wrap.py 127.0.0.1 camera stream --server URL --name NAME --keys-dir DIR

aioice leaves 127.0.0.1 out of its host candidates; this keeps the real camera agent's
media on loopback like the rest of the bench.
"""
from __future__ import annotations

import sys

from common import force_ice_host

if __name__ == "__main__":
    force_ice_host(sys.argv[1])
    from bwlive_rtc.cli import main

    sys.exit(main(sys.argv[2:]))
