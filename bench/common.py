"""Helpers shared by the bench scripts: ICE on one address, /proc CPU accounting, machine facts."""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


BENCH_EMAIL = "bench@bench.bwlive"
BENCH_PASSWORD = "bench password only"  # a throw-away data directory's admin


@dataclass(frozen=True)
class BenchCamera:
    """A docked bench camera: its credential and the device key that signs its publishes."""

    credential: str
    device_key: Any  # Ed25519PrivateKey

    @classmethod
    def from_package(cls, package: dict[str, Any]) -> BenchCamera:
        from cryptography.hazmat.primitives import serialization

        return cls(package["credential"], serialization.load_pem_private_key(package["device_key"].encode(), None))

    def whip_headers(self, offer: bytes, envelope: str) -> dict[str, str]:
        """The WHIP headers of a publish of ``offer`` with key ``envelope``, started and signed now
        (manifest and proof, as the camera agent makes them)."""
        from bwlive_rtc.camera.publish import SignedStream
        from bwlive_rtc.crypto.content_key import KeyEnvelope

        stream = SignedStream.start(self.credential, self.device_key, KeyEnvelope.from_header(envelope),
                                    int(time.time() * 1000))
        return stream.headers(offer.decode())


def force_ice_host(address: str) -> None:
    """Make aioice gather exactly one host candidate, ``address``.

    aioice leaves out 127.0.0.1 and would offer every other interface address; the bench
    keeps all media on loopback (or on the address of its own network namespace).
    """
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: [address]


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and of its children (the server's media workers)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return process_cpu_seconds(pid) + sum(process_cpu_seconds(child) for child in children)


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def machine_facts() -> dict[str, str]:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": str(os.cpu_count()), "cpu": model, "kernel": platform.release(), "python": platform.python_version()}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
