"""A decrypting, decoding Python viewer built on HeadlessViewer, for assertions in tests."""
from __future__ import annotations

import json
import time

import av

from bwlive_rtc.camera.framecode import read_code
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import FrameDecryptor, Kind
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.sfu.vp8 import EncodedFrame
from bwlive_rtc.viewer.client import HeadlessViewer
from bwlive_rtc.viewer.session import ApiClient


class DecodingViewer:
    """Subscribes, decrypts with the system key, decodes VP8 and reads the frame code."""

    def __init__(self, client: ApiClient, stream: dict, keys: SystemKeyPair, media: bool = True) -> None:
        self.stream_key = KeyEnvelope.from_json(stream["key_envelope"]).open(keys)
        self.decryptor = FrameDecryptor(self.stream_key)
        self.decoder = av.CodecContext.create("libvpx", "r")
        self.codes: list[tuple[float, int, int]] = []  # (receive time, frame number, capture ms)
        self.encrypted_frames: list[bytes] = []
        self.audio_packets = 0
        self.messages: list[dict] = []
        self.checkpoints: list[str] = []
        self.started = time.monotonic()
        self.client = HeadlessViewer(
            client, stream["id"],
            on_video_frame=self._on_frame,
            on_audio_packet=self._on_audio,
            on_message=self._on_message,
            media=media,
        )

    def _on_frame(self, frame: EncodedFrame) -> None:
        self.encrypted_frames.append(frame.data)
        for picture in self.decoder.decode(av.Packet(self.decryptor.decrypt(Kind.VIDEO, frame.data))):
            code = read_code(picture.to_ndarray()[: picture.height])
            if code is not None:
                self.codes.append((time.monotonic() - self.started, *code))

    def _on_audio(self, packet) -> None:  # type: ignore[no-untyped-def]
        self.decryptor.decrypt(Kind.AUDIO, packet.payload)  # raises if it is not ours
        self.audio_packets += 1

    def _on_message(self, message: bytes | str) -> None:
        if isinstance(message, str):  # in clear: the camera's checkpoints (PROTOCOL §5.4)
            self.checkpoints.append(json.loads(message)["token"])
            return
        self.messages.append(json.loads(self.decryptor.decrypt(Kind.CAMERA_DATA, message)))

    async def start(self) -> None:
        self.started = time.monotonic()
        await self.client.start()

    async def stop(self) -> None:
        await self.client.stop()
