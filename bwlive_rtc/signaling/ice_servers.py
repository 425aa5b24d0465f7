"""The STUN/TURN servers handed to cameras and browsers (RFC 9725 §4.6 ``Link`` headers).

TURN servers get time-limited credentials from the shared secret (the TURN REST scheme
coturn implements with ``use-auth-secret``): username ``<expiry>:<who>``, password
``base64(HMAC-SHA1(secret, username))``. A credential a viewer copies out of its browser
stops working at its expiry, and the server keeps no TURN password of its own.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TypeVar

from aiohttp import web

from ..kernel.config import Settings

LINK = "Link"
R = TypeVar("R", bound=web.StreamResponse)


def turn_credential(secret: str, who: str, now: float, ttl_s: float) -> tuple[str, str]:
    """A TURN REST username and password for ``who``, valid ``ttl_s`` seconds from ``now``."""
    username = f"{int(now + ttl_s)}:{who}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def ice_server_links(settings: Settings, who: str, now: float) -> list[str]:
    """One ``Link`` header value per configured ICE server, TURN ones with credentials."""
    links = []
    for url in settings.ice_servers:
        link = f'<{url}>; rel="ice-server"'
        if url.startswith(("turn:", "turns:")) and settings.turn_secret:
            username, password = turn_credential(settings.turn_secret, who, now, settings.turn_credential_ttl_s)
            link += f'; username="{username}"; credential="{password}"; credential-type="password"'
        links.append(link)
    return links


def with_ice_servers(response: R, settings: Settings, who: str, now: float) -> R:
    """Add the ICE servers' ``Link`` headers to ``response``."""
    for link in ice_server_links(settings, who, now):
        response.headers.add(LINK, link)
    return response
