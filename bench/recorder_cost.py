"""CPU time of the recorder alone per recorded packet: ``--cameras`` Recorders (the
process's writer thread and storing pool, segment logs, a local evidence store) each fed
the RTP packets of the bench clip, each frame encrypted, at the rate a camera sends them
(``--speed`` times faster), by hand on the event loop: no network, no forwarding.

    python bench/recorder_cost.py [--cameras 8] [--seconds 20] [--speed 1]

Prints the process CPU time (all threads: event loop and writer) per packet, less that of
the same feeding loop without a recorder, and the part spent in the on-packet calls.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent


def packets_of_clip(seconds: float) -> list:  # type: ignore[type-arg]
    import av
    from aiortc.codecs.vpx import Vp8Encoder as Vp8Packetizer
    from aiortc.rtp import RtpPacket
    from media import load_clip

    from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind, StreamKey

    frames = load_clip(width=640, height=360, fps=30, bitrate=1_000_000, seconds=4)
    encryptor, packetizer, packets = FrameEncryptor(StreamKey.new(), Kind.VIDEO), Vp8Packetizer(), []
    for index in range(int(seconds * 30)):
        packet = av.Packet(encryptor.encrypt(frames[index % len(frames)]))
        packet.pts, packet.time_base = index * 3000, Fraction(1, 90000)
        payloads, timestamp = packetizer.pack(packet)
        for n, payload in enumerate(payloads):
            packets.append(RtpPacket(payload_type=96, marker=int(n == len(payloads) - 1), timestamp=timestamp,
                                     sequence_number=len(packets) & 0xFFFF, ssrc=1, payload=payload))
    return packets


async def feed(sources: list, speed: float, sinks: list[Callable[[object], None]]) -> tuple[float, float]:  # type: ignore[type-arg]
    """Hand the packets to each sink at ``speed`` times a camera's rate; returns the
    process CPU seconds (every thread) and the CPU seconds spent in the calls themselves."""
    per_step = max(1, round(108 * speed / 100))  # ~108 packets/s per camera, in 10 ms steps
    cpu, in_calls = time.process_time(), 0.0
    for start in range(0, len(sources), per_step):
        t = time.thread_time()
        for sink in sinks:
            for source in sources[start:start + per_step]:
                sink(source)
        in_calls += time.thread_time() - t
        await asyncio.sleep(0.01)
    return time.process_time() - cpu, in_calls


async def measure(packets: list, speed: float, cameras: int) -> None:  # type: ignore[type-arg]
    from bwlive_rtc.recordings.recorder import Recorder
    from bwlive_rtc.recordings.storage import LocalStore
    from bwlive_rtc.recordings.writer import Writer
    from bwlive_rtc.sfu.rewriter import SourcePacket

    sources = [SourcePacket(p) for p in packets]
    idle, _ = await feed(sources, speed, [lambda source: None] * cameras)  # the feeding loop itself
    stored: list[object] = []
    with tempfile.TemporaryDirectory(prefix="bwlive-recorder-cost-") as tmp:
        writer, store = Writer(), LocalStore(Path(tmp) / "store")
        recorders = [Recorder(SimpleNamespace(id=f"bench-{n}", camera="Bench", key_envelope={"kid": "x"}, tracks={},  # type: ignore[arg-type]
                                              subscribe_data=lambda listener: lambda: None),
                              Path(tmp) / "spool", store, stored.append, writer)
                     for n in range(cameras)]
        for recorder in recorders:
            recorder.start()
        sinks = [recorder.on_video for recorder in recorders]
        cpu0 = time.process_time()
        _, in_calls = await feed(sources, speed, sinks)
        await asyncio.gather(*(recorder.stop() for recorder in recorders))  # the last segments too
        busy = time.process_time() - cpu0
        writer.close()
    n = len(sources) * cameras
    print(f"{n} packets, {len(stored)} segments stored. Recorder: {1e6 * (busy - idle) / n:.2f} µs of CPU per "
          f"recorded packet (all threads, the feeding loop's own {1e6 * idle / n:.2f} µs taken off); "
          f"of it on the event loop, in the on-packet calls: {1e6 * in_calls / n:.2f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of camera video to record")
    parser.add_argument("--speed", type=float, default=1.0, help="how many times faster than real time to feed it")
    parser.add_argument("--cameras", type=int, default=8, help="recordings at once")
    args = parser.parse_args()
    packets = packets_of_clip(args.seconds)
    asyncio.run(measure(packets, args.speed, args.cameras))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
