"""Links with key (PROTOCOL §1): ``#key=`` carries the PKCS#8 private key in clear,
``#pkey=`` carries it encrypted under a passphrase (PBKDF2-SHA-256 + AES-256-GCM).

The KDF parameters travel in the link, so the iteration count can be raised later
without breaking links already handed out.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .b64 import b64url_decode, b64url_encode

KEY_FRAGMENT = "key"
PROTECTED_FRAGMENT = "pkey"
KDF = "PBKDF2-SHA256"
ITERATIONS = 600_000
MIN_ITERATIONS = 100_000
MAX_ITERATIONS = 50_000_000  # a link cannot make a browser spin for hours
MIN_PASSPHRASE = 8


class WrongPassphrase(ValueError):
    """The passphrase does not open this link."""


@dataclass(frozen=True)
class LinkKey:
    """What a link carries: the PKCS#8 DER, or the passphrase-protected form of it."""

    pkcs8: bytes | None = None
    protected: dict[str, object] | None = None

    def open(self, passphrase: str | None) -> bytes:
        """The PKCS#8 DER; a protected link needs its passphrase."""
        if self.pkcs8 is not None:
            return self.pkcs8
        if passphrase is None:
            raise ValueError("this link is password-protected: give its passphrase")
        return decrypt_pkcs8(self.protected or {}, passphrase)


def link_with_key(base_url: str, pkcs8: bytes) -> str:
    return f"{base_url.rstrip('/')}/#{KEY_FRAGMENT}={b64url_encode(pkcs8)}"


def protected_link(base_url: str, pkcs8: bytes, passphrase: str, *, iterations: int = ITERATIONS,
                   salt: bytes | None = None, iv: bytes | None = None) -> str:
    """The password-protected link with key (salt and IV random unless given, for vectors)."""
    blob = encrypt_pkcs8(pkcs8, passphrase, iterations=iterations, salt=salt, iv=iv)
    encoded = b64url_encode(json.dumps(blob, separators=(",", ":")).encode())
    return f"{base_url.rstrip('/')}/#{PROTECTED_FRAGMENT}={encoded}"


def encrypt_pkcs8(pkcs8: bytes, passphrase: str, *, iterations: int = ITERATIONS,
                  salt: bytes | None = None, iv: bytes | None = None) -> dict[str, object]:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValueError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    salt = salt or os.urandom(16)
    iv = iv or os.urandom(12)
    ct = AESGCM(_derive(passphrase, salt, iterations)).encrypt(iv, pkcs8, None)
    return {"v": 1, "kdf": KDF, "iter": iterations, "salt": b64url_encode(salt), "iv": b64url_encode(iv),
            "ct": b64url_encode(ct)}


def decrypt_pkcs8(blob: dict[str, object], passphrase: str) -> bytes:
    if blob.get("v") != 1 or blob.get("kdf") != KDF:
        raise ValueError(f"unsupported protected link (expected v 1 with {KDF})")
    iterations = blob.get("iter")
    if not isinstance(iterations, int) or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"the link's iteration count must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}")
    try:
        salt, iv, ct = (b64url_decode(str(blob[name])) for name in ("salt", "iv", "ct"))
    except (KeyError, ValueError):
        raise ValueError("the protected link is damaged (salt, iv or ct missing)") from None
    try:
        return AESGCM(_derive(passphrase, salt, iterations)).decrypt(iv, ct, None)
    except InvalidTag:
        raise WrongPassphrase("wrong passphrase: the key in the link could not be decrypted") from None


def parse_link(link: str) -> LinkKey:
    """Read ``#key=`` or ``#pkey=`` from a link (or from a bare fragment)."""
    fragment = link.partition("#")[2] if "#" in link else link
    for part in fragment.split("&"):
        name, _, value = part.partition("=")
        try:
            if name == KEY_FRAGMENT:
                return LinkKey(pkcs8=b64url_decode(value))
            if name == PROTECTED_FRAGMENT:
                blob = json.loads(b64url_decode(value))
                if not isinstance(blob, dict):
                    raise ValueError
                return LinkKey(protected=blob)
        except ValueError:
            raise ValueError("the key in the link is damaged (not base64url)") from None
    raise ValueError("the link carries no key (expected '#key=...' or '#pkey=...')")


def _derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
    return kdf.derive(passphrase.encode("utf-8"))
