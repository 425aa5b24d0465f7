"""Regenerate tests/crypto_vectors.json: ``python tests/make_crypto_vectors.py``.

Deterministic inputs (fixed keys, ephemeral key, IVs, sender ids and counters) so Python
and the browser can both check exact bytes. Three streams: the default (v2 envelope,
suite 5), v2 with suite 4, and a v1 stream (suite 4, the content key as every KID's base
key, AAD = clear || header) whose envelope and frames are byte for byte those of the
vectors from before v2, so recordings made then still open.
"""
from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.link import protected_link
from bwlive_rtc.crypto.rfc9605 import AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128
from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind, StreamKey
from bwlive_rtc.crypto.system_key import SystemKeyPair

OUT = Path(__file__).with_name("crypto_vectors.json")


def _fixed_private(seed: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(seed, ec.SECP256R1())


CASES = [
    (Kind.VIDEO, 0, 0, bytes([0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01]) + b"keyframe body " * 4),
    (Kind.VIDEO, 0, 7, bytes([0x31, 0x02, 0x00]) + b"delta frame body"),
    (Kind.VIDEO, 0, 300, bytes([0x51, 0x02, 0x00]) + bytes(range(256))),
    (Kind.AUDIO, 0, 0, bytes([0xFC]) + b"opus payload"),
    (Kind.AUDIO, 0, 70000, bytes([0x78]) + b"x" * 40),
    (Kind.CAMERA_DATA, 0, 3, b'{"type":"position","lat":52.37,"lon":4.89,"t":1}'),
]
VIEWER_CASES = [  # a browser's acknowledgements: its sender id, counters from 0
    (Kind.OPERATOR_DATA, 0x0123_4567_89AB_CDEF, 0, b'{"type":"acknowledge","t":1}'),
    (Kind.OPERATOR_DATA, 0x0123_4567_89AB_CDEF, 1, b'{"type":"acknowledge","t":2}'),
    (Kind.OPERATOR_DATA, 5, 9, b'{"type":"acknowledge","t":3}'),
]
LEGACY_VIEWER_CASES = [(Kind.OPERATOR_DATA, 0, 0x1234_5678_9ABC_DEF0, b'{"type":"acknowledge","by":"op"}')]


def _stream(system: SystemKeyPair, key: StreamKey, seed: int) -> dict[str, object]:
    envelope = KeyEnvelope.seal(key, system.public, ephemeral=_fixed_private(seed), iv=bytes(range(12, 24)))
    frames = []
    for kind, sender, counter, plain in CASES + (LEGACY_VIEWER_CASES if key.legacy else VIEWER_CASES):
        encrypted = FrameEncryptor(key, kind, sender=sender, first_counter=counter).encrypt(plain)
        frames.append(
            {
                "kind": kind.name.lower(),
                "sender": str(sender),
                "counter": str(counter),
                "plaintext": b64url_encode(plain),
                "encrypted": b64url_encode(encrypted),
            }
        )
    return {"secret": b64url_encode(key.secret), "suite": key.suite.id, "legacy": key.legacy,
            "envelope": envelope.to_json(), "frames": frames}


def build() -> dict[str, object]:
    system = SystemKeyPair(_fixed_private(0x5EED_0001_BEEF))
    streams = [
        _stream(system, StreamKey(AES_256_GCM_SHA512_128, bytes(range(32))), 0x5EED_0003),
        _stream(system, StreamKey(AES_128_GCM_SHA256_128, bytes(range(32, 64))), 0x5EED_0004),
        _stream(system, StreamKey(AES_128_GCM_SHA256_128, bytes(range(16)), legacy=True), 0x5EED_0002),
    ]
    return {
        "description": "bwlive crypto test vectors; see docs/PROTOCOL.md",
        "system_private_pkcs8": b64url_encode(system.pkcs8_der()),
        "system_key_id": system.public.key_id,
        "system_thumbprint": system.public.thumbprint,
        "link_base": "http://127.0.0.1:8080",
        "link": system.link("http://127.0.0.1:8080"),
        "streams": streams,
        "protected_link_passphrase": "correct horse battery staple ✓",
        "protected_link": protected_link(
            "http://127.0.0.1:8080", system.pkcs8_der(), "correct horse battery staple ✓",
            salt=bytes(range(100, 116)), iv=bytes(range(200, 212)),
        ),
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=2) + "\n")
    print(f"wrote {OUT}")
