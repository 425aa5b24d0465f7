"""A small network lab made of Linux network namespaces, for tests of real networks.

Five namespaces joined by veth pairs to a router namespace::

    camera ─ wifi ─┐
    camera ─ lte ──┤
    server ────────┤
    viewer ────────┼── router
    viewer2 ───────┤
    turn ──────────┘

Every address is in 198.18.0.0/15 (RFC 2544's benchmarking range); no namespace has a
default route, IPv6 is off, so nothing in the lab reaches any other address, and nothing
in the root namespace changes. The router also answers for ``SERVER_NAT``, a 1:1 NAT
(DNAT) to the server, as a cloud VM's public address would.

The router forwards only packets whose source address belongs to the link they come in on
(strict reverse-path filtering, as an access network does), so the camera's Wi-Fi
address is useless over LTE.

Impairments: random loss with nftables (``numgen random mod 100 < N drop``, both
directions, on the router's side of a link), a thin uplink with the ``tbf`` qdisc (this
kernel has no netem), a link taken down and up, UDP between two hosts dropped.

Processes run inside a namespace with ``ip netns exec`` (``Lab.prefix(host)``); code of
the test process itself runs in one with ``Lab.call`` (a thread that enters it first).
Namespace names carry this process's id, so labs of parallel test runs do not meet;
``Lab.close()`` removes everything and also runs for a lab whose creation failed half-way.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
LAB_NETWORK = "198.18.0.0/15"
SERVER_NAT = "198.19.3.2"  # the server's "public" address (router DNATs it to the server)


class LabError(RuntimeError):
    """The lab cannot be made or changed; the message says why."""


@dataclass(frozen=True)
class Link:
    """A veth pair from ``host`` (interface ``name``) to the router (``router_side``)."""

    name: str
    host: str
    subnet: int  # 198.18.<subnet>.0/24: host .2, router .1
    metric: int = 100

    @property
    def address(self) -> str:
        return f"198.18.{self.subnet}.2"

    @property
    def gateway(self) -> str:
        return f"198.18.{self.subnet}.1"

    @property
    def router_side(self) -> str:
        return f"r-{self.name}"


LINKS = (
    Link("wifi", "camera", 1, metric=100),
    Link("lte", "camera", 2, metric=200),
    Link("srv", "server", 3),
    Link("view", "viewer", 4),
    Link("turn", "turn", 5),
    Link("view2", "viewer2", 6),
)
HOSTS = ("router", "camera", "server", "viewer", "viewer2", "turn")
TOOLS = {"ip": "iproute2", "nft": "nftables", "tc": "iproute2"}


def _run(*args: str, stdin: str | None = None) -> str:
    try:
        done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"{' '.join(args)}: {exc}") from None
    if done.returncode != 0:
        raise LabError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_labs() -> None:
    """Delete the namespaces of labs whose test process died without cleaning up."""
    for line in _run("ip", "netns", "list").splitlines():
        match = re.match(r"bwl(\d+)n\d+-\w+", line)
        if match and not _alive(int(match.group(1))):
            subprocess.run(["ip", "netns", "delete", match.group(0)], capture_output=True)


class Lab:
    """The namespaces, links and impairments of one lab. Use ``Lab.create()``."""

    _made_here = 0  # labs this process made: each gets its own names

    def __init__(self) -> None:
        Lab._made_here += 1
        self.tag = f"bwl{os.getpid()}n{Lab._made_here}"
        self.links = {link.name: link for link in LINKS}
        self._made: list[str] = []

    @classmethod
    def create(cls) -> Lab:
        """Make the lab; raises ``LabError`` with the reason (after removing what was made)."""
        if os.geteuid() != 0:
            raise LabError("the network lab needs root (network namespaces); .ci/run runs as root")
        missing = [f"{tool} ({package})" for tool, package in TOOLS.items() if shutil.which(tool) is None]
        if missing:
            raise LabError(f"the network lab needs {', '.join(missing)}: apt-get install -y nftables iproute2")
        remove_stale_labs()
        lab = cls()
        try:
            lab._build()
        except BaseException:
            lab.close()
            raise
        return lab

    def ns(self, host: str) -> str:
        if host not in HOSTS:
            raise LabError(f"no host {host!r} in the lab (hosts: {', '.join(HOSTS)})")
        return f"{self.tag}-{host}"

    def prefix(self, host: str) -> list[str]:
        """The command prefix that runs a program inside ``host``'s namespace."""
        return ["ip", "netns", "exec", self.ns(host)]

    def wrapper(self, host: str, program: str, script: Path) -> str:
        """Write ``script``, a shell script that runs ``program`` inside ``host`` (for
        launchers that take an executable, such as Playwright's)."""
        script.write_text(f'#!/bin/sh\nexec {shlex.join([*self.prefix(host), program])} "$@"\n')
        script.chmod(0o755)
        return str(script)

    def run(self, host: str, *args: str, stdin: str | None = None) -> str:
        """Run a command inside ``host``; its output, or ``LabError`` with its error."""
        return _run(*self.prefix(host), *args, stdin=stdin)

    def address(self, host: str) -> str:
        """The host's first address (the camera's is its Wi-Fi one)."""
        return next(link.address for link in LINKS if link.host == host)

    def _build(self) -> None:
        for host in HOSTS:
            _run("ip", "netns", "add", self.ns(host))
            self._made.append(self.ns(host))
            # IPv6 off; ARP asks with the interface's own address (a packet the camera sends from
            # its Wi-Fi address over LTE must not make its LTE ARP requests look spoofed)
            self.run(host, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
                     "net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.default.arp_announce=2")
            self.run(host, "ip", "link", "set", "lo", "up")
        # forwarding, and strict reverse-path filtering as an access network does (BCP 38): a
        # packet from the camera's Wi-Fi address that comes in over LTE is dropped
        self.run("router", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=1",
                 "net.ipv4.conf.default.rp_filter=1")
        for link in LINKS:
            _run("ip", "link", "add", link.name, "netns", self.ns(link.host), "type", "veth",
                 "peer", "name", link.router_side, "netns", self.ns("router"))
            self.run(link.host, "ip", "addr", "add", f"{link.address}/24", "dev", link.name)
            self.run("router", "ip", "addr", "add", f"{link.gateway}/24", "dev", link.router_side)
            self.run("router", "ip", "link", "set", link.router_side, "up")
            self.run(link.host, "ip", "link", "set", link.name, "up")
            self._route(link)
        server = self.links["srv"]
        self.run("router", "ip", "addr", "add", f"{SERVER_NAT}/32", "dev", "lo")
        self.run("router", "nft", "-f", "-", stdin=f"""
table ip bwlab_nat {{
  chain prerouting {{ type nat hook prerouting priority dstnat; ip daddr {SERVER_NAT} dnat to {server.address}; }}
}}
table inet bwlab {{
  chain forward {{ type filter hook forward priority filter; policy accept; }}
}}
""")

    def _route(self, link: Link) -> None:
        self.run(link.host, "ip", "route", "add", LAB_NETWORK, "via", link.gateway, "dev", link.name,
                 "metric", str(link.metric))

    def close(self) -> None:
        """Remove every namespace of this lab (their veths go with them)."""
        for name in reversed(self._made):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
        self._made.clear()

    # --- impairments -------------------------------------------------------------------

    def _rule(self, comment: str, rule: str) -> None:
        self.run("router", "nft", "add", "rule", "inet", "bwlab", "forward", *rule.split(),
                 "comment", f'"{comment}"')

    def loss(self, link: str, percent: int) -> None:
        """Drop ``percent`` % of the packets on ``link``, in each direction, at random."""
        side = self.links[link].router_side
        self.clear(f"loss {link}")
        if percent:
            for match in ("iifname", "oifname"):
                self._rule(f"loss {link}", f"{match} {side} numgen random mod 100 < {percent} drop")

    def block_udp(self, source: str, destination: str) -> None:
        """Drop all UDP from ``source`` (every address of it) to ``destination`` host."""
        sources = ",".join(link.address for link in LINKS if link.host == source)
        self._rule(f"block {source} {destination}",
                   f"ip saddr {{ {sources} }} ip daddr {self.address(destination)} meta l4proto udp drop")

    def clear(self, comment: str) -> None:
        """Remove the router rules made with ``comment`` (e.g. ``"loss wifi"``)."""
        listing = self.run("router", "nft", "-a", "list", "chain", "inet", "bwlab", "forward")
        for handle in re.findall(rf'comment "{re.escape(comment)}" # handle (\d+)', listing):
            self.run("router", "nft", "delete", "rule", "inet", "bwlab", "forward", "handle", handle)

    def thin(self, link: str, kbit: int | None) -> None:
        """Cap what the host sends on ``link`` to ``kbit`` kbit/s (tbf); None: uncapped."""
        spec = self.links[link]
        if "tbf" in self.run(spec.host, "tc", "qdisc", "show", "dev", spec.name):
            self.run(spec.host, "tc", "qdisc", "del", "dev", spec.name, "root")
        if kbit is not None:
            burst = max(4000, kbit * 1000 // 8 // 20)  # 50 ms of traffic, at least a few packets
            self.run(spec.host, "tc", "qdisc", "add", "dev", spec.name, "root", "tbf", "rate", f"{kbit}kbit",
                     "burst", str(burst), "latency", "100ms")

    def set_link(self, link: str, up: bool) -> None:
        """Take ``link`` down (both ends: the radio is gone) or bring it up again."""
        spec = self.links[link]
        state = "up" if up else "down"
        self.run(spec.host, "ip", "link", "set", spec.name, state)
        self.run("router", "ip", "link", "set", spec.router_side, state)
        if up:
            self.run(spec.host, "ip", "route", "replace", LAB_NETWORK, "via", spec.gateway, "dev", spec.name,
                     "metric", str(spec.metric))

    # --- code of the test process inside a namespace -----------------------------------

    def call(self, host: str, function: Callable[..., T], *args: object) -> T:
        """Run ``function(*args)`` in a thread inside ``host``'s network namespace (sockets
        it makes stay there); its result or its exception."""
        path = f"/run/netns/{self.ns(host)}"
        result: list[T] = []
        error: list[BaseException] = []

        def inside() -> None:
            try:
                enter_namespace(path)
                result.append(function(*args))
            except BaseException as exc:  # handed to the caller
                error.append(exc)

        thread = threading.Thread(target=inside, name=f"netns {host}")
        thread.start()
        thread.join()
        if error:
            raise error[0]
        return result[0]


def enter_namespace(path: str) -> None:
    """Move the calling thread (only it) into the network namespace at ``path``."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise LabError(f"cannot enter {path}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


@contextlib.contextmanager
def coturn(lab: Lab, directory: Path, secret: str, cert: Path | None = None, key: Path | None = None
           ) -> Iterator[subprocess.Popen[str]]:
    """Debian's coturn on the lab's turn host with ``coturn_config``, listening before
    this yields; stopped at the end."""
    directory.mkdir(exist_ok=True)
    proc = subprocess.Popen([*lab.prefix("turn"), "turnserver", "-c", str(coturn_config(lab, directory, secret, cert, key))],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = ":5349" if cert else ":3478"
    try:
        for _ in range(100):
            if port in lab.run("turn", "ss", "-Htln"):
                break
            if proc.poll() is not None:
                raise LabError(f"coturn did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.1)
        else:
            raise LabError(f"coturn did not listen on {port} within 10 s")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def coturn_config(lab: Lab, directory: Path, secret: str, cert: Path | None = None, key: Path | None = None) -> Path:
    """A coturn configuration for the lab's turn host (TURN REST shared secret, UDP and TCP
    on 3478, TLS on 5349 with ``cert``/``key``, relaying to lab addresses only)."""
    address = lab.address("turn")
    tls = f"tls-listening-port=5349\ncert={cert}\npkey={key}\n" if cert and key else "no-tls\nno-dtls\n"
    config = directory / "turnserver.conf"
    config.write_text(f"""listening-ip={address}
relay-ip={address}
listening-port=3478
{tls}min-port=49152
max-port=49999
use-auth-secret
static-auth-secret={secret}
realm=bwlive.lab
fingerprint
no-cli
no-multicast-peers
no-software-attribute
denied-peer-ip=0.0.0.0-255.255.255.255
allowed-peer-ip=198.18.0.0-198.19.255.255
userdb={directory / "turndb"}
pidfile={directory / "turnserver.pid"}
log-file=stdout
simple-log
""")
    return config
