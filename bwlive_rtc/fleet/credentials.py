"""Device credentials: the certificate (crypto/signing.py) the system signs at docking,
naming the camera's own device key, valid 6 days; the server checks it on every publish,
and the camera proves with its device key that it is the camera the certificate names.

Split by who holds what: the ``CredentialIssuer`` holds the system's private signing key
and exists only where cameras dock (the system's ``bwlive camera dock``); the
``CredentialVerifier`` holds nothing but the systems' public signing keys (the database),
and is all the server has.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..crypto.signing import CERTIFICATE, Certificate, CertificateOutOfDate, SignatureError, token_payload
from ..crypto.system_key import SystemPublicKey, thumbprint_of
from ..crypto.system_signing import SigningKeyPair, SigningPublicKey
from ..systems.store import System, Systems

KEY_ID = re.compile(r"[0-9a-f]{32}")
NOT_VALID = "the camera's credential is not valid for this system: dock the camera"


class CredentialError(Exception):
    """A credential that does not admit the camera; ``str()`` is the reason for the camera."""


@dataclass(frozen=True)
class CredentialIssuer:
    """The system's private signing key, loaded from its keys directory for a dock, and
    the end-to-end public key beside it, which says which system the directory is."""

    keys: SigningKeyPair
    system_key: SystemPublicKey

    @classmethod
    def load(cls, keys_dir: Path) -> CredentialIssuer:
        return cls(SigningKeyPair.load(keys_dir), SystemPublicKey.load(keys_dir))

    @property
    def public(self) -> SigningPublicKey:
        return self.keys.public

    def issue(self, *, camera_id: str, serial: str, camera_user: str, organisation_id: str,
              device_key: Ed25519PublicKey, now: datetime) -> tuple[str, Certificate]:
        return Certificate.issue(self.keys.private_key, camera_id=camera_id, serial=serial, camera_user=camera_user,
                                 organisation_id=organisation_id, device_key=device_key, now=now)


class CredentialVerifier:
    """Checks a certificate against the signing public key of a system of the organisation
    it names (looked up by its ``issuer``); knows no private key."""

    def __init__(self, systems: Systems) -> None:
        self.systems = systems

    def verify(self, token: str, now: datetime) -> tuple[Certificate, System]:
        """The certificate and the system whose key signed it; raises CredentialError with the reason."""
        try:
            _, claims = token_payload(token, CERTIFICATE)
            organisation_id, issuer, serial = (str(claims[name]) for name in ("organisation_id", "issuer", "serial"))
        except (SignatureError, KeyError):
            raise CredentialError(NOT_VALID) from None
        system = self.systems.by_signing_key(organisation_id, issuer)
        if system is None or system.signing_key is None:
            key = thumbprint_of(issuer) if KEY_ID.fullmatch(issuer) else "(not a key id)"
            raise CredentialError(
                f"the certificate of camera {serial} is signed by key {key}, which is not the signing key of any "
                "system of its organisation: dock the camera at its system")
        try:
            return Certificate.read(token, system.signing_key.key, now), system
        except CertificateOutOfDate as exc:
            raise CredentialError(str(exc)) from None
        except SignatureError:
            raise CredentialError(NOT_VALID) from None
