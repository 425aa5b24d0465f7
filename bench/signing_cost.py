"""What signing a stream costs the camera: CPU per second of stream.

    python bench/signing_cost.py [--seconds 60]

Encodes and seals ``--seconds`` of the camera agent's own media first (test pattern
640x360 at 30 fps, VP8 1 Mbit/s; Opus 20 ms frames; a position a second), as the agent's
tracks do, then measures, on this thread's CPU clock, only what signing adds in the
agent: noting every sealed unit in the ``ChainWriter`` (SHA-256 of each) and signing a
checkpoint every 0.5 s (Ed25519), plus the manifest of the stream.
"""
from __future__ import annotations

import argparse
import json
import time

from bwlive_rtc.camera.agent import CHECKPOINT_EVERY_S
from bwlive_rtc.camera.encoder import OpusEncoder, Vp8Encoder
from bwlive_rtc.camera.publish import SignedStream
from bwlive_rtc.camera.sources import TestPattern, Tone
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind, StreamKey
from bwlive_rtc.crypto.signing import Certificate
from bwlive_rtc.crypto.system_key import SystemKeyPair

FPS, AUDIO_PER_S = 30, 50


def sealed_units(seconds: int, stream_key: StreamKey) -> list[list[tuple[int, int, bytes]]]:
    """Per second of stream: (KID, counter, sealed unit) as the agent's tracks make them."""
    pattern, video, audio = TestPattern(640, 360), Vp8Encoder(640, 360, fps=FPS), OpusEncoder()
    tone = Tone()
    sealers = {kind: FrameEncryptor(stream_key, kind) for kind in (Kind.VIDEO, Kind.AUDIO, Kind.CAMERA_DATA)}

    def seal(kind: Kind, unit: bytes) -> tuple[int, int, bytes]:
        counter = sealers[kind].counter
        return sealers[kind].kid, counter, sealers[kind].encrypt(unit)

    seconds_of_units = []
    for second in range(seconds):
        units = []
        for frame in range(FPS):
            units += [seal(Kind.VIDEO, bytes(p)) for p in video.encode(pattern.next_frame()[0], (second * FPS + frame) * 3000)]
        while len([u for u in units if u[0] == sealers[Kind.AUDIO].kid]) < AUDIO_PER_S:
            units += [seal(Kind.AUDIO, bytes(p)) for p in audio.encode(tone.next_frame())]
        units.append(seal(Kind.CAMERA_DATA, json.dumps({"type": "position", "lat": 52.1, "lon": 5.1, "t": 0}).encode()))
        seconds_of_units.append(units)
    return seconds_of_units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    system, device = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    credential, _ = Certificate.issue(system, camera_id="c", serial="BENCH-1", camera_user="bench",
                                      organisation_id="o", device_key=device.public_key(), now=datetime.now(UTC))
    stream_key = StreamKey.new()
    envelope = KeyEnvelope.seal(stream_key, SystemKeyPair.generate().public)
    seconds = sealed_units(args.seconds, stream_key)
    units = sum(len(s) for s in seconds)
    volume = sum(len(u[2]) for s in seconds for u in s)

    started = time.thread_time()
    stream = SignedStream.start(credential, device, envelope, int(time.time() * 1000))
    chain = stream.chain()
    checkpoints = 0
    per_checkpoint = round(1 / CHECKPOINT_EVERY_S)
    for second in seconds:
        size = -(-len(second) // per_checkpoint)
        for part in range(per_checkpoint):
            for kid, counter, sealed in second[part * size:(part + 1) * size]:
                chain.add(kid, counter, sealed)
            chain.checkpoint(int(time.time() * 1000))
            checkpoints += 1
    cpu = time.thread_time() - started
    print(f"signing {args.seconds} s of stream ({units} units, {volume / args.seconds / 1000:.0f} kB/s, "
          f"{checkpoints} checkpoints): {cpu * 1000:.1f} ms CPU, {cpu / args.seconds * 1000:.2f} ms per second of "
          f"stream ({cpu / args.seconds * 100:.2f} % of one core)")


if __name__ == "__main__":
    main()
