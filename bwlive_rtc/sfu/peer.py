"""Creating server-side peer connections and answering offers."""
from __future__ import annotations

from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from ..aiortc_adapter import NoFreeMediaPort, bind_media_sockets
from ..kernel.errors import BadRequest, Unavailable


class OfferError(BadRequest, ValueError):
    """The SDP offer cannot be used (malformed, or without the media we need)."""


class NoMediaPort(Unavailable):
    """The media port range is used up; the client may try again later."""


@dataclass(frozen=True)
class MediaNetwork:
    """Where the server's media sockets are: a UDP port range (inclusive; None: any) and the
    address its candidates announce (None: its own; a 1:1 NAT's public address)."""

    ports: tuple[int, int] | None = None
    announce_address: str | None = None


def new_peer_connection() -> RTCPeerConnection:
    """A peer connection with no STUN/TURN: the server is reachable on its host addresses."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


TRANSPORT_ATTRIBUTES = {"a=ice-ufrag:": "ICE username fragment (a=ice-ufrag)",
                        "a=ice-pwd:": "ICE password (a=ice-pwd)",
                        "a=fingerprint:": "DTLS fingerprint (a=fingerprint)"}


def _check_transport(offer_sdp: str) -> None:
    """Every media section must have ICE credentials and a DTLS fingerprint, its own or the
    session's: without them no connection can be made, and the offer is refused before any
    stream or subscription exists."""
    session, *sections = offer_sdp.replace("\r\n", "\n").split("\nm=")
    if not sections:
        raise OfferError("the SDP offer has no media section")

    def present(text: str) -> set[str]:
        return {attribute for attribute in TRANSPORT_ATTRIBUTES
                if any(line.startswith(attribute) and line[len(attribute):].strip() for line in text.split("\n"))}

    shared = present(session)
    for section in sections:
        missing = TRANSPORT_ATTRIBUTES.keys() - shared - present(section)
        if missing:
            names = ", ".join(TRANSPORT_ATTRIBUTES[a] for a in TRANSPORT_ATTRIBUTES if a in missing)
            kind = (section.split(maxsplit=1) or ["unnamed"])[0][:20]
            raise OfferError(f"the SDP offer's {kind} section has no {names}")


async def apply_offer(pc: RTCPeerConnection, offer_sdp: str) -> None:
    """Apply a camera's or viewer's offer; video must be VP8, the codec the end-to-end
    encryption's clear prefix is defined for."""
    if not offer_sdp.strip().startswith("v=0"):
        raise OfferError("the request body is not an SDP offer")
    if "m=video" in offer_sdp and "VP8/90000" not in offer_sdp.upper():
        raise OfferError("the offer's video must include VP8 (the only codec bwlive encrypts)")
    _check_transport(offer_sdp)
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    except Exception as exc:  # aiortc's SDP parser raises anything from ValueError to AssertionError
        raise OfferError(f"the SDP offer is malformed{': ' + str(exc) if str(exc) else ''}") from None


async def answer(pc: RTCPeerConnection, network: MediaNetwork = MediaNetwork()) -> str:
    """Create and apply the answer; aiortc gathers all candidates first (no trickle), on
    ``network``'s ports and announcing its address."""
    bind_media_sockets(pc, network.ports, network.announce_address)
    try:
        await pc.setLocalDescription(await pc.createAnswer())
    except NoFreeMediaPort as exc:
        raise NoMediaPort(f"the server has no free media port now ({exc.strerror}); try again later") from None
    return pc.localDescription.sdp
