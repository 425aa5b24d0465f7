"""Creating server-side peer connections and answering offers."""
from __future__ import annotations

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from ..kernel.errors import BadRequest


class OfferError(BadRequest, ValueError):
    """The SDP offer cannot be used (malformed, or without the media we need)."""


def new_peer_connection() -> RTCPeerConnection:
    """A peer connection with no STUN/TURN: the server is reachable on its host addresses."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


async def apply_offer(pc: RTCPeerConnection, offer_sdp: str) -> None:
    """Apply a camera's or viewer's offer; video must be VP8, the codec the end-to-end
    encryption's clear prefix is defined for."""
    if not offer_sdp.strip().startswith("v=0"):
        raise OfferError("the request body is not an SDP offer")
    if "m=video" in offer_sdp and "VP8/90000" not in offer_sdp.upper():
        raise OfferError("the offer's video must include VP8 (the only codec bwlive encrypts)")
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    except Exception as exc:  # aiortc's SDP parser raises anything from ValueError to AssertionError
        raise OfferError(f"the SDP offer is malformed{': ' + str(exc) if str(exc) else ''}") from None


async def answer(pc: RTCPeerConnection) -> str:
    """Create and apply the answer; aiortc gathers all candidates first (no trickle)."""
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp
