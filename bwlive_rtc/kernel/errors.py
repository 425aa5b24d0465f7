"""One error vocabulary: each class carries its HTTP status; every error leaves as JSON
``{"error": sentence}``, never a traceback.

Features raise these (or subclass them for their own errors); the middleware maps them.
They need nothing from aiohttp, so lower floors (the SFU, the stores) can raise them too.
"""
from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)


class BwliveError(Exception):
    """An error with a sentence for the client; ``status`` says which kind."""

    status = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class BadRequest(BwliveError):
    status = 400


class Unauthorized(BwliveError):
    status = 401


class Forbidden(BwliveError):
    status = 403


class NotFound(BwliveError):
    status = 404


class Conflict(BwliveError):
    status = 409


class TooManyRequests(BwliveError):
    status = 429


class Unavailable(BwliveError):
    """The server is too busy for this request now; ``Retry-After`` says when to try again."""

    status = 503


class ServerFault(BwliveError):
    """A defect on our side (e.g. a route without an access rule)."""

    status = 500


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


KEPT_HEADERS = ("Retry-After", "WWW-Authenticate", "Allow")


@web.middleware
async def error_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    try:
        return await handler(request)
    except BwliveError as exc:
        return json_error(exc.status, str(exc), exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        kept = {k: v for k, v in exc.headers.items() if k in KEPT_HEADERS}
        return json_error(exc.status, exc.text or exc.reason, kept)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "the server failed to handle this request; see its log")
