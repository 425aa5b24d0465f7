"""Per-stream keys and their envelope, wrapped to the system public key (PROTOCOL §2).

Wrapping is ECIES-style: an ephemeral P-256 key agrees a secret with the system key,
HKDF-SHA-256 (salt = the ephemeral public point, info = the version's label) derives an
AES-256-GCM key, which seals the stream secret. v2 envelopes name the SFrame cipher suite
and bind it, with the system key id, into the AAD, so it cannot be changed (downgraded);
v1 envelopes (suite 4, a 16-byte content key, AAD = key id) are still read, so recordings
made before play. Every step is available in both Python ``cryptography`` and WebCrypto.
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
from .rfc9605 import cipher_suite
from .sframe import LEGACY_SUITE, STREAM_SECRET_BYTES, StreamKey
from .system_key import SystemKeyPair, SystemPublicKey

WRAP_INFO = {1: b"bwlive content key v1", 2: b"bwlive content key v2"}
CURRENT_ENVELOPE = 2  # what cameras seal and the server admits for new streams
LEGACY_KEY_BYTES = 16  # v1: the content key, every KID's SFrame base key (suite 4)


def _wrapping_key(version: int, shared_secret: bytes, epk_raw: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk_raw, info=WRAP_INFO[version]).derive(
        shared_secret
    )


def _aad(version: int, key_id: str, suite: int) -> bytes:
    """v1: ASCII(key id); v2: ASCII(key id) || u16be(suite)."""
    return key_id.encode("ascii") + (suite.to_bytes(2, "big") if version == 2 else b"")


@dataclass(frozen=True)
class KeyEnvelope:
    """A stream key sealed to one system key; safe to store and forward in clear."""

    key_id: str  # the system key id this envelope is sealed to
    epk: bytes  # ephemeral public key, uncompressed point (65 bytes)
    iv: bytes
    ciphertext: bytes  # stream secret (v1: content key) + 16-byte GCM tag
    version: int  # 2; 1 for streams from before suites and per-sender keys
    suite: int  # the SFrame cipher suite; always 4 in v1

    @classmethod
    def seal(
        cls, stream_key: StreamKey, system_key: SystemPublicKey, *,
        ephemeral: ec.EllipticCurvePrivateKey | None = None, iv: bytes | None = None,
    ) -> KeyEnvelope:
        """Seal a v2 ``stream_key`` (or, for test vectors only, a legacy one as v1);
        ``ephemeral`` and ``iv`` are for test vectors only."""
        version = 1 if stream_key.legacy else 2
        ephemeral = ephemeral or ec.generate_private_key(ec.SECP256R1())
        iv = iv or os.urandom(12)
        epk_raw = ephemeral.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        secret = ephemeral.exchange(ec.ECDH(), system_key.key)
        aad = _aad(version, system_key.key_id, stream_key.suite.id)
        sealed = AESGCM(_wrapping_key(version, secret, epk_raw)).encrypt(iv, stream_key.secret, aad)
        return cls(system_key.key_id, epk_raw, iv, sealed, version, stream_key.suite.id)

    def open(self, pair: SystemKeyPair) -> StreamKey:
        """Recover the stream key (what the operator's browser does, in WebCrypto)."""
        if pair.public.key_id != self.key_id:
            raise ValueError(
                f"this stream is encrypted to key {self.key_id}, not to {pair.public.key_id}"
            )
        epk = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), self.epk)
        secret = pair.private_key.exchange(ec.ECDH(), epk)
        plain = AESGCM(_wrapping_key(self.version, secret, self.epk)).decrypt(
            self.iv, self.ciphertext, _aad(self.version, self.key_id, self.suite)
        )
        legacy = self.version == 1
        if len(plain) != (LEGACY_KEY_BYTES if legacy else STREAM_SECRET_BYTES):
            raise ValueError(f"the envelope holds a key of {len(plain)} bytes")
        return StreamKey(cipher_suite(self.suite), plain, legacy)

    def to_json(self) -> dict[str, object]:
        return {
            "v": self.version,
            **({"suite": self.suite} if self.version == 2 else {}),
            "kid": self.key_id,
            "epk": b64url_encode(self.epk),
            "iv": b64url_encode(self.iv),
            "ct": b64url_encode(self.ciphertext),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> KeyEnvelope:
        version = data.get("v")
        if version not in (1, 2) or isinstance(version, bool):
            raise ValueError("unsupported key envelope version")
        try:
            suite = LEGACY_SUITE.id if version == 1 else cipher_suite(data.get("suite")).id
            return cls(
                str(data["kid"]),
                b64url_decode(str(data["epk"])),
                b64url_decode(str(data["iv"])),
                b64url_decode(str(data["ct"])),
                1 if version == 1 else 2,
                suite,
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
