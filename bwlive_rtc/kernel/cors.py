"""Cross-origin access for bearer tokens only (docs/EMBEDDING.md): an embedded player's
viewer tokens, and the console hosted by an organisation on its own origin.

A page of another origin may call the routes that accept viewer tokens
(``@access(..., token=...)``) with ``Authorization: Bearer <token>``, never with cookies:
``Access-Control-Allow-Credentials`` is never sent, so browsers leave cookies out. A
console origin an organisation configured (``CONSOLE_ORIGINS``) may call every route but
the cameras' and the API keys', with a console session's bearer token (which the auth
feature binds to that origin and checks on every request).

- Preflight (``OPTIONS`` with ``Access-Control-Request-Method``): answered for a route
  that accepts tokens with that method, when the origin is configured on some API key
  still in service (``CORS_ORIGINS``, installed by the embedding feature; none installed:
  every origin is refused). The preflight carries no token, so this is as far as it can
  tell; the actual request is judged by its own token.
- Actual request: ``Access-Control-Allow-Origin`` echoes the request's ``Origin`` only
  when the token's reader set ``CROSS_ORIGIN`` to it (the origin the token is for, one of
  its key's origins), or when it is a configured console origin. Errors carry it too, so the page can show why it was refused; any
  other origin gets no header and the browser withholds the answer.
- The web client's modules and stylesheets (``GET /web/…``): ``*``, so that a page of
  any origin may load the embedded player (module scripts are fetched with CORS). They
  are public files; no credential is ever involved.
"""
from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from .access import CREDENTIAL_LEVELS, is_console_origin, required_access, token_access
from .errors import json_error
from .headers import STATIC_PREFIX

CROSS_ORIGIN = web.RequestKey("cross_origin", str)  # the origin this request's token admits
CORS_ORIGINS: web.AppKey[Callable[[str], bool]] = web.AppKey("cors_origins")
ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Location, Link, Retry-After"
PREFLIGHT_MAX_AGE_S = "600"


def _for_consoles(handler: object) -> bool:
    """A route a console may call: any but the cameras' and the API keys'."""
    level = required_access(handler)
    return level is not None and level not in CREDENTIAL_LEVELS


def _for_tokens(handler: object) -> bool:
    return token_access(handler) is not None


async def _methods(request: web.Request, method: str, admits: Callable[[object], bool]) -> str | None:
    """The methods of the request's path whose routes ``admits``, when ``method`` is one."""
    methods = []
    for candidate in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):  # OPTIONS: WHEP's ICE servers
        match = await request.app.router.resolve(request.clone(method=candidate))
        if match.http_exception is None and admits(match.handler):
            methods.append(candidate)
    return ", ".join(methods) if method in methods else None


async def _preflight(request: web.Request, origin: str) -> web.StreamResponse:
    method = request.headers["Access-Control-Request-Method"]
    console = is_console_origin(request, origin)
    if not (console or (CORS_ORIGINS in request.app and request.app[CORS_ORIGINS](origin))):
        return json_error(403, f"{origin} is neither a console origin of an organisation nor an origin of an "
                               "API key in service")
    methods = await _methods(request, method, _for_consoles if console else _for_tokens)
    if methods is None:
        return json_error(403, f"{method} {request.path} cannot be called from another origin")
    return web.Response(status=204, headers={
        "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS, "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_S,
        "Vary": "Origin",
    })


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Installed outside the error middleware, so refusals carry the headers too."""
    origin = request.headers.get("Origin")
    if origin and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return await _preflight(request, origin)
    response = await handler(request)
    if request.method in ("GET", "HEAD") and request.path.startswith(STATIC_PREFIX) and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    if origin and not response.prepared:
        response.headers.add("Vary", "Origin")
        own = origin == f"{request.scheme}://{request.host}"
        if request.get(CROSS_ORIGIN) == origin or (not own and is_console_origin(request, origin)):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response
