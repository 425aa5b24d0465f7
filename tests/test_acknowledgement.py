"""Opening sealed acknowledgements on the camera: each browser seals under its own sender's
KID and base key; the camera accepts each once (a replay window per KID), fresh, with the
stream's key; and the decryptor's key cache stays bounded whatever KIDs arrive."""
from __future__ import annotations

import json
import secrets

import pytest

from bwlive_rtc.crypto.acknowledgement import (
    REPLAY_WINDOW,
    AcknowledgementOpener,
    AcknowledgementRefused,
    seal_acknowledgement,
    viewer_sender,
)
from bwlive_rtc.crypto.b64 import b64url_decode, b64url_encode
from bwlive_rtc.crypto.rfc9605 import DecryptError, decode_header, encode_header
from bwlive_rtc.crypto.sframe import FrameDecryptor, FrameEncryptor, Kind, StreamKey

KEY = StreamKey.new()
NOW = 1_790_000_000_000


def _opener() -> AcknowledgementOpener:
    return AcknowledgementOpener(FrameDecryptor(KEY))


def _counter(sealed: str) -> tuple[int, int]:
    return decode_header(b64url_decode(sealed))[:2]


def test_a_fresh_acknowledgement_opens_once() -> None:
    opener, browser = _opener(), viewer_sender(KEY)
    sealed = seal_acknowledgement(browser, NOW)
    assert opener.open(sealed, NOW + 400) == NOW
    with pytest.raises(AcknowledgementRefused, match="replay"):
        opener.open(sealed, NOW + 900)
    again = seal_acknowledgement(browser, NOW + 1000)
    assert _counter(again) == (browser.kid, 1)  # the same sender counts on
    assert opener.open(again, NOW + 1200) == NOW + 1000  # a new press is fine
    other = viewer_sender(KEY)
    assert other.kid != browser.kid and other.kid & 3 == Kind.OPERATOR_DATA
    assert opener.open(seal_acknowledgement(other, NOW + 1500), NOW + 1600) == NOW + 1500  # another browser, counter 0


def test_the_window_takes_late_counters_once_and_refuses_counters_far_behind() -> None:
    opener, browser = _opener(), viewer_sender(KEY)
    sealed = [seal_acknowledgement(browser, NOW) for _ in range(REPLAY_WINDOW + 2)]
    assert opener.open(sealed[5], NOW) == NOW
    assert opener.open(sealed[3], NOW) == NOW  # arrived late: fine, once
    with pytest.raises(AcknowledgementRefused, match="replay"):
        opener.open(sealed[3], NOW)
    opener.open(sealed[REPLAY_WINDOW + 1], NOW)
    assert opener.open(sealed[4], NOW) == NOW  # 61 behind the highest: still in the window
    with pytest.raises(AcknowledgementRefused, match="replay"):
        opener.open(sealed[0], NOW)  # 65 behind: out of the window, refused


@pytest.mark.parametrize("pressed", [NOW - 31_000, NOW + 31_000])
def test_a_stale_or_future_acknowledgement_is_refused(pressed: int) -> None:
    with pytest.raises(AcknowledgementRefused, match="31 s old"):
        _opener().open(seal_acknowledgement(viewer_sender(KEY), pressed), NOW)


def test_forged_altered_and_foreign_acknowledgements_are_refused() -> None:
    opener = _opener()
    with pytest.raises(AcknowledgementRefused, match="does not open"):
        opener.open(seal_acknowledgement(viewer_sender(StreamKey.new()), NOW), NOW)
    sealed = bytearray(seal_acknowledgement(viewer_sender(KEY), NOW).encode())
    sealed[-3] = ord("A") if sealed[-3] != ord("A") else ord("B")
    with pytest.raises(AcknowledgementRefused, match="does not open"):
        opener.open(sealed.decode(), NOW)
    position = viewer_sender(KEY).encrypt(json.dumps({"lat": 52.0, "t": NOW}).encode())
    with pytest.raises(AcknowledgementRefused, match="not an acknowledgement"):
        opener.open(b64url_encode(position), NOW)
    camera_data = FrameEncryptor(KEY, Kind.CAMERA_DATA).encrypt(json.dumps({"type": "acknowledge", "t": NOW}).encode())
    with pytest.raises(AcknowledgementRefused, match="does not open"):  # the camera's KID, not a browser's
        opener.open(b64url_encode(camera_data), NOW)
    with pytest.raises(AcknowledgementRefused, match="too long"):
        opener.open("A" * 300, NOW)


def test_a_browser_key_cannot_open_under_another_senders_kid() -> None:
    """Each browser's base key is bound to its KID: a frame relabelled with another
    sender's KID does not open."""
    browser = viewer_sender(KEY)
    frame = bytearray(browser.encrypt(b'{"type":"acknowledge","t":1}'))
    header = encode_header(browser.kid ^ 0x4, 0)  # another sender id, same length
    frame[: len(header)] = header
    with pytest.raises(DecryptError):
        FrameDecryptor(KEY).decrypt(Kind.OPERATOR_DATA, bytes(frame))


def test_the_replay_window_forgets_what_can_no_longer_be_accepted() -> None:
    opener = _opener()
    for i in range(100):
        opener.open(seal_acknowledgement(viewer_sender(KEY), NOW + i * 1000), NOW + i * 1000)
    assert len(opener._windows) <= 31


def test_junk_kids_do_not_grow_the_decryptors_key_cache() -> None:
    decryptor = FrameDecryptor(KEY)
    good = viewer_sender(KEY).encrypt(b'{"type":"acknowledge"}')
    for _ in range(5_000):
        junk = encode_header(secrets.randbits(40) << 2 | int(Kind.OPERATOR_DATA), 1) + secrets.token_bytes(24)
        with pytest.raises(DecryptError):
            decryptor.decrypt(Kind.OPERATOR_DATA, junk)
    assert decryptor.cached_kids == 0
    assert decryptor.decrypt(Kind.OPERATOR_DATA, good) == b'{"type":"acknowledge"}'
    assert decryptor.cached_kids == 1
    for _ in range(40):  # real senders, more than the bound
        decryptor.decrypt(Kind.OPERATOR_DATA, viewer_sender(KEY).encrypt(b"x"))
    assert decryptor.cached_kids == FrameDecryptor.MAX_KIDS
