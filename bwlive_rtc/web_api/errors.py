"""Every error leaves as JSON ``{"error": sentence}`` with a status; never a traceback."""
from __future__ import annotations

import logging

from aiohttp import web

from ..auth.accounts import AccountError
from ..sfu.peer import OfferError
from ..sfu.router import UnknownStream

log = logging.getLogger(__name__)


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        kept = {k: v for k, v in exc.headers.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
        return json_error(exc.status, exc.text or exc.reason, kept)
    except (OfferError, AccountError) as exc:
        return json_error(400, str(exc))
    except UnknownStream as exc:
        return json_error(404, str(exc))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "the server failed to handle this request; see its log")
