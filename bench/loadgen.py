"""Load generator: N encrypted cameras x M subscribers each against a bwlive server.

    python bench/loadgen.py --config 1x1 4x4 8x4 [--server URL --server-pid PID]

Without --server it starts bench/serve_for_bench.py itself (fresh keys, ICE on 127.0.0.1).

Cameras loop a VP8 clip encoded once (640x360, 30 fps, ~1 Mbit/s, key frame every 2 s),
each frame SFrame-encrypted with the camera's own content key, published over WHIP with
a real key envelope sealed to the server's public key. Subscribers (WHEP, recvonly video)
count RTP without decoding and send a keepalive every 5 s. Publishers, subscribers and a
latency probe run in separate worker processes.

Per configuration, over a window after warm-up: server CPU (utime+stime of its pid) per
forwarded packet, packets forwarded (counted at the subscribers), packets lost (from each
subscriber's sequence numbers), machine busy %, and SFU-added latency.

SFU-added latency: one probe process holds camera 0 and one of its subscribers, so the
send time (just before SRTP, when aiortc hands the packet to the socket) and the arrival
time (just after SRTP, in the receiver tap) of the same packet, matched by RTP timestamp
and payload bytes (both pass the SFU unchanged), are read from one clock. The same
process runs a second, identical camera connected straight to a second subscriber (no
SFU). SFU-added p50/p99 = (via-SFU p50/p99) - (direct p50/p99): what remains is the
server's ingest, forwarding and egress path plus one more loopback hop.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from common import BenchCamera

HERE = Path(__file__).resolve().parent
KEEPALIVE_S = 5.0


# --------------------------------------------------------------------------- peers


@dataclass
class SeqCounter:
    """Packets of one subscriber and its highest extended sequence number."""

    received: int = 0
    highest: int | None = None  # extended
    reordered: int = 0  # arrived after a higher sequence number (late or retransmitted)

    def add(self, seq: int) -> None:
        self.received += 1
        if self.highest is None:
            self.highest = seq
            return
        delta = (seq - self.highest) & 0xFFFF
        if 0 < delta < 0x8000:
            self.highest += delta
        else:
            self.reordered += 1

    def snapshot(self) -> tuple[int, int, int]:
        return self.received, self.highest or 0, self.reordered


@dataclass
class DelayProbe:
    """Send times of one publisher's RTP packets, matched with one subscriber's arrivals;
    delays kept apart for key-frame and delta-frame packets."""

    sent: dict[tuple[int, bytes], tuple[int, bool]] = field(default_factory=dict)
    delays_us: dict[str, list[float]] = field(default_factory=lambda: {"key": [], "delta": []})
    recording: bool = False
    _in_key_frame: bool = False

    def watch(self, dtls_transport: Any) -> None:
        """Record when each RTP packet goes to the publisher's DTLS transport."""
        from aiortc.codecs.vpx import VpxPayloadDescriptor
        from aiortc.rtp import is_rtcp

        send_rtp = dtls_transport._send_rtp

        async def timed_send_rtp(data: bytes) -> None:
            if not is_rtcp(data):
                key = rtp_key(data)
                descriptor, rest = VpxPayloadDescriptor.parse(key[1])
                if descriptor.partition_start and descriptor.partition_id == 0:  # a frame's first packet
                    self._in_key_frame = not rest[0] & 0x01  # clear VP8 header byte (SFrame clear prefix)
                self.sent[key] = (time.perf_counter_ns(), self._in_key_frame)
                if len(self.sent) > 20000:  # never matched (before the subscriber started)
                    for stale in list(itertools.islice(self.sent, 10000)):
                        del self.sent[stale]
            await send_rtp(data)

        dtls_transport._send_rtp = timed_send_rtp

    def arrived(self, packet: Any) -> None:
        sent = self.sent.pop((packet.timestamp, packet.payload), None)
        if sent is not None and self.recording:
            self.delays_us["key" if sent[1] else "delta"].append((time.perf_counter_ns() - sent[0]) / 1000)


def rtp_key(data: bytes) -> tuple[int, bytes]:
    """(timestamp, payload) of a serialized RTP packet."""
    pos = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        pos += 4 + 4 * int.from_bytes(data[pos + 2 : pos + 4], "big")
    end = len(data) - (data[-1] if data[0] & 0x20 else 0)
    return int.from_bytes(data[4:8], "big"), data[pos:end]


def new_pc() -> Any:
    from aiortc import RTCConfiguration, RTCPeerConnection

    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def add_camera_track(pc: Any, frames: list[bytes], index: int) -> tuple[Any, Any, Any]:
    """A sendonly VP8 transceiver looping ``frames`` under a fresh stream key;
    returns the transceiver, its track and the key."""
    from aiortc import RTCRtpSender
    from media import EncryptedLoopTrack

    from bwlive_rtc.crypto.sframe import StreamKey

    key = StreamKey.new()
    track = EncryptedLoopTrack(frames, key, start=index * 17)
    transceiver = pc.addTransceiver(track, direction="sendonly")
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")])
    return transceiver, track, key


class Publisher:
    """One camera publishing over WHIP."""

    def __init__(self, server: str, index: int, frames: list[bytes], camera: BenchCamera) -> None:
        self.server, self.index, self.camera = server, index, camera
        self.pc = new_pc()
        self.transceiver, self.track, self.stream_key = add_camera_track(self.pc, frames, index)
        self.location = ""

    async def start(self, http: Any, public_key: Any) -> str:
        from aiortc import RTCSessionDescription

        from bwlive_rtc.crypto.content_key import KeyEnvelope

        envelope = KeyEnvelope.seal(self.stream_key, public_key).to_header()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Content-Type": "application/sdp",
                   **self.camera.whip_headers(self.pc.localDescription.sdp.encode(), envelope)}
        async with http.post(f"{self.server}/whip", data=self.pc.localDescription.sdp, headers=headers) as r:
            if r.status != 201:
                raise RuntimeError(f"publish refused ({r.status}): {await r.text()}")
            answer = await r.text()
            self.location = r.headers["Location"]  # /whip/{stream id}/{secret}
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return self.location.split("/")[2]

    async def packets_sent(self) -> int:
        stats = await self.pc.getStats()
        return sum(s.packetsSent for s in stats.values() if s.type == "outbound-rtp")

    async def stop(self, http: Any) -> None:
        if self.location:
            async with http.delete(self.server + self.location, headers={"Authorization": f"Bearer {self.camera.credential}"}):
                pass
        await self.pc.close()


class Subscriber:
    """One viewer over WHEP: recvonly video, RTP counted (and optionally probed), not decoded."""

    def __init__(self, server: str, stream: str, probe: DelayProbe | None = None) -> None:
        self.server, self.stream, self.probe = server, stream, probe
        self.pc = new_pc()
        self.counter = SeqCounter()
        self.location = ""

    def _on_packet(self, packet: Any) -> None:
        self.counter.add(packet.sequence_number)
        if self.probe is not None:
            self.probe.arrived(packet)

    async def start(self, http: Any) -> None:
        from aiortc import RTCSessionDescription

        from bwlive_rtc.aiortc_adapter import tap_receiver

        transceiver = self.pc.addTransceiver("video", direction="recvonly")
        tap_receiver(transceiver.receiver, self._on_packet)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        async with http.post(f"{self.server}/whep/{self.stream}", data=self.pc.localDescription.sdp,
                             headers={"Content-Type": "application/sdp"}) as r:
            if r.status != 201:
                raise RuntimeError(f"subscribe refused ({r.status}): {await r.text()}")
            answer = await r.text()
            self.location = r.headers["Location"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def keepalive(self, http: Any) -> None:
        async with http.post(f"{self.server}{self.location}/keepalive") as r:
            r.raise_for_status()

    async def stop(self, http: Any) -> None:
        if self.location:
            async with http.delete(self.server + self.location):
                pass
        await self.pc.close()


async def direct_pair(frames: list[bytes], probe: DelayProbe) -> tuple[Any, Any, SeqCounter]:
    """A camera connected straight to a counting, probed subscriber (no SFU): the baseline."""
    from bwlive_rtc.aiortc_adapter import tap_receiver

    sender_pc, receiver_pc = new_pc(), new_pc()
    add_camera_track(sender_pc, frames, 0)
    counter = SeqCounter()

    def on_packet(packet: Any) -> None:
        counter.add(packet.sequence_number)
        probe.arrived(packet)

    await sender_pc.setLocalDescription(await sender_pc.createOffer())
    await receiver_pc.setRemoteDescription(sender_pc.localDescription)
    tap_receiver(receiver_pc.getTransceivers()[0].receiver, on_packet)
    await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
    await sender_pc.setRemoteDescription(receiver_pc.localDescription)
    return sender_pc, receiver_pc, counter


# --------------------------------------------------------------------------- workers


def worker_main(role: str, cfg: dict[str, Any], assignment: list[Any], conn: Connection) -> None:
    """Entry of a worker process: role "pub" (camera indexes), "sub" (stream ids) or
    "probe" (camera 0, one of its subscribers, and the direct pair)."""
    sys.path.insert(0, str(HERE))
    from common import force_ice_host

    force_ice_host(cfg["ice_ip"])
    try:
        asyncio.run(_worker(role, cfg, assignment, conn))
    except Exception:
        conn.send({"type": "error", "role": role, "traceback": traceback.format_exc()})


async def _connected(pcs: list[Any], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pc.connectionState != "connected" for pc in pcs):
        await asyncio.sleep(0.2)
    return sum(pc.connectionState == "connected" for pc in pcs)


async def _worker(role: str, cfg: dict[str, Any], assignment: list[Any], conn: Connection) -> None:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    from bwlive_rtc.crypto.b64 import b64url_decode
    from bwlive_rtc.crypto.system_key import SystemPublicKey

    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))
    server, frames = cfg["server"], cfg["frames"]
    public_key = SystemPublicKey(load_der_public_key(b64url_decode(cfg["public_key"])))  # type: ignore[arg-type]
    from common import BENCH_EMAIL, BENCH_PASSWORD, BenchCamera

    from bwlive_rtc.viewer.session import ApiClient

    api = await ApiClient.signed_in(server, BENCH_EMAIL, BENCH_PASSWORD)  # viewers are signed in
    http = api.http
    limit = asyncio.Semaphore(8)
    pubs: list[Publisher] = []
    subs: list[Subscriber] = []
    probes: dict[str, DelayProbe] = {}
    direct: tuple[Any, Any, SeqCounter] | None = None

    async def publish(index: int) -> str:
        async with limit:
            pub = Publisher(server, index, frames, BenchCamera.from_package(cfg["cameras"][index]))  # one live stream per camera
            pubs.append(pub)
            return await pub.start(http, public_key)

    async def subscribe(stream: str, probe: DelayProbe | None = None) -> None:
        async with limit:
            sub = Subscriber(server, stream, probe)
            subs.append(sub)
            await sub.start(http)

    streams: list[str] = []
    if role == "pub":
        streams = list(await asyncio.gather(*(publish(i) for i in assignment)))
    elif role == "probe":
        probes = {"sfu": DelayProbe(), "direct": DelayProbe()}
        streams = [await publish(0)]
        await subscribe(streams[0], probes["sfu"])
        direct = await direct_pair(frames, probes["direct"])
    else:
        await asyncio.gather(*(subscribe(s) for s in assignment))
    pcs = [p.pc for p in pubs] + [s.pc for s in subs] + (list(direct[:2]) if direct else [])
    connected = await _connected(pcs, cfg["connect_timeout"])
    if role == "probe":
        probes["sfu"].watch(pubs[0].transceiver.sender.transport)
        probes["direct"].watch(direct[0].getTransceivers()[0].sender.transport)  # type: ignore[index]
    if cfg["pace_bps"]:  # after watch(): the send time is taken when the pacer lets a packet go
        from bwlive_rtc.aiortc_adapter import pace_media

        senders = [p.transceiver.sender for p in pubs] + ([direct[0].getTransceivers()[0].sender] if direct else [])
        for sender in senders:
            pace_media(sender.transport, rate_bps=cfg["pace_bps"])
    counters = [s.counter for s in subs] + ([direct[2]] if direct else [])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(c.received == 0 for c in counters):
        await asyncio.sleep(0.2)  # a subscriber's video starts at the next key frame
    conn.send({"type": "ready", "role": role, "pid": os.getpid(), "streams": streams, "peers": len(pcs),
               "connected": connected, "receiving": sum(c.received > 0 for c in counters)})

    async def keepalives() -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            await asyncio.gather(*(s.keepalive(http) for s in subs), return_exceptions=True)

    async def snapshot() -> dict[str, Any]:
        sfu_subs = [s.counter.snapshot() for s in subs]
        return {
            "received": sum(x[0] for x in sfu_subs), "expected": sum(x[1] for x in sfu_subs),
            "reordered": sum(x[2] for x in sfu_subs),
            "sent": sum(await asyncio.gather(*(p.packets_sent() for p in pubs))),
            "late_frames": sum(p.track.late_frames for p in pubs),
        }

    keepalive_task = asyncio.ensure_future(keepalives())
    while (message := await inbox.get())["type"] == "window":
        await asyncio.sleep(max(0.0, message["t0"] - time.time()))
        before = await snapshot()
        for probe in probes.values():
            probe.recording = True
        await asyncio.sleep(max(0.0, message["t1"] - time.time()))
        for probe in probes.values():
            probe.recording = False
        after = await snapshot()
        conn.send({"type": "result", "role": role, "delta": {k: after[k] - before[k] for k in after},
                   "delays_us": {name: p.delays_us for name, p in probes.items()}})
    keepalive_task.cancel()
    loop.remove_reader(conn.fileno())
    await asyncio.gather(*(p.stop(http) for p in pubs), *(s.stop(http) for s in subs), return_exceptions=True)
    if direct:
        await asyncio.gather(direct[0].close(), direct[1].close())
    await http.close()
    conn.send({"type": "bye"})


# --------------------------------------------------------------------------- orchestrator


def receive(conn: Connection, want: str, timeout: float) -> dict[str, Any]:
    if not conn.poll(timeout):
        raise TimeoutError(f"a worker sent no {want!r} within {timeout:.0f} s")
    message = conn.recv()
    if message["type"] == "error":
        raise RuntimeError(f"{message['role']} worker failed:\n{message['traceback']}")
    if message["type"] != want:
        raise RuntimeError(f"expected {want!r} from a worker, got {message['type']!r}")
    return message


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [chunk for chunk in (items[i::parts] for i in range(parts)) if chunk]


def run_config(args: argparse.Namespace, cfg: dict[str, Any], server_pid: int, n: int, m: int) -> dict[str, Any]:
    """Connect N cameras x M subscribers, measure one window, disconnect."""
    from common import machine_jiffies, percentile, tree_cpu_seconds

    ctx = mp.get_context("spawn")
    workers: list[tuple[mp.process.BaseProcess, Connection]] = []

    def spawn(role: str, assignment: list[Any]) -> Connection:
        parent, child = ctx.Pipe()
        process = ctx.Process(target=worker_main, args=(role, cfg, assignment, child), daemon=True)
        process.start()
        workers.append((process, parent))
        return parent

    timeout = cfg["connect_timeout"] + 60
    try:
        probe = spawn("probe", [])
        pub_conns = [spawn("pub", part) for part in split(list(range(1, n)), args.pub_workers)]
        readies = [receive(c, "ready", timeout) for c in [probe, *pub_conns]]
        streams = [s for r in readies for s in r["streams"]]
        wanted = [streams[0]] * (m - 1) + [s for s in streams[1:] for _ in range(m)]
        sub_workers = args.sub_workers or (1 if n * m <= 32 else 2)
        sub_conns = [spawn("sub", part) for part in split(wanted, sub_workers)]
        readies += [receive(c, "ready", timeout) for c in sub_conns]
        peers = sum(r["peers"] for r in readies)
        connected = sum(r["connected"] for r in readies)
        print(f"  {n}x{m}: {connected}/{peers} peer connections up "
              f"({sum(r['receiving'] for r in readies)} subscribers receiving); warm-up {args.warmup:.0f} s", flush=True)
        time.sleep(args.warmup)
        t0 = time.time() + 1.0
        t1 = t0 + args.window
        for _, conn in workers:
            conn.send({"type": "window", "t0": t0, "t1": t1})
        time.sleep(max(0.0, t0 - time.time()))
        cpu0, busy0 = tree_cpu_seconds(server_pid), machine_jiffies()
        time.sleep(max(0.0, t1 - time.time()))
        cpu1, busy1 = tree_cpu_seconds(server_pid), machine_jiffies()
        results = [receive(c, "result", 60) for _, c in workers]
    finally:
        for process, conn in workers:
            try:
                conn.send({"type": "stop"})
            except OSError:
                pass
        for process, _ in workers:
            process.join(20)
            if process.is_alive():
                process.terminate()
    total = {k: sum(r["delta"][k] for r in results) for k in results[0]["delta"]}
    delays = next(r["delays_us"] for r in results if r["role"] == "probe")
    forwarded = total["received"]
    server_cpu = cpu1 - cpu0
    row: dict[str, Any] = {
        "config": f"{n}x{m}", "window_s": args.window, "peers": peers, "connected": connected,
        "sent_pkts": total["sent"], "forwarded_pkts": forwarded, "forwarded_pps": forwarded / args.window,
        "lost_pkts": total["expected"] - forwarded, "reordered_pkts": total["reordered"],
        "late_frames": total["late_frames"], "server_cpu_s": server_cpu,
        "server_cpu_pct_core": 100 * server_cpu / args.window,
        "server_cpu_s_per_1000_pkts": 1000 * server_cpu / forwarded if forwarded else None,
        "server_us_per_pkt": 1e6 * server_cpu / forwarded if forwarded else None,
        "recording": not args.no_recording,
        "server_us_per_ingested_pkt": 1e6 * server_cpu / total["sent"] if total["sent"] else None,
        "machine_busy_pct": 100 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]),
        "probe_samples": {path: {k: len(v) for k, v in d.items()} for path, d in delays.items()},
    }
    for path in ("sfu", "direct"):
        for q in (50, 99):
            for packets, samples in (("", delays[path]["key"] + delays[path]["delta"]), ("delta_", delays[path]["delta"])):
                row[f"{path}_{packets}p{q}_ms"] = percentile(samples, q) / 1000 if samples else None
    for name in ("p50", "p99", "delta_p50", "delta_p99"):
        if row[f"sfu_{name}_ms"] is not None and row[f"direct_{name}_ms"] is not None:
            row[f"added_{name}_ms"] = row[f"sfu_{name}_ms"] - row[f"direct_{name}_ms"]
    return row


def start_server(workdir: Path, ice_ip: str, recording: bool, workers: int) -> tuple[subprocess.Popen[str], str]:
    """Run bench/serve_for_bench.py with fresh keys; returns the process and its URL."""
    from bwlive_rtc.crypto.system_key import SystemKeyPair

    SystemKeyPair.generate().save(workdir / "keys")
    process = subprocess.Popen(
        [sys.executable, str(HERE / "serve_for_bench.py"), "--keys-dir", str(workdir / "keys"),
         "--data-dir", str(workdir / "data"), "--ice-ip", ice_ip, "--workers", str(workers),
         *([] if recording else ["--no-recording"])],
        stdout=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if "listening on" not in line:
        process.terminate()
        raise RuntimeError(f"the server did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1].strip()


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| N x M | recording | fwd pkt/s | forwarded | lost | server % core | server CPU s / 1000 fwd pkt | µs / fwd pkt "
        "| µs / ingested pkt "
        "| via SFU p50/p99 ms | direct p50/p99 ms | SFU-added p50/p99 ms | SFU-added p50/p99 ms, delta-frame pkts "
        "| machine busy % |",
        "|" + "---|" * 14,
    ]
    for r in rows:
        lines.append(
            f"| {r['config']} | {'on' if r['recording'] else 'off'} | {r['forwarded_pps']:.0f} | {r['forwarded_pkts']} "
            f"| {r['lost_pkts']} | {r['server_cpu_pct_core']:.1f} | {fmt(r['server_cpu_s_per_1000_pkts'], 4)} "
            f"| {fmt(r['server_us_per_pkt'])} | {fmt(r['server_us_per_ingested_pkt'])} "
            f"| {fmt(r['sfu_p50_ms'], 2)} / {fmt(r['sfu_p99_ms'], 2)} "
            f"| {fmt(r['direct_p50_ms'], 2)} / {fmt(r['direct_p99_ms'], 2)} "
            f"| {fmt(r.get('added_p50_ms'), 2)} / {fmt(r.get('added_p99_ms'), 2)} "
            f"| {fmt(r.get('added_delta_p50_ms'), 2)} / {fmt(r.get('added_delta_p99_ms'), 2)} | {r['machine_busy_pct']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", nargs="+", default=["1x1", "4x4", "8x4"], help="NxM: cameras x subscribers each")
    parser.add_argument("--server", help="base URL of a running server (default: start one)")
    parser.add_argument("--server-pid", type=int, help="pid of that server, for its CPU time")
    parser.add_argument("--cameras-file", type=Path,
                        help="with --server: its bench-cameras.json (docked cameras' packages, one per publisher)")
    parser.add_argument("--ice-ip", default="127.0.0.1", help="ICE host address of the load generator")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--pub-workers", type=int, default=1)
    parser.add_argument("--sub-workers", type=int, default=0, help="0: 1 up to 32 subscribers, else 2")
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    parser.add_argument("--pace-bps", type=float, default=8_000_000,
                        help="cameras pace their RTP like the camera agent (bit/s; 0: unpaced bursts)")
    parser.add_argument("--json", type=Path, help="append one JSON line per configuration here")
    parser.add_argument("--no-recording", action="store_true",
                        help="the server it starts records nothing (to measure what recording costs)")
    parser.add_argument("--workers", type=int, default=0,
                        help="media worker processes of the server it starts (default 0: the SFU in its process); "
                             "server CPU counts the server and its workers")
    args = parser.parse_args()
    if bool(args.server) != bool(args.server_pid):
        parser.error("give --server and --server-pid together, or neither")
    if args.server and args.no_recording:
        parser.error("--no-recording applies to the server loadgen starts; start yours with it instead")

    import urllib.request

    from common import machine_facts
    from media import load_clip

    import bwlive_rtc

    frames = load_clip(width=640, height=360, fps=30, bitrate=1_000_000, seconds=4)
    print(f"clip: {len(frames)} frames, {sum(map(len, frames)) * 8 / 4 / 1e6:.2f} Mbit/s", flush=True)
    server_process = None
    with tempfile.TemporaryDirectory(prefix="bwlive-bench-") as tmp:
        if args.server:
            server, server_pid, cameras_file = args.server.rstrip("/"), args.server_pid, args.cameras_file
        else:
            server_process, server = start_server(Path(tmp), args.ice_ip, not args.no_recording, args.workers)
            server_pid, cameras_file = server_process.pid, Path(tmp) / "data" / "bench-cameras.json"
        print(f"server {server} (pid {server_pid}); bwlive_rtc from {Path(bwlive_rtc.__file__).parent}", flush=True)
        try:
            with urllib.request.urlopen(f"{server}/api/system") as response:
                public_key = json.load(response)["public_key"]
            cfg = {"server": server, "public_key": public_key, "frames": frames, "ice_ip": args.ice_ip,
                   "connect_timeout": args.connect_timeout, "pace_bps": args.pace_bps,
                   "cameras": json.loads(cameras_file.read_text())}
            rows = []
            for config in args.config:
                n, m = (int(x) for x in config.lower().split("x"))
                row = run_config(args, cfg, server_pid, n, m)
                row.update(date=time.strftime("%Y-%m-%dT%H:%M:%S%z"), machine=machine_facts(), workers=args.workers)
                rows.append(row)
                print(table([row]).splitlines()[-1], flush=True)
                if args.json:
                    with args.json.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                time.sleep(3)  # let the server finish closing the last run's peers
        finally:
            if server_process is not None:
                server_process.terminate()
                server_process.wait(10)
    print("\nlatency: one probe process; per packet, arrival (after SRTP) minus send (before SRTP), "
          "matched by RTP timestamp + payload; SFU-added = via-SFU percentile - direct percentile; "
          "'delta-frame pkts': the same without the packets of key frames (sent in one burst)")
    print(table(rows))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
