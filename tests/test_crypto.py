"""The Python side of the crypto formats, checked against the shared test vectors."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from bwlive_rtc.crypto.b64 import b64url_decode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.rfc9605 import AES_128_GCM_SHA256_128, DecryptError, decode_header, encode_header
from bwlive_rtc.crypto.sframe import FrameDecryptor, FrameEncryptor, Kind, StreamKey
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from tests.make_crypto_vectors import build

VECTORS = json.loads(Path(__file__).with_name("crypto_vectors.json").read_text())
STREAMS = VECTORS["streams"]
STREAM_IDS = ["v2-suite5", "v2-suite4", "v1"]


def _key(stream: dict[str, object]) -> StreamKey:
    return KeyEnvelope.from_json(stream["envelope"]).open(SystemKeyPair.from_link(VECTORS["link"]))


def test_vectors_file_is_current() -> None:
    assert build() == VECTORS, "run: python tests/make_crypto_vectors.py"


def test_link_key_id_and_thumbprint() -> None:
    pair = SystemKeyPair.from_link(VECTORS["link"])
    assert pair.pkcs8_der() == b64url_decode(VECTORS["system_private_pkcs8"])
    assert pair.public.key_id == VECTORS["system_key_id"]
    assert pair.public.thumbprint == VECTORS["system_thumbprint"]
    assert pair.public.thumbprint.replace(" ", "").lower() == pair.public.key_id


@pytest.mark.parametrize("stream", STREAMS, ids=STREAM_IDS)
def test_envelope_opens_to_the_stream_key(stream: dict[str, object]) -> None:
    key = _key(stream)
    assert (key.secret, key.suite.id, key.legacy) == (b64url_decode(str(stream["secret"])), stream["suite"], stream["legacy"])
    envelope = KeyEnvelope.from_json(stream["envelope"])
    assert KeyEnvelope.from_header(envelope.to_header()) == envelope
    assert envelope.to_json() == stream["envelope"]


def test_new_streams_are_v2_suite_5() -> None:
    pair = SystemKeyPair.generate()
    key = StreamKey.new()
    envelope = KeyEnvelope.seal(key, pair.public).to_json()
    assert (envelope["v"], envelope["suite"], len(key.secret)) == (2, 5, 32)
    assert "secret" not in repr(key) and key.secret.hex() not in repr(key)


def test_envelope_refuses_other_key_and_tampering() -> None:
    envelope = KeyEnvelope.from_json(VECTORS["streams"][0]["envelope"])
    with pytest.raises(ValueError, match="encrypted to key"):
        envelope.open(SystemKeyPair.generate())
    tampered = dict(VECTORS["streams"][0]["envelope"], ct=VECTORS["streams"][0]["envelope"]["ct"][:-4] + "AAAA")
    with pytest.raises(InvalidTag):
        KeyEnvelope.from_json(tampered).open(SystemKeyPair.from_link(VECTORS["link"]))


def test_the_suite_cannot_be_downgraded() -> None:
    """The suite is in the AAD: a v2 envelope relabelled to suite 4, or presented as v1,
    does not open."""
    pair = SystemKeyPair.from_link(VECTORS["link"])
    envelope = VECTORS["streams"][0]["envelope"]
    with pytest.raises(InvalidTag):
        KeyEnvelope.from_json(dict(envelope, suite=4)).open(pair)
    with pytest.raises(InvalidTag):
        KeyEnvelope.from_json({k: v for k, v in envelope.items() if k != "suite"} | {"v": 1}).open(pair)


@pytest.mark.parametrize("bad", [{"v": 3}, {"v": True}, {"suite": 1}, {"suite": "5"}, {"suite": None}])
def test_malformed_envelopes_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="envelope|suite"):
        KeyEnvelope.from_json(dict(VECTORS["streams"][0]["envelope"], **bad))


@pytest.mark.parametrize("stream", STREAMS, ids=STREAM_IDS)
def test_frame_vectors(stream: dict[str, object]) -> None:
    key = _key(stream)
    for vector in stream["frames"]:
        kind = Kind[vector["kind"].upper()]
        plain, encrypted = b64url_decode(vector["plaintext"]), b64url_decode(vector["encrypted"])
        assert FrameDecryptor(key).decrypt(kind, encrypted) == plain
        encryptor = FrameEncryptor(key, kind, sender=int(vector["sender"]), first_counter=int(vector["counter"]))
        assert encryptor.encrypt(plain) == encrypted


def test_clear_prefix_is_kept_and_authenticated() -> None:
    key = StreamKey.new()
    keyframe = bytes([0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0x68, 0x01]) + os.urandom(100)
    sealed = FrameEncryptor(key, Kind.VIDEO).encrypt(keyframe)
    assert sealed[:10] == keyframe[:10]
    assert keyframe[10:40] not in sealed
    altered = bytearray(sealed)
    altered[6] ^= 0x01  # a clear byte: authenticated as SFrame metadata
    with pytest.raises(DecryptError):
        FrameDecryptor(key).decrypt(Kind.VIDEO, bytes(altered))
    with pytest.raises(DecryptError):
        FrameDecryptor(StreamKey.new()).decrypt(Kind.VIDEO, sealed)
    with pytest.raises(DecryptError):  # same secret, another suite
        FrameDecryptor(StreamKey(AES_128_GCM_SHA256_128, key.secret)).decrypt(Kind.VIDEO, sealed)


def test_kinds_cannot_be_swapped() -> None:
    key = StreamKey.new()
    sealed = FrameEncryptor(key, Kind.CAMERA_DATA).encrypt(b'{"type":"position"}')
    with pytest.raises(DecryptError, match="KID"):
        FrameDecryptor(key).decrypt(Kind.OPERATOR_DATA, sealed)
    with pytest.raises(ValueError, match="only sender"):
        FrameEncryptor(key, Kind.VIDEO, sender=1)


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
