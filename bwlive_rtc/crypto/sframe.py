"""bwlive's frames after SFrame (RFC 9605): each sender's KID and base key, derived from
the stream's key, and the clear codec bytes carried as SFrame metadata (PROTOCOL §3).

A frame on the wire is ``clear prefix || SFrame ciphertext``, the SFrame ciphertext being
``header || ct || tag`` with ``AAD = header || clear prefix``: a standard SFrame
implementation given ``metadata = clear prefix`` opens ``frame[len(clear prefix):]``. The
clear prefix holds the few codec bytes an SFU and RTP packetizers read (VP8: 10 bytes of a
key frame, 3 of a delta frame; Opus: 1 byte; data messages: none).

Each sender has its own base key (RFC 9605 §4.4.1, §9.1): the camera one for its media
and one for its data, each browser one per page load for what it sends the camera.
"""
from __future__ import annotations

import os
import secrets
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from .rfc9605 import (
    AES_128_GCM_SHA256_128,
    AES_256_GCM_SHA512_128,
    CipherSuite,
    DecryptError,
    KidKey,
    decode_header,
    encode_header,
)
from .rfc9605 import decrypt as sframe_decrypt
from .rfc9605 import encrypt as sframe_encrypt

STREAM_SECRET_BYTES = 32
DEFAULT_SUITE = AES_256_GCM_SHA512_128
LEGACY_SUITE = AES_128_GCM_SHA256_128  # v1 envelopes (streams and recordings made before)
SENDER_ID_BITS = 62  # a browser's sender id; its KID (sender << 2 | 3) fits in 64 bits

CAMERA_MEDIA_LABEL = b"bwlive 2 base key camera media"
CAMERA_DATA_LABEL = b"bwlive 2 base key camera data"
VIEWER_LABEL = b"bwlive 2 base key viewer "  # || u64be(KID)


class Kind(IntEnum):
    """Who encrypts with a KID: its low two bits; ``kid = sender << 2 | kind``."""

    VIDEO = 0  # the camera (sender 0)
    AUDIO = 1  # the camera (sender 0)
    CAMERA_DATA = 2  # camera -> browsers (GPS, state), sender 0
    OPERATOR_DATA = 3  # a browser -> the camera (acknowledge): sender = the browser's random id


def make_kid(kind: Kind, sender: int = 0) -> int:
    if sender and kind is not Kind.OPERATOR_DATA:
        raise ValueError("the camera is the only sender of its kinds (sender 0)")
    return sender << 2 | int(kind)


def new_sender_id() -> int:
    """A browser's sender id, picked once per page load."""
    return secrets.randbits(SENDER_ID_BITS)


@dataclass(frozen=True)
class StreamKey:
    """A stream's key: its cipher suite and secret (never in a repr).

    v2 (``legacy`` false): a 32-byte stream secret; each sender's base key is derived from
    it. v1 (``legacy``, streams and recordings from before v2, suite 4): the 16-byte content
    key is every KID's base key and the AAD is ``clear prefix || header``.
    """

    suite: CipherSuite
    secret: bytes = field(repr=False)
    legacy: bool = False

    @classmethod
    def new(cls, suite: CipherSuite = DEFAULT_SUITE) -> StreamKey:
        return cls(suite, os.urandom(STREAM_SECRET_BYTES))

    def base_key(self, kid: int) -> bytes:
        """The base key of the sender of ``kid``: HKDF(suite hash, secret, label, Nk)."""
        if self.legacy:
            return self.secret
        kind = Kind(kid & 0x3)
        if kind is Kind.OPERATOR_DATA:
            label = VIEWER_LABEL + struct.pack(">Q", kid)
        else:
            label = CAMERA_DATA_LABEL if kind is Kind.CAMERA_DATA else CAMERA_MEDIA_LABEL
        return self.suite.hkdf(self.secret, label, self.suite.key_bytes)

    def kid_key(self, kid: int) -> KidKey:
        return KidKey(self.suite, self.base_key(kid), kid)


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


class FrameEncryptor:
    """Encrypts the frames of one sender (one KID) with a counter rising from
    ``first_counter`` (0 for every real sender: each has its own base key)."""

    def __init__(self, key: StreamKey, kind: Kind, sender: int = 0, first_counter: int = 0) -> None:
        self.kind = kind
        self.kid = make_kid(kind, sender)
        self._key = key.kid_key(self.kid)
        self._legacy = key.legacy
        self._counter = first_counter

    @property
    def counter(self) -> int:
        """The counter the next frame gets."""
        return self._counter

    def encrypt(self, frame: bytes) -> bytes:
        clear_len = clear_prefix_length(self.kind, frame)
        if len(frame) < clear_len:
            raise ValueError(f"{self.kind.name.lower()} frame shorter than its codec header")
        clear, body, ctr = frame[:clear_len], frame[clear_len:], self._counter
        self._counter += 1
        if self._legacy:
            aad = clear + encode_header(self.kid, ctr)
            return aad + self._key.seal(ctr, aad, body)
        return clear + sframe_encrypt(self._key, ctr, clear, body)


class FrameDecryptor:
    """Decrypts frames of any KID of one stream. A KID's key is derived on first use and
    kept only once a frame authenticated under it, at most ``MAX_KIDS`` of them (the least
    recently used go), so frames with made-up KIDs cannot grow it."""

    MAX_KIDS = 16

    def __init__(self, key: StreamKey) -> None:
        self._key = key
        self._kid_keys: dict[int, KidKey] = {}

    def decrypt(self, kind: Kind, frame: bytes) -> bytes:
        try:
            clear_len = clear_prefix_length(kind, frame)
        except ValueError as exc:
            raise DecryptError(str(exc)) from None
        kid, ctr, header_len = decode_header(frame, clear_len)
        if kid & 0x3 != int(kind):
            raise DecryptError(f"KID {kid} does not belong to a {kind.name.lower()} frame")
        cached = self._kid_keys.pop(kid, None)
        key = cached or self._key.kid_key(kid)
        clear = frame[:clear_len]
        try:
            if self._key.legacy:
                aad_len = clear_len + header_len
                body = key.open(ctr, frame[:aad_len], frame[aad_len:])
            else:
                body = sframe_decrypt(key, clear, frame[clear_len:])
        except DecryptError:
            if cached is not None:
                self._kid_keys[kid] = cached
            raise
        self._kid_keys[kid] = key  # most recently used last
        if len(self._kid_keys) > self.MAX_KIDS:
            del self._kid_keys[next(iter(self._kid_keys))]
        return clear + body

    @property
    def cached_kids(self) -> int:
        """How many KIDs' keys are kept (bounded by ``MAX_KIDS``)."""
        return len(self._kid_keys)
