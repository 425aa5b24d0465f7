"""CPU per viewer per forwarded packet on the SFU's per-viewer path (RESULTS §19).

Real aiortc peers on loopback (ICE, DTLS-SRTP), one SFU-side sender per viewer, packets
of ``--size`` payload bytes; what is timed is what the producer track does per packet
for its viewers: with the compiled fan-out (``sfu.fanout``), keep the packet for NACKs and
one ``Fanout.send``; in a tree from before it (no ``SourceHistory``), each viewer's
readiness check and ``ForwardingOutput.forward``. Run it against a tree with that tree on
``PYTHONPATH``; prints one JSON line (µs per viewer per packet for each round).

    PYTHONPATH=/tmp/before python3 bench/fanout_cost.py --viewers 4 --rounds 6
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.rtp import RtpPacket

from bwlive_rtc import aiortc_adapter
from bwlive_rtc.sfu import rewriter as rewriting


async def _connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


async def main(viewers: int, packets: int, rounds: int, size: int) -> dict[str, Any]:
    compiled = hasattr(rewriting, "SourceHistory")
    history = rewriting.SourceHistory() if compiled else None
    peers, outputs = [], []
    for _ in range(viewers):
        sfu, viewer = RTCPeerConnection(RTCConfiguration(iceServers=[])), RTCPeerConnection(RTCConfiguration(iceServers=[]))
        sender = sfu.addTransceiver("video", direction="sendonly").sender
        rewriter = rewriting.RtpRewriter(history) if compiled else rewriting.RtpRewriter()
        outputs.append(aiortc_adapter.ForwardingOutput(sender, rewriter, lambda: None))
        await _connect(sfu, viewer)
        aiortc_adapter.tap_receiver(viewer.getTransceivers()[0].receiver, lambda packet: None)
        peers += [sfu, viewer]
    while not all(output.ready for output in outputs):
        await asyncio.sleep(0.05)
    seq = 0

    def source() -> Any:
        nonlocal seq
        seq += 1
        return rewriting.SourcePacket(RtpPacket(payload_type=96, sequence_number=seq & 0xFFFF, timestamp=seq * 3000,
                                                marker=seq % 8 == 0, payload=b"\x10" + bytes(size - 1)))

    fanout = None
    if compiled:
        first = source()
        history.add(first)
        fanout = rewriting_fanout(outputs[0])
        for output in outputs:
            output.join(fanout, first)
    figures = []
    for _ in range(rounds):
        await asyncio.sleep(0.3)  # the viewers take what was sent
        sources = [source() for _ in range(packets)]
        start = time.process_time()
        if fanout is not None:
            for each in sources:
                history.add(each)
                fanout.send(each)
        else:
            for each in sources:
                for output in outputs:
                    if output.ready:
                        output.forward(each)
        figures.append(round((time.process_time() - start) / (packets * viewers) * 1e6, 3))
    for pc in peers:
        await pc.close()
    return {"compiled": compiled, "viewers": viewers, "packets": packets, "size": size,
            "us_per_viewer_packet": figures, "median": statistics.median(figures)}


def rewriting_fanout(output: Any) -> Any:
    from bwlive_rtc.sfu.fanout import Fanout  # only in a tree with the compiled fan-out

    return Fanout(*output._rewriter.header)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=4)
    parser.add_argument("--packets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--size", type=int, default=1100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.viewers, args.packets, args.rounds, args.size))))
