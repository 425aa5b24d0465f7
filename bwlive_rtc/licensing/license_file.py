"""Signed license files: a JSON payload and an Ed25519 signature by the license issuer.

The server knows the issuer's public key (``Settings.license_issuer_key``); whoever holds
the private key issues licenses with ``bwlive license issue``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..crypto.b64 import b64url_decode, b64url_encode


class LicenseError(ValueError):
    """The license file is malformed, forged, or for someone else; the message says which."""


@dataclass(frozen=True)
class License:
    id: str
    organisation_id: str
    cameras: int  # how many cameras (7-day average) it covers
    valid_from: date
    valid_until: date  # inclusive

    def __post_init__(self) -> None:
        """A license covers at least one camera for at least one day: an issuer cannot make,
        nor a server accept, one for -5 cameras or that ends before it begins."""
        if self.cameras < 1:
            raise LicenseError(f"a license covers at least one camera, not {self.cameras}")
        if self.valid_until < self.valid_from:
            raise LicenseError(f"the license ends ({self.valid_until}) before it begins ({self.valid_from})")

    def covers(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_until

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["valid_from"], data["valid_until"] = self.valid_from.isoformat(), self.valid_until.isoformat()
        return data


def sign(license: License, issuer: Ed25519PrivateKey) -> str:
    """The license file's text: ``bwlive-license-v1.<payload>.<signature>`` (base64url)."""
    payload = json.dumps(license.to_json(), sort_keys=True, separators=(",", ":")).encode()
    return f"bwlive-license-v1.{b64url_encode(payload)}.{b64url_encode(issuer.sign(payload))}"


def verify(text: str, issuer: Ed25519PublicKey) -> License:
    try:
        prefix, payload_b64, signature_b64 = text.strip().split(".")
        payload, signature = b64url_decode(payload_b64), b64url_decode(signature_b64)
    except ValueError:
        raise LicenseError("this is not a bwlive license file") from None
    if prefix != "bwlive-license-v1":
        raise LicenseError("this is not a bwlive license file")
    try:
        issuer.verify(signature, payload)
    except InvalidSignature:
        raise LicenseError("the license signature is not valid (altered, or from another issuer)") from None
    try:
        data = json.loads(payload)
        return License(str(data["id"]), str(data["organisation_id"]), int(data["cameras"]),
                       date.fromisoformat(data["valid_from"]), date.fromisoformat(data["valid_until"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise LicenseError(f"the license content is malformed: {exc}") from None


def load_issuer_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key
