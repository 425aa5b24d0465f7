"""Device credentials: the certificate (crypto/signing.py) the system signs at docking,
naming the camera's own device key, valid 6 days; the server checks it on every publish,
and the camera proves with its device key that it is the camera the certificate names."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..crypto.signing import Certificate, CertificateOutOfDate, SignatureError


class CredentialError(Exception):
    """A credential that does not admit the camera; ``str()`` is the reason for the camera."""


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

    def issue(self, *, camera_id: str, serial: str, camera_user: str, organisation_id: str,
              device_key: Ed25519PublicKey, now: datetime) -> tuple[str, Certificate]:
        return Certificate.issue(self._key, camera_id=camera_id, serial=serial, camera_user=camera_user,
                                 organisation_id=organisation_id, device_key=device_key, now=now)

    def verify(self, token: str, now: datetime) -> Certificate:
        """Check signature and validity period; raises CredentialError with the reason."""
        try:
            return Certificate.read(token, self._key.public_key(), now)
        except CertificateOutOfDate as exc:
            raise CredentialError(str(exc)) from None
        except SignatureError:
            raise CredentialError("the camera's credential is not valid for this system: dock the camera") from None
