"""Where events may go: public addresses only, unless the server's admin allows private
receivers (``--allow-private-integration-targets``). Otherwise an admin of any
organisation could point the server at its own host, the SOC's internal network or a
cloud metadata address and read what answers.

The host is checked when an integration is added and again before every attempt, and
the delivery session connects through ``TargetResolver``, which refuses a name if ANY of
its addresses is not public: a name that resolved to a public address when it was added
cannot later lead the server inside (DNS rebinding)."""
from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(OSError):
    """The receiver's host has an address events may not go to (an ``OSError``, so a
    refusal inside the connector is a connection error like any other)."""


def refusal(address: IPAddress) -> str | None:
    """Why events may not go to ``address`` (None: they may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    kinds = (
        ("loopback", address.is_loopback), ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local), ("multicast", address.is_multicast),
        ("private", address.is_private), ("reserved", address.is_reserved), ("non-public", not address.is_global),
    )
    return next((kind for kind, matches in kinds if matches), None)


class TargetResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver and, unless private targets are allowed,
    refuses hosts with a non-public address."""

    def __init__(self, allow_private: bool, resolver: AbstractResolver | None = None) -> None:
        self.allow_private = allow_private
        self._resolver = resolver or DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in [] if self.allow_private else results:
            reason = refusal(ipaddress.ip_address(result["host"]))
            if reason is not None:
                where = f"{host} is" if result["host"] == host else f"{host} is at {result['host']},"
                raise TargetRefused(f"{where} a {reason} address; events go to public addresses only "
                                    "unless the server is started with --allow-private-integration-targets")
        return results

    async def close(self) -> None:
        await self._resolver.close()

    async def check(self, url: str) -> None:
        """Raise ``TargetRefused`` unless every address of the URL's host is public (or
        private targets are allowed)."""
        if self.allow_private:
            return
        host = URL(url).raw_host or ""
        try:
            await self.resolve(host, 0, socket.AF_UNSPEC)
        except socket.gaierror as exc:
            raise TargetRefused(f"the receiver's host {host} cannot be resolved: {exc.strerror}") from None
