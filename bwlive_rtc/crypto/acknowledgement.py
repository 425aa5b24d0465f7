"""Acknowledgements, end to end: an operator's browser seals ``{"type": "acknowledge",
"t": ms}`` as an operator-data SFrame frame under its own sender's KID and base key
(a random sender id per page load, counters from 0); the camera opens it and refuses a
forged, stale or replayed one (a replay window per KID). Who acknowledged comes from the
server, which authenticated the operator (PROTOCOL §3); the sealed part proves a holder
of the stream's key pressed it."""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..protocol import ACKNOWLEDGE
from .b64 import b64url_decode, b64url_encode
from .rfc9605 import DecryptError, decode_header
from .sframe import FrameDecryptor, FrameEncryptor, Kind, StreamKey, new_sender_id

FRESH_FOR_MS = 30_000  # an acknowledgement older (or newer) than this is refused
MAX_SEALED_CHARS = 256  # base64url of a sealed acknowledgement is ~90 characters
REPLAY_WINDOW = 64  # counters of one sender accepted out of order, at most this far back


class AcknowledgementRefused(ValueError):
    """The acknowledgement is forged, altered, stale or a replay; the message says which."""


def viewer_sender(key: StreamKey) -> FrameEncryptor:
    """What a browser page seals with: its own random sender id (KID), counters from 0."""
    return FrameEncryptor(key, Kind.OPERATOR_DATA, sender=new_sender_id())


def seal_acknowledgement(sender: FrameEncryptor, now_ms: int) -> str:
    """What a browser sends: base64url of the sealed frame (tests and the Python viewer)."""
    return b64url_encode(sender.encrypt(json.dumps({"type": ACKNOWLEDGE, "t": now_ms}).encode()))


@dataclass
class _ReplayWindow:
    """The counters one sender (KID) used: the highest, and a bit for each of the
    ``REPLAY_WINDOW`` below it (RFC 4303 §3.4.3 style)."""

    highest: int
    seen: int = 1  # bit i: counter highest - i was accepted
    newest_press_ms: int = 0

    def accept(self, counter: int) -> None:
        """Mark ``counter`` as used; raises AcknowledgementRefused for a replay."""
        if counter > self.highest:
            self.seen = (self.seen << (counter - self.highest) | 1) & ((1 << REPLAY_WINDOW) - 1)
            self.highest = counter
            return
        back = self.highest - counter
        if back >= REPLAY_WINDOW or self.seen >> back & 1:
            raise AcknowledgementRefused("the acknowledgement was already received (a replay)")
        self.seen |= 1 << back


class AcknowledgementOpener:
    """Opens sealed acknowledgements for one stream, with a replay window per sender (KID)
    while its acknowledgements are fresh, so each is accepted once."""

    def __init__(self, decryptor: FrameDecryptor, fresh_for_ms: int = FRESH_FOR_MS) -> None:
        self._decryptor = decryptor
        self._fresh_for_ms = fresh_for_ms
        self._windows: dict[int, _ReplayWindow] = {}  # KID -> its window

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
        window = self._windows.get(kid)
        if window is None:
            window = self._windows[kid] = _ReplayWindow(counter)
        else:
            window.accept(counter)
        window.newest_press_ms = max(window.newest_press_ms, pressed)
        return pressed

    def _forget_before(self, oldest_ms: int) -> None:
        """A sender whose newest accepted acknowledgement is too old to be accepted needs
        no window: every acknowledgement it already sent is refused as stale anyway."""
        for kid, window in list(self._windows.items()):
            if window.newest_press_ms < oldest_ms:
                del self._windows[kid]
