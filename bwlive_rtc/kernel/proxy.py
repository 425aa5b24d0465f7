"""Behind a reverse proxy that terminates TLS: ``X-Forwarded-Proto`` and
``X-Forwarded-For`` are believed only when the connection comes from a trusted proxy
(``--trusted-proxy``); then the request is cloned with the client's scheme and address,
so cookies keep ``Secure``, origins compare with ``https`` and the sign-in limiter counts
the real client. From anyone else the headers are ignored."""
from __future__ import annotations

import ipaddress

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .config import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str | None) -> IPAddress | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def _trusted(address: IPAddress | None, proxies: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def forwarded_client(values: list[str], proxies: tuple[IPNetwork, ...]) -> IPAddress | None:
    """The client in an ``X-Forwarded-For`` chain: the nearest hop that is not a trusted
    proxy (each proxy appends the address it was called from); None if that hop is not
    an address."""
    hops = [hop for value in values for hop in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if not _trusted(address, proxies):
            return address
    return _address(hops[0]) if hops else None


def forwarded_middleware(proxies: tuple[IPNetwork, ...]) -> Middleware:
    """The middleware (outermost, so every other one sees the client's view)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = _address(request.remote)
        if peer is None or not _trusted(peer, proxies):
            return await handler(request)
        scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        client = forwarded_client(request.headers.getall("X-Forwarded-For", []), proxies) or peer
        return await handler(request.clone(
            scheme=scheme if scheme in ("http", "https") else request.scheme, remote=str(client)))

    return middleware
