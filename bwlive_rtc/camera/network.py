"""Whether the camera's path still has its own end: the local address its connection
sends from is still on an interface that is up. A radio that goes away (Wi-Fi out of
range, a link taken down) is seen here at once, long before ICE consent (30 s) fails."""
from __future__ import annotations

from pathlib import Path

import ifaddr

SYS_NET = Path("/sys/class/net")


def interface_of(address: str) -> str | None:
    """The name of the interface that holds ``address`` (IPv4, or IPv6 with or without a
    ``%zone``), None when none does."""
    address = address.partition("%")[0]
    for adapter in ifaddr.get_adapters():
        if any((ip.ip if isinstance(ip.ip, str) else ip.ip[0]) == address for ip in adapter.ips):
            return str(adapter.name)
    return None


def path_lost(address: str) -> str | None:
    """Why the path from ``address`` is gone (the address left, its interface is down), or
    None while it is usable. Where the system does not say an interface's state (no
    ``/sys``), an interface holding the address counts as up."""
    name = interface_of(address)
    if name is None:
        return f"address {address} is gone"
    try:
        state = (SYS_NET / name / "operstate").read_text().strip()
    except OSError:
        return None
    return f"interface {name} ({address}) is down" if state == "down" else None
