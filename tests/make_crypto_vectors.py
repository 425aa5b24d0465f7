"""Regenerate tests/crypto_vectors.json: ``python tests/make_crypto_vectors.py``.

Deterministic inputs (fixed keys, ephemeral key, IVs and counters) so Python and the
browser can both check exact bytes.
"""
from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.link import protected_link
from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind
from bwlive_rtc.crypto.system_key import SystemKeyPair

OUT = Path(__file__).with_name("crypto_vectors.json")


def _fixed_private(seed: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(seed, ec.SECP256R1())


def build() -> dict[str, object]:
    system = SystemKeyPair(_fixed_private(0x5EED_0001_BEEF))
    content_key = bytes(range(16))
    envelope = KeyEnvelope.seal(
        content_key, system.public, ephemeral=_fixed_private(0x5EED_0002), iv=bytes(range(12, 24))
    )
    frames = []
    cases = [
        (Kind.VIDEO, 0, bytes([0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01]) + b"keyframe body " * 4),
        (Kind.VIDEO, 7, bytes([0x31, 0x02, 0x00]) + b"delta frame body"),
        (Kind.VIDEO, 300, bytes([0x51, 0x02, 0x00]) + bytes(range(256))),
        (Kind.AUDIO, 0, bytes([0xFC]) + b"opus payload"),
        (Kind.AUDIO, 70000, bytes([0x78]) + b"x" * 40),
        (Kind.CAMERA_DATA, 3, b'{"type":"position","lat":52.37,"lon":4.89,"t":1}'),
        (Kind.OPERATOR_DATA, 0x1234_5678_9ABC_DEF0, b'{"type":"acknowledge","by":"op"}'),
    ]
    for kind, counter, plain in cases:
        encrypted = FrameEncryptor(content_key, kind, first_counter=counter).encrypt(plain)
        frames.append(
            {
                "kind": kind.name.lower(),
                "counter": str(counter),
                "plaintext": b64url_encode(plain),
                "encrypted": b64url_encode(encrypted),
            }
        )
    return {
        "description": "bwlive crypto test vectors; see docs/PROTOCOL.md",
        "system_private_pkcs8": b64url_encode(system.pkcs8_der()),
        "system_key_id": system.public.key_id,
        "system_thumbprint": system.public.thumbprint,
        "link_base": "http://127.0.0.1:8080",
        "link": system.link("http://127.0.0.1:8080"),
        "content_key": b64url_encode(content_key),
        "envelope": envelope.to_json(),
        "frames": frames,
        "protected_link_passphrase": "correct horse battery staple ✓",
        "protected_link": protected_link(
            "http://127.0.0.1:8080", system.pkcs8_der(), "correct horse battery staple ✓",
            salt=bytes(range(100, 116)), iv=bytes(range(200, 212)),
        ),
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=2) + "\n")
    print(f"wrote {OUT}")
