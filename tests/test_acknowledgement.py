"""Opening sealed acknowledgements on the camera: once each, fresh, with the stream's key;
and the decryptor's key cache stays bounded whatever KIDs arrive."""
from __future__ import annotations

import json
import secrets

import pytest

from bwlive_rtc.crypto.acknowledgement import AcknowledgementOpener, AcknowledgementRefused, seal_acknowledgement
from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.sframe import DecryptError, FrameDecryptor, FrameEncryptor, Kind, encode_header

KEY = bytes(range(16))
NOW = 1_790_000_000_000


def _opener() -> AcknowledgementOpener:
    return AcknowledgementOpener(FrameDecryptor(KEY))


def test_a_fresh_acknowledgement_opens_once() -> None:
    opener, sealed = _opener(), seal_acknowledgement(KEY, NOW)
    assert opener.open(sealed, NOW + 400) == NOW
    with pytest.raises(AcknowledgementRefused, match="replay"):
        opener.open(sealed, NOW + 900)
    assert opener.open(seal_acknowledgement(KEY, NOW + 1000), NOW + 1200) == NOW + 1000  # a new press is fine


@pytest.mark.parametrize("pressed", [NOW - 31_000, NOW + 31_000])
def test_a_stale_or_future_acknowledgement_is_refused(pressed: int) -> None:
    with pytest.raises(AcknowledgementRefused, match="31 s old"):
        _opener().open(seal_acknowledgement(KEY, pressed), NOW)


def test_forged_altered_and_foreign_acknowledgements_are_refused() -> None:
    opener = _opener()
    with pytest.raises(AcknowledgementRefused, match="does not open"):
        opener.open(seal_acknowledgement(bytes(16), NOW), NOW)
    sealed = bytearray(seal_acknowledgement(KEY, NOW).encode())
    sealed[-3] = ord("A") if sealed[-3] != ord("A") else ord("B")
    with pytest.raises(AcknowledgementRefused, match="does not open"):
        opener.open(sealed.decode(), NOW)
    position = FrameEncryptor(KEY, Kind.OPERATOR_DATA).encrypt(json.dumps({"lat": 52.0, "t": NOW}).encode())
    with pytest.raises(AcknowledgementRefused, match="not an acknowledgement"):
        opener.open(b64url_encode(position), NOW)
    with pytest.raises(AcknowledgementRefused, match="too long"):
        opener.open("A" * 300, NOW)


def test_the_replay_window_forgets_what_can_no_longer_be_accepted() -> None:
    opener = _opener()
    for i in range(100):
        opener.open(seal_acknowledgement(KEY, NOW + i * 1000), NOW + i * 1000)
    assert len(opener._seen) <= 31


def test_junk_kids_do_not_grow_the_decryptors_key_cache() -> None:
    decryptor = FrameDecryptor(KEY)
    good = FrameEncryptor(KEY, Kind.OPERATOR_DATA).encrypt(b'{"type":"acknowledge"}')
    for _ in range(20_000):
        junk = encode_header(secrets.randbits(40) << 2 | int(Kind.OPERATOR_DATA), 1) + secrets.token_bytes(24)
        with pytest.raises(DecryptError):
            decryptor.decrypt(Kind.OPERATOR_DATA, junk)
    assert decryptor.cached_kids == 0
    assert decryptor.decrypt(Kind.OPERATOR_DATA, good) == b'{"type":"acknowledge"}'
    assert decryptor.cached_kids == 1
    for epoch in range(40):  # real KIDs, more than the bound
        decryptor.decrypt(Kind.OPERATOR_DATA, FrameEncryptor(KEY, Kind.OPERATOR_DATA, epoch=epoch).encrypt(b"x"))
    assert decryptor.cached_kids == FrameDecryptor.MAX_KIDS
