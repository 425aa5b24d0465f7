"""Reading an SDP offer from a request and answering with ``201 Created``."""
from aiohttp import web


async def read_offer(request: web.Request) -> str:
    if request.content_type != "application/sdp":
        raise web.HTTPUnsupportedMediaType(text="send the SDP offer with Content-Type: application/sdp")
    return await request.text()


def created(answer_sdp: str, location: str) -> web.Response:
    return web.Response(
        status=201, text=answer_sdp, content_type="application/sdp", headers={"Location": location}
    )
