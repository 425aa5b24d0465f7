"""WHIP ingest (RFC 9725) for cameras: POST an offer, DELETE the session to stop."""
from __future__ import annotations

from aiohttp import web

from ..crypto.content_key import KeyEnvelope
from ..web_api.access import Access, access
from ..auth.service import AUTH
from ..licensing.service import LICENSING
from ..web_api.keys import ROUTER
from .sdp_body import created, read_offer

CAMERA_HEADER = "Bwlive-Camera"
KEY_HEADER = "Bwlive-Content-Key"

routes = web.RouteTableDef()


def _param(request: web.Request, header: str, query: str) -> str:
    """A WHIP extension value: from its header, or from the query string for clients that
    cannot set headers (generic WHIP tools, load generators)."""
    return (request.headers.get(header) or request.query.get(query, "")).strip()


@routes.post("/whip")
@access(Access.CAMERA)
async def publish(request: web.Request) -> web.Response:
    camera = _param(request, CAMERA_HEADER, "camera")
    if not camera:
        raise web.HTTPBadRequest(text=f"the {CAMERA_HEADER} header (the camera user's name) is missing")
    try:
        envelope = KeyEnvelope.from_header(_param(request, KEY_HEADER, "key"))
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"the {KEY_HEADER} header is not a key envelope: {exc}") from None
    organisations = request.app[AUTH].systems.organisations_for_key(envelope.key_id)
    if not organisations:
        raise web.HTTPBadRequest(
            text=f"the stream key is sealed to key {envelope.key_id}, which no system of any organisation "
            "uses: dock the camera to get the current public key"
        )
    organisations, refusal = request.app[LICENSING].streaming_organisations(organisations)
    if not organisations:
        raise web.HTTPForbidden(text=f"this camera cannot stream now: {refusal}")
    offer = await read_offer(request)
    producer, answer = await request.app[ROUTER].publish(offer, camera, envelope.to_json(), organisations)
    return created(answer, f"/whip/{producer.id}")


@routes.delete("/whip/{stream_id}")
@access(Access.CAMERA)
async def unpublish(request: web.Request) -> web.Response:
    router = request.app[ROUTER]
    producer = router.producer(request.match_info["stream_id"])
    await router.unpublish(producer.id)
    return web.json_response({"ended": producer.id})
