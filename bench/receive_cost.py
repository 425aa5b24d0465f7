"""CPU per received camera packet on the SFU's receive path (RESULTS §21).

Real aiortc peers on loopback (ICE, DTLS-SRTP): a camera peer's SRTP session protects
packets of ``--size`` payload bytes (with the camera's header extensions), a plain UDP
socket sends them in bursts of ``--burst`` to one of the SFU peer's sockets, and the SFU
side receives them as the server does: ``fast_ingest`` and a ``ProducerTrack`` (RTCP
statistics, NACK bookkeeping, the uplink's estimate, the track's history), no viewers, a
subscriber that counts. Timed: the process's CPU from each burst sent to its last packet
handed to the subscriber (the sending itself left out). Run it against a tree with that
tree on ``PYTHONPATH``; prints one JSON line (µs per received packet for each round).

    PYTHONPATH=/tmp/before python3 bench/receive_cost.py --rounds 6
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import statistics
import time
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.rtp import RtpPacket

from bwlive_rtc.sfu.producer import Producer


def _address(sdp: str) -> tuple[str, int]:
    """An IPv4 host candidate's address in ``sdp``."""
    match = re.search(r"a=candidate:\S+ 1 udp \d+ (\d+\.\d+\.\d+\.\d+) (\d+) typ host", sdp)
    assert match, "no IPv4 host candidate"
    return match[1], int(match[2])


async def main(packets: int, rounds: int, size: int, burst: int) -> dict[str, Any]:
    camera, sfu = RTCPeerConnection(RTCConfiguration(iceServers=[])), RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender = camera.addTransceiver("video", direction="sendonly").sender
    await camera.setLocalDescription(await camera.createOffer())
    await sfu.setRemoteDescription(camera.localDescription)
    producer = Producer("bench", "camera", {}, sfu, [])
    producer.attach_tracks()
    track = producer.tracks["video"]
    await sfu.setLocalDescription(await sfu.createAnswer())
    await camera.setRemoteDescription(sfu.localDescription)
    dtls = sender.transport
    while dtls.state != "connected" or sfu.getTransceivers()[0].receiver.transport.state != "connected":
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    address = _address(sfu.localDescription.sdp)
    payload_type = int(re.findall(r"a=rtpmap:(\d+) VP8/90000", sfu.localDescription.sdp)[0])
    mid = camera.getTransceivers()[0].mid
    extensions = dtls._rtp_header_extensions_map
    protect = dtls._tx_srtp.protect
    seq = 0

    def protected() -> bytes:
        nonlocal seq
        seq += 1
        packet = RtpPacket(payload_type=payload_type, sequence_number=seq & 0xFFFF, timestamp=seq // 4 * 3000,
                           ssrc=sender._ssrc, marker=seq % 4 == 0, payload=b"\x10" + bytes(size - 1))
        packet.extensions.mid = mid
        packet.extensions.abs_send_time = seq & 0xFFFFFF
        return protect(packet.serialize(extensions))

    arrived = 0
    done: asyncio.Future[None] | None = None
    target = 0

    def count(_: Any) -> None:
        nonlocal arrived
        arrived += 1
        if arrived == target and done is not None:
            done.set_result(None)

    track.subscribe(count)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    loop = asyncio.get_running_loop()
    figures = []
    for _ in range(rounds + 1):  # the first round warms up
        datagrams = [protected() for _ in range(packets)]
        spent = 0.0
        for i in range(0, packets, burst):
            done, target = loop.create_future(), arrived + len(datagrams[i:i + burst])
            for data in datagrams[i:i + burst]:
                out.sendto(data, address)
            start = time.process_time()
            await asyncio.wait_for(done, 5)
            spent += time.process_time() - start
        figures.append(round(spent / packets * 1e6, 3))
        await asyncio.sleep(0.2)
    out.close()
    await camera.close()
    await sfu.close()
    return {"packets": packets, "size": size, "burst": burst, "us_per_received_packet": figures[1:],
            "median": statistics.median(figures[1:])}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--size", type=int, default=1100)
    parser.add_argument("--burst", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.packets, args.rounds, args.size, args.burst))))
