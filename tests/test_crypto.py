"""The Python side of the crypto formats, checked against the shared test vectors."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bwlive_rtc.crypto.b64 import b64url_decode
from bwlive_rtc.crypto.content_key import KeyEnvelope, new_content_key
from bwlive_rtc.crypto.sframe import DecryptError, FrameDecryptor, FrameEncryptor, Kind, decode_header, encode_header
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from tests.make_crypto_vectors import build

VECTORS = json.loads(Path(__file__).with_name("crypto_vectors.json").read_text())


def test_vectors_file_is_current() -> None:
    assert build() == VECTORS, "run: python tests/make_crypto_vectors.py"


def test_link_key_id_and_thumbprint() -> None:
    pair = SystemKeyPair.from_link(VECTORS["link"])
    assert pair.pkcs8_der() == b64url_decode(VECTORS["system_private_pkcs8"])
    assert pair.public.key_id == VECTORS["system_key_id"]
    assert pair.public.thumbprint == VECTORS["system_thumbprint"]
    assert pair.public.thumbprint.replace(" ", "").lower() == pair.public.key_id


def test_envelope_opens_to_content_key() -> None:
    pair = SystemKeyPair.from_link(VECTORS["link"])
    envelope = KeyEnvelope.from_json(VECTORS["envelope"])
    assert envelope.open(pair) == b64url_decode(VECTORS["content_key"])
    assert KeyEnvelope.from_header(envelope.to_header()) == envelope


def test_envelope_refuses_other_key_and_tampering() -> None:
    envelope = KeyEnvelope.from_json(VECTORS["envelope"])
    with pytest.raises(ValueError, match="encrypted to key"):
        envelope.open(SystemKeyPair.generate())
    tampered = dict(VECTORS["envelope"], ct=VECTORS["envelope"]["ct"][:-4] + "AAAA")
    with pytest.raises(Exception):
        KeyEnvelope.from_json(tampered).open(SystemKeyPair.from_link(VECTORS["link"]))


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=lambda v: f"{v['kind']}-{v['counter']}")
def test_frame_vectors(vector: dict[str, str]) -> None:
    key = b64url_decode(VECTORS["content_key"])
    kind = Kind[vector["kind"].upper()]
    plain, encrypted = b64url_decode(vector["plaintext"]), b64url_decode(vector["encrypted"])
    assert FrameDecryptor(key).decrypt(kind, encrypted) == plain
    assert FrameEncryptor(key, kind, first_counter=int(vector["counter"])).encrypt(plain) == encrypted


def test_clear_prefix_is_kept_and_authenticated() -> None:
    key = new_content_key()
    keyframe = bytes([0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01]) + os.urandom(100)
    sealed = FrameEncryptor(key, Kind.VIDEO).encrypt(keyframe)
    assert sealed[:10] == keyframe[:10]
    assert keyframe[10:40] not in sealed
    altered = bytearray(sealed)
    altered[6] ^= 0x01  # a clear byte: authenticated as AAD
    with pytest.raises(DecryptError):
        FrameDecryptor(key).decrypt(Kind.VIDEO, bytes(altered))
    with pytest.raises(DecryptError):
        FrameDecryptor(new_content_key()).decrypt(Kind.VIDEO, sealed)


def test_kinds_cannot_be_swapped() -> None:
    key = new_content_key()
    sealed = FrameEncryptor(key, Kind.CAMERA_DATA).encrypt(b'{"type":"position"}')
    with pytest.raises(DecryptError, match="KID"):
        FrameDecryptor(key).decrypt(Kind.OPERATOR_DATA, sealed)


@pytest.mark.parametrize("kid,ctr", [(0, 0), (7, 7), (8, 255), (3, 2**64 - 1), (2**20, 2**40)])
def test_sframe_header_round_trip(kid: int, ctr: int) -> None:
    header = encode_header(kid, ctr)
    assert decode_header(header + b"rest") == (kid, ctr, len(header))


def test_key_pair_files(tmp_path: Path) -> None:
    pair = SystemKeyPair.generate()
    pair.save(tmp_path)
    assert (tmp_path / "system-private.pem").stat().st_mode & 0o077 == 0
    assert SystemPublicKey.load(tmp_path).key_id == pair.public.key_id
    assert SystemKeyPair.load(tmp_path).pkcs8_der() == pair.pkcs8_der()
    with pytest.raises(FileNotFoundError, match="keys generate"):
        SystemPublicKey.load(tmp_path / "missing")


def test_protected_link_vector() -> None:
    """The password-protected link (PROTOCOL §1, ``#pkey=``) opens to the vectors' key."""
    from bwlive_rtc.crypto.link import WrongPassphrase

    pair = SystemKeyPair.from_link(VECTORS["protected_link"], VECTORS["protected_link_passphrase"])
    assert pair.pkcs8_der() == b64url_decode(VECTORS["system_private_pkcs8"])
    with pytest.raises(WrongPassphrase):
        SystemKeyPair.from_link(VECTORS["protected_link"], "not the passphrase")
