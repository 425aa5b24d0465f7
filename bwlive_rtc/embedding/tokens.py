"""Viewer tokens: JWTs signed with HS256 under a 256-bit secret that never leaves the
server's data directory (``token-signing-key``, 0600). Only this server issues and reads
them, so a shared-secret MAC is enough and there is no public key to publish; a token
read here must be HS256 (``alg: none`` and every other algorithm are refused)."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from ..kernel.errors import Unauthorized
from ..kernel.files import secret_in

ALGORITHM = "HS256"
ISSUER = "bwlive"
SECRET_FILE = "token-signing-key"
CLAIMS = ("iss", "aud", "org", "role", "scope", "key", "iat", "exp", "jti")


class TokenSigner:
    """Signs claims and reads them back; expiry is judged on the app clock by the caller."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def in_directory(cls, data_dir: Path) -> TokenSigner:
        """The data directory's signing secret, made on first use."""
        return cls(secret_in(data_dir / SECRET_FILE))

    def issue(self, claims: dict[str, Any], now: datetime, minutes: int) -> tuple[str, datetime]:
        """A signed token for ``claims`` (``jti`` among them) valid ``minutes`` from ``now``,
        and its expiry."""
        expires = now + timedelta(minutes=minutes)
        payload = {**claims, "iss": ISSUER, "iat": int(now.timestamp()), "exp": int(expires.timestamp())}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), expires

    def read(self, token: str) -> dict[str, Any]:
        """The claims of a token this server signed; 401 for anything else."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER,
                options={"require": list(CLAIMS), "verify_exp": False, "verify_iat": False, "verify_aud": False})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"not a valid viewer token ({exc}); ask your backend for a new one",
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        return claims
