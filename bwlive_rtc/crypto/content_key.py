"""Per-stream content keys and their envelope, wrapped to the system public key.

Wrapping is ECIES-style: an ephemeral P-256 key agrees a secret with the system key,
HKDF-SHA-256 (salt = the ephemeral public point, info = ``WRAP_INFO``) derives an
AES-256-GCM key, which seals the content key with the system key id as AAD. Every step
is available in both Python ``cryptography`` and WebCrypto.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .b64 import b64url_decode, b64url_encode
from .system_key import SystemKeyPair, SystemPublicKey

WRAP_INFO = b"bwlive content key v1"
CONTENT_KEY_BYTES = 16  # SFrame base key for AES_128_GCM_SHA256_128


def new_content_key() -> bytes:
    return os.urandom(CONTENT_KEY_BYTES)


def _wrapping_key(shared_secret: bytes, epk_raw: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk_raw, info=WRAP_INFO).derive(
        shared_secret
    )


@dataclass(frozen=True)
class KeyEnvelope:
    """A content key sealed to one system key; safe to store and forward in clear."""

    key_id: str  # the system key id this envelope is sealed to
    epk: bytes  # ephemeral public key, uncompressed point (65 bytes)
    iv: bytes
    ciphertext: bytes  # content key + 16-byte GCM tag

    @classmethod
    def seal(
        cls, content_key: bytes, system_key: SystemPublicKey, *,
        ephemeral: ec.EllipticCurvePrivateKey | None = None, iv: bytes | None = None,
    ) -> KeyEnvelope:
        """Seal ``content_key``; ``ephemeral`` and ``iv`` are for test vectors only."""
        ephemeral = ephemeral or ec.generate_private_key(ec.SECP256R1())
        iv = iv or os.urandom(12)
        epk_raw = ephemeral.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        secret = ephemeral.exchange(ec.ECDH(), system_key.key)
        sealed = AESGCM(_wrapping_key(secret, epk_raw)).encrypt(
            iv, content_key, system_key.key_id.encode("ascii")
        )
        return cls(system_key.key_id, epk_raw, iv, sealed)

    def open(self, pair: SystemKeyPair) -> bytes:
        """Recover the content key (what the operator's browser does, in WebCrypto)."""
        if pair.public.key_id != self.key_id:
            raise ValueError(
                f"this stream is encrypted to key {self.key_id}, not to {pair.public.key_id}"
            )
        epk = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), self.epk)
        secret = pair.private_key.exchange(ec.ECDH(), epk)
        return AESGCM(_wrapping_key(secret, self.epk)).decrypt(
            self.iv, self.ciphertext, self.key_id.encode("ascii")
        )

    def to_json(self) -> dict[str, object]:
        return {
            "v": 1,
            "kid": self.key_id,
            "epk": b64url_encode(self.epk),
            "iv": b64url_encode(self.iv),
            "ct": b64url_encode(self.ciphertext),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> KeyEnvelope:
        if data.get("v") != 1:
            raise ValueError("unsupported key envelope version")
        try:
            return cls(
                str(data["kid"]),
                b64url_decode(str(data["epk"])),
                b64url_decode(str(data["iv"])),
                b64url_decode(str(data["ct"])),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"malformed key envelope: {exc}") from None

    def to_header(self) -> str:
        """Compact form for an HTTP header: base64url of the JSON."""
        return b64url_encode(json.dumps(self.to_json(), separators=(",", ":")).encode())

    @classmethod
    def from_header(cls, value: str) -> KeyEnvelope:
        try:
            data = json.loads(b64url_decode(value))
        except (ValueError, UnicodeDecodeError):
            raise ValueError("malformed key envelope: not base64url JSON") from None
        if not isinstance(data, dict):
            raise ValueError("malformed key envelope: not a JSON object")
        return cls.from_json(data)
