"""Random tokens and ids; tokens are stored only as their SHA-256."""
from __future__ import annotations

import hashlib
import secrets
import string

ID_ALPHABET = string.ascii_letters + string.digits
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes people type


def new_id() -> str:
    """12 letters and digits (71 bits): never starting with '-', which a command line would
    take for an option (``--organisation -x…``)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_code(groups: int = 3) -> str:
    """A code people read and type: groups of four of ``CODE_ALPHABET`` (5 bits each)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * groups))
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
