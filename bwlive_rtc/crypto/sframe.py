"""Per-frame encryption after SFrame (RFC 9605), cipher suite AES_128_GCM_SHA256_128.

An encrypted frame is ``clear prefix || SFrame header || ciphertext || tag``. The clear
prefix holds the few codec bytes an SFU and RTP packetizers read (VP8: 10 bytes of a key
frame, 3 of a delta frame; Opus: 1 byte; data messages: none); it and the header are the
AEAD's associated data, so neither can be altered unnoticed.

One content key serves a whole stream; each media kind uses its own KID so that the
counters of different senders never share a nonce.
"""
from __future__ import annotations

import struct
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CIPHER_SUITE = 0x0004  # AES_128_GCM_SHA256_128
KEY_BYTES = 16
NONCE_BYTES = 12


class Kind(IntEnum):
    """Who encrypts with a KID; ``kid = epoch << 2 | kind``."""

    VIDEO = 0
    AUDIO = 1
    CAMERA_DATA = 2  # camera -> browsers (GPS, state)
    OPERATOR_DATA = 3  # browsers -> camera (acknowledge); random counters


class DecryptError(Exception):
    """The frame is not ours, was altered, or the key is wrong."""


def make_kid(kind: Kind, epoch: int = 0) -> int:
    return epoch << 2 | int(kind)


def clear_prefix_length(kind: Kind, frame: bytes) -> int:
    """Bytes left in clear: VP8 key frame 10, delta 3; Opus 1; data 0.

    Decided by the first byte alone (the VP8 inverse key-frame bit), so the same answer
    comes from the plain and the encrypted frame.
    """
    if kind == Kind.VIDEO:
        if not frame:
            raise ValueError("empty video frame")
        return 10 if frame[0] & 0x01 == 0 else 3
    if kind == Kind.AUDIO:
        return 1
    return 0


def _encode_varint_field(value: int) -> tuple[int, bytes]:
    """SFrame's 3-bit-or-extended field: (4 bits for the config byte, extension bytes)."""
    if value < 8:
        return value, b""
    length = max(1, (value.bit_length() + 7) // 8)
    if length > 8:
        raise ValueError("SFrame KID/CTR larger than 64 bits")
    return 0x8 | (length - 1), value.to_bytes(length, "big")


def encode_header(kid: int, ctr: int) -> bytes:
    k_bits, k_ext = _encode_varint_field(kid)
    c_bits, c_ext = _encode_varint_field(ctr)
    return bytes([(k_bits << 4) | c_bits]) + k_ext + c_ext


def decode_header(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Return (kid, ctr, header length) of the header starting at ``offset``."""
    try:
        config = data[offset]
    except IndexError:
        raise DecryptError("frame too short for an SFrame header") from None
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


def derive_key_salt(base_key: bytes, kid: int) -> tuple[bytes, bytes]:
    """RFC 9605 section 4.4.2: per-KID AEAD key and salt from the base key."""
    suffix = struct.pack(">QH", kid, CIPHER_SUITE)

    def expand(label: bytes, length: int) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=length, salt=None, info=label + suffix
        ).derive(base_key)

    return expand(b"SFrame 1.0 Secret key ", KEY_BYTES), expand(
        b"SFrame 1.0 Secret salt ", NONCE_BYTES
    )


class _KidCipher:
    __slots__ = ("aead", "salt")

    def __init__(self, base_key: bytes, kid: int) -> None:
        key, salt = derive_key_salt(base_key, kid)
        self.aead = AESGCM(key)
        self.salt = int.from_bytes(salt, "big")

    def nonce(self, ctr: int) -> bytes:
        return (self.salt ^ ctr).to_bytes(NONCE_BYTES, "big")


class FrameEncryptor:
    """Encrypts the frames of one sender (one KID) with a monotonically rising counter."""

    def __init__(self, base_key: bytes, kind: Kind, epoch: int = 0, first_counter: int = 0) -> None:
        self.kind = kind
        self.kid = make_kid(kind, epoch)
        self._cipher = _KidCipher(base_key, self.kid)
        self._counter = first_counter

    def encrypt(self, frame: bytes) -> bytes:
        clear_len = clear_prefix_length(self.kind, frame)
        if len(frame) < clear_len:
            raise ValueError(f"{self.kind.name.lower()} frame shorter than its codec header")
        clear = frame[:clear_len]
        header = encode_header(self.kid, self._counter)
        aad = clear + header
        sealed = self._cipher.aead.encrypt(
            self._cipher.nonce(self._counter), frame[len(clear) :], aad
        )
        self._counter += 1
        return aad + sealed


class FrameDecryptor:
    """Decrypts frames of any KID under one base key. A KID's key is derived on first use
    and kept only once a frame authenticated under it, at most ``MAX_KIDS`` of them (the
    least recently used go), so frames with made-up KIDs cannot grow it."""

    MAX_KIDS = 16

    def __init__(self, base_key: bytes) -> None:
        self._base_key = base_key
        self._ciphers: dict[int, _KidCipher] = {}

    def decrypt(self, kind: Kind, frame: bytes) -> bytes:
        try:
            clear_len = clear_prefix_length(kind, frame)
        except ValueError as exc:
            raise DecryptError(str(exc)) from None
        kid, ctr, header_len = decode_header(frame, clear_len)
        if kid & 0x3 != int(kind):
            raise DecryptError(f"KID {kid} does not belong to a {kind.name.lower()} frame")
        cached = self._ciphers.pop(kid, None)
        cipher = cached or _KidCipher(self._base_key, kid)
        aad_len = clear_len + header_len
        try:
            body = cipher.aead.decrypt(cipher.nonce(ctr), frame[aad_len:], frame[:aad_len])
        except InvalidTag:
            if cached is not None:
                self._ciphers[kid] = cached
            raise DecryptError("frame authentication failed (wrong key or altered frame)") from None
        self._ciphers[kid] = cipher  # most recently used last
        if len(self._ciphers) > self.MAX_KIDS:
            del self._ciphers[next(iter(self._ciphers))]
        return frame[:clear_len] + body

    @property
    def cached_kids(self) -> int:
        """How many KIDs' keys are kept (bounded by ``MAX_KIDS``)."""
        return len(self._ciphers)
