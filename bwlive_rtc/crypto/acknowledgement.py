"""Acknowledgements, end to end: an operator's browser seals ``{"type": "acknowledge",
"t": ms}`` as an operator-data SFrame frame (random 64-bit counter, since many browsers
share the key and cannot coordinate counters); the camera opens it and refuses a forged,
stale or replayed one. Who acknowledged comes from the server, which authenticated the
operator (PROTOCOL §3); the sealed part proves a holder of the stream's key pressed it."""
from __future__ import annotations

import json
import secrets

from ..protocol import ACKNOWLEDGE
from .b64 import b64url_decode, b64url_encode
from .sframe import DecryptError, FrameDecryptor, FrameEncryptor, Kind, decode_header

FRESH_FOR_MS = 30_000  # an acknowledgement older (or newer) than this is refused
MAX_SEALED_CHARS = 256  # base64url of a sealed acknowledgement is ~80 characters


class AcknowledgementRefused(ValueError):
    """The acknowledgement is forged, altered, stale or a replay; the message says which."""


def seal_acknowledgement(content_key: bytes, now_ms: int) -> str:
    """What a browser sends: base64url of the sealed frame (tests and the Python viewer)."""
    encryptor = FrameEncryptor(content_key, Kind.OPERATOR_DATA, first_counter=secrets.randbits(64))
    return b64url_encode(encryptor.encrypt(json.dumps({"type": ACKNOWLEDGE, "t": now_ms}).encode()))


class AcknowledgementOpener:
    """Opens sealed acknowledgements for one stream, remembering the counters it accepted
    while they are fresh (the replay window), so each is accepted once."""

    def __init__(self, decryptor: FrameDecryptor, fresh_for_ms: int = FRESH_FOR_MS) -> None:
        self._decryptor = decryptor
        self._fresh_for_ms = fresh_for_ms
        self._seen: dict[tuple[int, int], int] = {}  # (kid, counter) -> its time

    def open(self, sealed: str, now_ms: int) -> int:
        """Check ``sealed``; returns the time (ms) the operator pressed the button."""
        if len(sealed) > MAX_SEALED_CHARS:
            raise AcknowledgementRefused("the acknowledgement is too long")
        try:
            frame = b64url_decode(sealed)
            kid, counter, _ = decode_header(frame)
            payload = json.loads(self._decryptor.decrypt(Kind.OPERATOR_DATA, frame))
        except (DecryptError, ValueError) as exc:
            raise AcknowledgementRefused(f"the acknowledgement does not open with this stream's key ({exc})") from None
        pressed = payload.get("t") if isinstance(payload, dict) and payload.get("type") == ACKNOWLEDGE else None
        if not isinstance(pressed, int):
            raise AcknowledgementRefused("the sealed message is not an acknowledgement")
        if abs(now_ms - pressed) > self._fresh_for_ms:
            raise AcknowledgementRefused(f"the acknowledgement is {abs(now_ms - pressed) / 1000:.0f} s old")
        self._forget_before(now_ms - self._fresh_for_ms)
        if (kid, counter) in self._seen:
            raise AcknowledgementRefused("the acknowledgement was already received (a replay)")
        self._seen[(kid, counter)] = pressed
        return pressed

    def _forget_before(self, oldest_ms: int) -> None:
        """Counters of acknowledgements too old to be accepted anyway need no memory."""
        for key, pressed in list(self._seen.items()):
            if pressed < oldest_ms:
                del self._seen[key]
