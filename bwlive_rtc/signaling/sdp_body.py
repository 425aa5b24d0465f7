"""Reading an SDP offer from a request and answering with ``201 Created``."""
from aiohttp import web

from ..kernel.requests import read_text

SDP = "application/sdp"


async def read_offer(request: web.Request) -> str:
    """The offer: ``application/sdp``, UTF-8, bounded (else 415 or 400 with a sentence)."""
    if request.content_type != SDP:
        raise web.HTTPUnsupportedMediaType(text=f"send the SDP offer with Content-Type: {SDP}")
    return await read_text(request)


def created(answer_sdp: str, location: str) -> web.Response:
    return web.Response(
        status=201, text=answer_sdp, content_type=SDP, headers={"Location": location}
    )
