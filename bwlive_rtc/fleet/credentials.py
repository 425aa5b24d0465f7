"""Device credentials: a token the system signs with its Ed25519 key at docking, valid
6 days; the server checks it on every publish."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..crypto.b64 import b64url_decode, b64url_encode

VALID_FOR = timedelta(days=6)
PREFIX = "bwlive-cred-v1"


class CredentialError(Exception):
    """A credential that does not admit the camera; ``str()`` is the reason for the camera."""


@dataclass(frozen=True)
class Credential:
    camera_id: str
    serial: str
    organisation_id: str
    issued_at: datetime
    expires_at: datetime


class CredentialSigner:
    """The system's signing key (kept in the data directory, created on first use)."""

    def __init__(self, key_path: Path) -> None:
        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{key_path} is not an Ed25519 private key")
        else:
            key = Ed25519PrivateKey.generate()
            key_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        self._key = key

    def issue(self, camera_id: str, serial: str, organisation_id: str, now: datetime) -> tuple[str, Credential]:
        credential = Credential(camera_id, serial, organisation_id, now, now + VALID_FOR)
        payload = json.dumps({
            "camera_id": camera_id, "serial": serial, "organisation_id": organisation_id,
            "issued_at": now.isoformat(), "expires_at": credential.expires_at.isoformat(),
        }, sort_keys=True, separators=(",", ":")).encode()
        return f"{PREFIX}.{b64url_encode(payload)}.{b64url_encode(self._key.sign(payload))}", credential

    def verify(self, token: str, now: datetime) -> Credential:
        """Check signature and validity period; raises CredentialError with the reason."""
        try:
            prefix, payload_b64, signature_b64 = token.strip().split(".")
            payload, signature = b64url_decode(payload_b64), b64url_decode(signature_b64)
            if prefix != PREFIX:
                raise ValueError
            self._key.public_key().verify(signature, payload)
            data = json.loads(payload)
            credential = Credential(data["camera_id"], data["serial"], data["organisation_id"],
                                    datetime.fromisoformat(data["issued_at"]), datetime.fromisoformat(data["expires_at"]))
        except (ValueError, KeyError, InvalidSignature):
            raise CredentialError("the camera's credential is not valid for this system: dock the camera") from None
        if now >= credential.expires_at:
            raise CredentialError(
                f"the camera's certificate expired on {credential.expires_at:%Y-%m-%d %H:%M} UTC "
                "(not docked for more than 6 days): dock the camera to renew its certificate")
        return credential
