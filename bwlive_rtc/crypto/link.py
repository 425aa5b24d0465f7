"""Links with key (PROTOCOL §1): ``#key=`` carries the PKCS#8 private key in clear,
``#pkey=`` carries it encrypted under a passphrase (PBKDF2-SHA-256 + AES-256-GCM).

Both carry the system's *signing* public key too (``&sig=`` beside ``#key=``; ``"sig"``
in a v2 ``#pkey=`` blob, where it is the AES-GCM AAD, so it cannot be swapped without
the passphrase): browsers verify cameras' certificates with it, asking no server.
Links of before (no signing key; v1 blobs) are still read.

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
SIGNING_FRAGMENT = "sig"
SIGNING_KEY_BYTES = 32  # raw Ed25519 public key
KDF = "PBKDF2-SHA256"
ITERATIONS = 600_000
MIN_ITERATIONS = 100_000
MAX_ITERATIONS = 50_000_000  # a link cannot make a browser spin for hours
MIN_PASSPHRASE = 8


class WrongPassphrase(ValueError):
    """The passphrase does not open this link."""


class DamagedSigningKey(ValueError):
    """The link's signing key is not 32 bytes of base64url."""


@dataclass(frozen=True)
class LinkKey:
    """What a link carries: the PKCS#8 DER, or the passphrase-protected form of it, and
    the raw signing public key (None: a link of before, whose streams cannot be verified).
    In a protected link the signing key is authenticated only once ``open`` succeeds."""

    pkcs8: bytes | None = None
    protected: dict[str, object] | None = None
    signing_key: bytes | None = None

    def open(self, passphrase: str | None) -> bytes:
        """The PKCS#8 DER; a protected link needs its passphrase."""
        if self.pkcs8 is not None:
            return self.pkcs8
        if passphrase is None:
            raise ValueError("this link is password-protected: give its passphrase")
        return decrypt_pkcs8(self.protected or {}, passphrase)


def link_with_key(base_url: str, pkcs8: bytes, signing_key: bytes | None) -> str:
    """``#key=`` with the signing key (``None`` makes a link of before, for tests)."""
    sig = "" if signing_key is None else f"&{SIGNING_FRAGMENT}={b64url_encode(_signing_key(signing_key))}"
    return f"{base_url.rstrip('/')}/#{KEY_FRAGMENT}={b64url_encode(pkcs8)}{sig}"


def protected_link(base_url: str, pkcs8: bytes, passphrase: str, signing_key: bytes | None = None, *,
                   iterations: int = ITERATIONS, salt: bytes | None = None, iv: bytes | None = None) -> str:
    """The password-protected link with key (salt and IV random unless given, for vectors)."""
    blob = encrypt_pkcs8(pkcs8, passphrase, signing_key, iterations=iterations, salt=salt, iv=iv)
    encoded = b64url_encode(json.dumps(blob, separators=(",", ":")).encode())
    return f"{base_url.rstrip('/')}/#{PROTECTED_FRAGMENT}={encoded}"


def encrypt_pkcs8(pkcs8: bytes, passphrase: str, signing_key: bytes | None = None, *, iterations: int = ITERATIONS,
                  salt: bytes | None = None, iv: bytes | None = None) -> dict[str, object]:
    """A v2 blob binding ``signing_key`` (the AAD); ``None`` makes a v1 blob of before."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValueError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    salt = salt or os.urandom(16)
    iv = iv or os.urandom(12)
    aad = None if signing_key is None else _signing_key(signing_key)
    ct = AESGCM(_derive(passphrase, salt, iterations)).encrypt(iv, pkcs8, aad)
    blob: dict[str, object] = {"v": 1 if aad is None else 2, "kdf": KDF, "iter": iterations,
                               "salt": b64url_encode(salt), "iv": b64url_encode(iv), "ct": b64url_encode(ct)}
    if aad is not None:
        blob["sig"] = b64url_encode(aad)
    return blob


def blob_signing_key(blob: dict[str, object]) -> bytes | None:
    """The raw signing key a protected blob names (v2), None for a v1 blob."""
    if blob.get("v") != 2:
        return None
    try:
        return _signing_key(b64url_decode(str(blob["sig"])))
    except (KeyError, ValueError):
        raise DamagedSigningKey("the link's signing key (sig) is missing or damaged") from None


def decrypt_pkcs8(blob: dict[str, object], passphrase: str) -> bytes:
    if blob.get("v") not in (1, 2) or blob.get("kdf") != KDF:
        raise ValueError(f"unsupported protected link (expected v 1 or 2 with {KDF})")
    aad = blob_signing_key(blob)
    iterations = blob.get("iter")
    if not isinstance(iterations, int) or not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"the link's iteration count must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}")
    try:
        salt, iv, ct = (b64url_decode(str(blob[name])) for name in ("salt", "iv", "ct"))
    except (KeyError, ValueError):
        raise ValueError("the protected link is damaged (salt, iv or ct missing)") from None
    try:
        return AESGCM(_derive(passphrase, salt, iterations)).decrypt(iv, ct, aad)
    except InvalidTag:
        raise WrongPassphrase("wrong passphrase: the key in the link could not be decrypted") from None


def parse_link(link: str) -> LinkKey:
    """Read ``#key=[&sig=]`` or ``#pkey=`` from a link (or from a bare fragment)."""
    fragment = link.partition("#")[2] if "#" in link else link
    params = {name: value for name, _, value in (part.partition("=") for part in fragment.split("&"))}
    try:
        if KEY_FRAGMENT in params:
            sig = params.get(SIGNING_FRAGMENT)
            return LinkKey(pkcs8=b64url_decode(params[KEY_FRAGMENT]),
                           signing_key=None if sig is None else _signing_key(b64url_decode(sig)))
        if PROTECTED_FRAGMENT in params:
            blob = json.loads(b64url_decode(params[PROTECTED_FRAGMENT]))
            if not isinstance(blob, dict):
                raise ValueError
            return LinkKey(protected=blob, signing_key=blob_signing_key(blob))
    except DamagedSigningKey:
        raise
    except ValueError:
        raise ValueError("the key in the link is damaged (not base64url)") from None
    raise ValueError("the link carries no key (expected '#key=...' or '#pkey=...')")


def _signing_key(raw: bytes) -> bytes:
    if len(raw) != SIGNING_KEY_BYTES:
        raise DamagedSigningKey("the link's signing key is damaged (not 32 bytes)")
    return raw


def _derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
    return kdf.derive(passphrase.encode("utf-8"))
