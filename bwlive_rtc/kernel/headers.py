"""Security headers on every response: a Content-Security-Policy that forbids framing,
``nosniff``, no referrer, ``no-store`` outside the web client's static files, and HSTS
when the request came over TLS (directly or through a trusted proxy, kernel/proxy.py)."""
from __future__ import annotations

import re

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .config import Settings

STATIC_PREFIX = "/web/"
HSTS = "max-age=31536000"
# A tile URL's scheme and host[:port]; a leading ``{s}.`` label (subdomains) becomes ``*.``.
_TILE_ORIGIN = re.compile(r"^(https?)://(\{[a-z]+\}\.)?([A-Za-z0-9.-]+(?::\d+)?)(?:/|$)")


def tile_source(tile_url: str) -> str:
    """The CSP source that admits the map's tiles: their origin, else (a host the policy
    cannot spell) their scheme."""
    match = _TILE_ORIGIN.match(tile_url)
    if match is None:
        scheme = tile_url.split(":", 1)[0]
        return f"{scheme}:" if scheme in ("http", "https") else ""
    scheme, subdomain, host = match.groups()
    return f"{scheme}://{'*.' if subdomain else ''}{host}"


def content_security_policy(tile_url: str) -> str:
    """Scripts, styles, workers and connections (WebSockets too) from this origin only;
    images also from ``data:`` and the tile server; no plugins, no ``<base>``, no forms
    posted anywhere, and no page may frame ours."""
    images = " ".join(filter(None, ("'self'", "data:", tile_source(tile_url) if tile_url else "")))
    return (f"default-src 'self'; img-src {images}; object-src 'none'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")


def security_headers(settings: Settings) -> Middleware:
    """The middleware that adds the headers (installed outermost but for the proxy's)."""
    policy = content_security_policy(settings.tile_url)

    def add(request: web.Request, response: web.StreamResponse) -> None:
        fields = response.headers
        fields["Content-Security-Policy"] = policy
        fields["X-Content-Type-Options"] = "nosniff"
        fields["Referrer-Policy"] = "no-referrer"
        if not request.path.startswith(STATIC_PREFIX):
            fields["Cache-Control"] = "no-store"
        if request.secure:
            fields["Strict-Transport-Security"] = HSTS

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # redirects and the like pass the error middleware
            add(request, exc)
            raise
        if not response.prepared:  # a WebSocket answered its upgrade already
            add(request, response)
        return response

    return middleware
