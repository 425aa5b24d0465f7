"""SFrame to the letter: bwlive_rtc/crypto/rfc9605.py against the RFC 9605 Appendix C
vectors (tests/data/rfc9605-test-vectors.json, the official JSON), and bwlive's frames
opened by a minimal SFrame receiver written here from the RFC's text alone."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bwlive_rtc.crypto import rfc9605
from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind, StreamKey, clear_prefix_length, new_sender_id

VECTORS_FILE = Path(__file__).parent / "data" / "rfc9605-test-vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text())
AES_GCM_VECTORS = [v for v in VECTORS["sframe"] if v["cipher_suite"] in (4, 5)]


def test_the_vectors_are_the_official_file() -> None:
    assert hashlib.sha256(VECTORS_FILE.read_bytes()).hexdigest() == (
        "b8d35efd41749567427cb9ae52d9a7362904154978ff6a5fb20c0258a8ffdec1"
    )
    assert len(VECTORS["header"]) == 289
    assert sorted(v["cipher_suite"] for v in AES_GCM_VECTORS) == [4, 5]


def test_every_header_vector() -> None:
    for vector in VECTORS["header"]:
        kid, ctr, encoded = int(vector["kid"]), int(vector["ctr"]), bytes.fromhex(vector["encoded"])
        assert rfc9605.encode_header(kid, ctr) == encoded, vector
        assert rfc9605.decode_header(encoded + b"payload") == (kid, ctr, len(encoded)), vector


@pytest.mark.parametrize("vector", AES_GCM_VECTORS, ids=lambda v: f"suite-{v['cipher_suite']}")
def test_every_aes_gcm_sframe_vector(vector: dict[str, object]) -> None:
    h = {name: bytes.fromhex(str(value)) for name, value in vector.items() if isinstance(value, str)}
    suite, kid, ctr = rfc9605.cipher_suite(vector["cipher_suite"]), int(str(vector["kid"])), int(str(vector["ctr"]))
    assert rfc9605.key_labels(suite, kid) == (h["sframe_key_label"], h["sframe_salt_label"])
    key = rfc9605.KidKey(suite, h["base_key"], kid)
    assert key.nonce(ctr) == h["nonce"]
    assert rfc9605.encode_header(kid, ctr) + h["metadata"] == h["aad"]
    assert rfc9605.encrypt(key, ctr, h["metadata"], h["pt"]) == h["ct"]
    assert rfc9605.decrypt(key, h["metadata"], h["ct"]) == h["pt"]
    with pytest.raises(rfc9605.DecryptError):
        rfc9605.decrypt(key, h["metadata"] + b"!", h["ct"])  # the metadata is authenticated


def test_suites_1_to_3_are_refused_by_name() -> None:
    for suite in (1, 2, 3, 6, "5", True):
        with pytest.raises(ValueError, match="unsupported SFrame cipher suite"):
            rfc9605.cipher_suite(suite)


# ---------------------------------------------------------------- a standard receiver


def _hkdf(hash_name: str, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 with an empty salt, on hmac alone."""
    prk = hmac.new(b"", ikm, hash_name).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hash_name).digest()
        out, i = out + block, i + 1
    return out[:length]


def _standard_decrypt(suite: int, base_key: bytes, metadata: bytes, sframe_ciphertext: bytes) -> bytes:
    """RFC 9605 §4.3, §4.4.2 and §4.4.4 as written: parse the header, derive the KID's key
    and salt, nonce = salt XOR CTR, AAD = header || metadata."""
    hash_name, nk = {4: ("sha256", 16), 5: ("sha512", 32)}[suite]
    config, pos, fields = sframe_ciphertext[0], 1, []
    for bits in (config >> 4 & 0xF, config & 0xF):
        if bits & 0x8:
            length = (bits & 0x7) + 1
            fields.append(int.from_bytes(sframe_ciphertext[pos : pos + length], "big"))
            pos += length
        else:
            fields.append(bits)
    kid, ctr = fields
    header, ct = sframe_ciphertext[:pos], sframe_ciphertext[pos:]
    secret_suffix = struct.pack(">QH", kid, suite)
    key = _hkdf(hash_name, base_key, b"SFrame 1.0 Secret key " + secret_suffix, nk)
    salt = _hkdf(hash_name, base_key, b"SFrame 1.0 Secret salt " + secret_suffix, 12)
    nonce = bytes(a ^ b for a, b in zip(salt, ctr.to_bytes(12, "big")))
    return AESGCM(key).decrypt(nonce, ct, header + metadata)


def _base_key(stream: StreamKey, kid: int) -> bytes:
    """The sender's base key from PROTOCOL §3's labels, computed here independently."""
    hash_name = {4: "sha256", 5: "sha512"}[stream.suite.id]
    label = {0: b"bwlive 2 base key camera media", 1: b"bwlive 2 base key camera media",
             2: b"bwlive 2 base key camera data", 3: b"bwlive 2 base key viewer " + kid.to_bytes(8, "big")}[kid & 3]
    return _hkdf(hash_name, stream.secret, label, stream.suite.key_bytes)


@pytest.mark.parametrize("suite", [rfc9605.AES_128_GCM_SHA256_128, rfc9605.AES_256_GCM_SHA512_128],
                         ids=lambda s: s.name)
def test_a_standard_sframe_receiver_opens_our_frames(suite: rfc9605.CipherSuite) -> None:
    """Given metadata = the clear codec prefix, a standard receiver opens ``frame[len(clear):]``
    of every kind of frame we send, each kind under its sender's own base key."""
    stream = StreamKey.new(suite)
    cases = [
        (Kind.VIDEO, 0, bytes([0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01]) + os.urandom(500)),
        (Kind.VIDEO, 0, bytes([0x31, 0x02, 0x00]) + os.urandom(90)),
        (Kind.AUDIO, 0, bytes([0xFC]) + os.urandom(60)),
        (Kind.CAMERA_DATA, 0, b'{"type":"position","lat":52.37,"lon":4.89,"t":1}'),
        (Kind.OPERATOR_DATA, new_sender_id(), b'{"type":"acknowledge","t":1}'),
    ]
    for kind, sender, plain in cases:
        encryptor = FrameEncryptor(stream, kind, sender=sender)
        for _ in range(3):  # counters 0, 1, 2
            frame = encryptor.encrypt(plain)
            clear = frame[: clear_prefix_length(kind, frame)]
            assert clear == plain[: len(clear)]
            body = _standard_decrypt(suite.id, _base_key(stream, encryptor.kid), clear, frame[len(clear) :])
            assert clear + body == plain
        assert rfc9605.decode_header(frame, len(clear))[:2] == (sender << 2 | kind, 2)


def test_senders_have_their_own_base_keys() -> None:
    """Camera media, camera data and each browser: distinct base keys from one secret."""
    stream = StreamKey.new()
    kids = [0, 1, 2, 3, new_sender_id() << 2 | 3, new_sender_id() << 2 | 3]
    base_keys = [stream.base_key(kid) for kid in kids]
    assert base_keys[0] == base_keys[1]  # video and audio: one sender, the camera's media key
    assert len(set(base_keys[1:])) == len(kids) - 1
    assert all(len(key) == 32 for key in base_keys)
    assert stream.secret not in base_keys
