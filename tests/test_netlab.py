"""The network lab itself (tests/netlab.py), and a camera streaming across it to Chromium."""
from __future__ import annotations

import socket
import subprocess
import time

from playwright.sync_api import Browser

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.lab_console import open_lab_console, playback, watch
from tests.netlab import HOSTS, SERVER_NAT, Lab
from tests.processes import Camera, Server

PORT = 40999
SO_RCVBUFFORCE = 33  # Linux; not in Python's socket module


def _bind(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)  # root: hold a whole test's packets
    sock.bind((address, PORT))
    sock.settimeout(0.5)
    return sock


def _send(count: int, to: str, size: int = 100, rate_bps: float | None = None) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(count):
        sock.sendto(i.to_bytes(4, "big") + bytes(size - 4), (to, PORT))
        if rate_bps:
            time.sleep(size * 8 / rate_bps)
    sock.close()


def _received(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.recv(2048)
        except TimeoutError:
            return count
        count += 1


def test_the_lab_is_closed_to_the_world_and_impairs_on_demand(lab: Lab) -> None:
    for host in HOSTS:
        routes = lab.run(host, "ip", "route")
        assert "default" not in routes, f"{host} has a default route: {routes}"
        for line in routes.splitlines():
            assert line.startswith("198.1"), f"{host} routes outside the lab: {line}"
    server = lab.call("server", _bind, lab.address("server"))
    try:
        lab.call("camera", _send, 200, SERVER_NAT)  # through the 1:1 NAT
        assert lab.call("server", _received, server) == 200
        lab.loss("wifi", 20)
        lab.call("camera", _send, 1000, lab.address("server"))
        arrived = lab.call("server", _received, server)
        assert 650 < arrived < 950, f"20 % loss let {arrived} of 1000 through"
        lab.loss("wifi", 0)
        lab.block_udp("camera", "server")
        lab.call("camera", _send, 50, lab.address("server"))
        assert lab.call("server", _received, server) == 0
        lab.clear("block camera server")
        lab.thin("wifi", 400)  # 2 s at 1.6 Mbit/s through a 400 kbit/s uplink
        lab.call("camera", _send, 400, lab.address("server"), 1000, 1_600_000)
        arrived_kbit = lab.call("server", _received, server) * 1000 * 8 / 2.0 / 1000
        assert arrived_kbit < 520, f"{arrived_kbit:.0f} kbit/s through a 400 kbit/s cap"
        lab.thin("wifi", None)
        lab.set_link("wifi", False)  # the camera's traffic goes over LTE
        lab.call("camera", _send, 20, lab.address("server"))
        assert lab.call("server", _received, server) == 20
        lab.set_link("wifi", True)
    finally:
        server.close()


def test_a_lab_leaves_nothing_behind() -> None:
    lab = Lab.create()
    names = [lab.ns(host) for host in HOSTS]
    lab.close()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not [name for name in names if name in listed]


def test_a_camera_streams_across_the_lab_to_chromium(
        lab: Lab, lab_server: Server, lab_browser: Browser, system_keys: SystemKeyPair, workdir) -> None:
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Lab Camera", prefix=lab.prefix("camera"))
    try:
        camera.wait_for("streaming", timeout=30)
        stream = lab_server.wait_for_stream("Lab Camera")
        context, page = open_lab_console(lab_browser, lab_server, system_keys.link(lab_server.url))
        try:
            watch(page, stream["id"])
            frames = [s["frame"] for s in playback(page, 3) if s["frame"] is not None]
            assert len(frames) >= 10 and frames[-1] - frames[0] >= 40, frames
            sockets = lab.run("server", "ss", "-Huan").splitlines()  # the server's media sockets: lab addresses only
            assert sockets and all(line.split()[3].startswith(lab.address("server") + ":") for line in sockets), sockets
        finally:
            context.close()
    finally:
        camera.stop()
