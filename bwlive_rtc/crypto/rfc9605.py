"""SFrame (RFC 9605) for its AES-GCM cipher suites, to the letter: the header (§4.3),
the key schedule (§4.4.2) and the encryption of one frame with its metadata (§4.4.3-4.4.4).

Nothing of bwlive's own lives here (kinds, clear codec bytes, stream keys: ``sframe.py``);
``tests/test_rfc9605.py`` checks this module against the RFC's Appendix C vectors.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12  # AEAD.Nn of both suites
TAG_BYTES = 16  # AEAD.Nt
MAX_U64 = (1 << 64) - 1


class DecryptError(Exception):
    """The frame is not ours, was altered, or the key is wrong."""


@dataclass(frozen=True)
class CipherSuite:
    """One of RFC 9605's AES-GCM cipher suites (§4.5)."""

    id: int
    name: str
    hash_name: str  # "SHA256" or "SHA512": the HKDF hash
    key_bytes: int  # AEAD.Nk

    def hash(self) -> hashes.HashAlgorithm:
        return hashes.SHA256() if self.hash_name == "SHA256" else hashes.SHA512()

    def hkdf(self, ikm: bytes, info: bytes, length: int) -> bytes:
        """HKDF-Extract with an empty salt, then HKDF-Expand (RFC 5869) with this suite's hash."""
        return HKDF(algorithm=self.hash(), length=length, salt=None, info=info).derive(ikm)


AES_128_GCM_SHA256_128 = CipherSuite(0x0004, "AES_128_GCM_SHA256_128", "SHA256", 16)
AES_256_GCM_SHA512_128 = CipherSuite(0x0005, "AES_256_GCM_SHA512_128", "SHA512", 32)
SUITES = {suite.id: suite for suite in (AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128)}


def cipher_suite(suite_id: object) -> CipherSuite:
    """The suite with this id; a ValueError names an unsupported one (suites 1-3 are not)."""
    if isinstance(suite_id, bool) or not isinstance(suite_id, int) or suite_id not in SUITES:
        raise ValueError(f"unsupported SFrame cipher suite {suite_id!r} (supported: 4, 5)")
    return SUITES[suite_id]


# ---------------------------------------------------------------- header (§4.3)


def _encode_field(value: int) -> tuple[int, bytes]:
    """KID or CTR: (4 bits for the config byte, extension bytes)."""
    if not 0 <= value <= MAX_U64:
        raise ValueError("SFrame KID/CTR must fit in 64 bits")
    if value < 8:
        return value, b""
    length = (value.bit_length() + 7) // 8
    return 0x8 | (length - 1), value.to_bytes(length, "big")


def encode_header(kid: int, ctr: int) -> bytes:
    """Config byte ``X KKK Y CCC``, then the KID's and the CTR's extension bytes."""
    k_bits, k_ext = _encode_field(kid)
    c_bits, c_ext = _encode_field(ctr)
    return bytes([(k_bits << 4) | c_bits]) + k_ext + c_ext


def decode_header(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Return (kid, ctr, header length) of the header starting at ``offset``."""
    if offset >= len(data):
        raise DecryptError("frame too short for an SFrame header")
    config = data[offset]
    pos = offset + 1
    values = []
    for bits in (config >> 4, config & 0x0F):
        if bits & 0x8:
            n = (bits & 0x7) + 1
            if pos + n > len(data):
                raise DecryptError("frame too short for its SFrame header")
            values.append(int.from_bytes(data[pos : pos + n], "big"))
            pos += n
        else:
            values.append(bits)
    return values[0], values[1], pos - offset


# ---------------------------------------------------------------- key schedule (§4.4.2)


def key_labels(suite: CipherSuite, kid: int) -> tuple[bytes, bytes]:
    """``"SFrame 1.0 Secret key " || KID || suite`` and the salt label (KID u64, suite u16)."""
    suffix = struct.pack(">QH", kid, suite.id)
    return b"SFrame 1.0 Secret key " + suffix, b"SFrame 1.0 Secret salt " + suffix


class KidKey:
    """The AEAD key and salt of one KID, derived from that sender's base key."""

    __slots__ = ("_aead", "_salt", "kid", "suite")

    def __init__(self, suite: CipherSuite, base_key: bytes, kid: int) -> None:
        key_label, salt_label = key_labels(suite, kid)
        self.suite, self.kid = suite, kid
        self._aead = AESGCM(suite.hkdf(base_key, key_label, suite.key_bytes))
        self._salt = int.from_bytes(suite.hkdf(base_key, salt_label, NONCE_BYTES), "big")

    def nonce(self, ctr: int) -> bytes:
        """``salt XOR CTR``, the counter left-padded to ``NONCE_BYTES``."""
        return (self._salt ^ ctr).to_bytes(NONCE_BYTES, "big")

    def seal(self, ctr: int, aad: bytes, plaintext: bytes) -> bytes:
        return self._aead.encrypt(self.nonce(ctr), plaintext, aad)

    def open(self, ctr: int, aad: bytes, ciphertext: bytes) -> bytes:
        try:
            return self._aead.decrypt(self.nonce(ctr), ciphertext, aad)
        except InvalidTag:
            raise DecryptError("frame authentication failed (wrong key or altered frame)") from None


# ---------------------------------------------------------------- encryption (§4.4.3-4.4.4)


def encrypt(key: KidKey, ctr: int, metadata: bytes, plaintext: bytes) -> bytes:
    """The SFrame ciphertext ``header || ct``, with ``AAD = header || metadata``."""
    header = encode_header(key.kid, ctr)
    return header + key.seal(ctr, header + metadata, plaintext)


def decrypt(key: KidKey, metadata: bytes, sframe_ciphertext: bytes) -> bytes:
    """Open ``header || ct`` whose KID is ``key.kid``; raises DecryptError."""
    kid, ctr, header_len = decode_header(sframe_ciphertext)
    if kid != key.kid:
        raise DecryptError(f"the frame's KID {kid} is not this key's {key.kid}")
    header = sframe_ciphertext[:header_len]
    return key.open(ctr, header + metadata, sframe_ciphertext[header_len:])
