"""Subscribe to a stream over WHEP and receive its encrypted frames and data messages."""
from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtp import RtpPacket

from .. import aiortc_adapter
from ..protocol import DATA_CHANNEL_LABEL
from ..sfu.vp8 import EncodedFrame, Vp8Assembler
from .session import ApiClient


class HeadlessViewer:
    """Receives a stream as the SFU forwards it: encrypted VP8 frames, Opus packets and
    data-channel messages, handed to callbacks (no decryption here). ``media=False``
    subscribes to the data channel only (what the map needs)."""

    def __init__(
        self,
        client: ApiClient,
        stream_id: str,
        on_video_frame: Callable[[EncodedFrame], None] | None = None,
        on_audio_packet: Callable[[RtpPacket], None] | None = None,
        on_message: Callable[[bytes | str], None] | None = None,
        media: bool = True,
    ) -> None:
        self.client = client
        self.stream_id = stream_id
        self.on_video_frame = on_video_frame or (lambda frame: None)
        self.on_audio_packet = on_audio_packet or (lambda packet: None)
        self.on_message = on_message or (lambda message: None)
        self.media = media
        self.location: str | None = None
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = self.pc.createDataChannel(DATA_CHANNEL_LABEL)
        self._assembler = Vp8Assembler()

    def _on_video_packet(self, packet: RtpPacket) -> None:
        frame = self._assembler.add(packet)
        if frame is not None:
            self.on_video_frame(frame)

    async def start(self) -> None:
        if self.media:
            video = self.pc.addTransceiver("video", direction="recvonly")
            audio = self.pc.addTransceiver("audio", direction="recvonly")
            aiortc_adapter.tap_receiver(video.receiver, self._on_video_packet)
            aiortc_adapter.tap_receiver(audio.receiver, self.on_audio_packet)
        self.channel.on("message", self.on_message)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with self.client.request(
            "POST", f"/whep/{self.stream_id}",
            data=self.pc.localDescription.sdp,
            headers={"Content-Type": "application/sdp"},
        ) as response:
            if response.status != 201:
                raise RuntimeError(f"subscribe refused ({response.status}): {await response.text()}")
            answer = await response.text()
            self.location = response.headers["Location"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def keepalive(self) -> None:
        async with self.client.request("POST", f"{self.location}/keepalive") as response:
            response.raise_for_status()

    async def stop(self) -> None:
        if self.location:
            try:
                async with self.client.request("DELETE", self.location):
                    pass
            except aiohttp.ClientError:
                pass
        await self.pc.close()
