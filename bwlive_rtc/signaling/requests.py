"""What the signaling endpoints read besides SDP: one model per path and per JSON body."""
from __future__ import annotations

from ..kernel.requests import Id, RequestModel


class WhipResourcePath(RequestModel):
    """A WHIP session's resource: its stream and its secret."""

    stream_id: Id
    secret: Id


class ConsumerPath(RequestModel):
    """A viewer's subscription to a live stream."""

    stream_id: Id
    consumer_id: Id


class DecryptState(RequestModel):
    decrypting: bool
