"""Reading a request's JSON object, with a sentence for the client when it is not one."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from .errors import BadRequest


async def json_object(request: web.Request, *required: str) -> dict[str, Any]:
    """The body as a JSON object; ``required`` names fields that must be non-empty strings."""
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("send a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    missing = [f for f in required if not isinstance(body.get(f), str) or not body[f]]
    if missing:
        raise BadRequest(f"missing {', '.join(missing)}")
    return body
