"""WHIP ingest (RFC 9725) for cameras: POST an offer, DELETE the session to stop."""
from __future__ import annotations

from datetime import datetime

from aiohttp import web

from ..crypto.content_key import KeyEnvelope
from ..fleet.credentials import CredentialError
from ..fleet.service import FLEET
from ..kernel.access import Access, access
from ..kernel.appkeys import CLOCK, SETTINGS
from ..licensing.service import LICENSING
from ..protocol import CAMERA_TIME_HEADER, KEY_HEADER
from ..streams.hub import ROUTER
from .sdp_body import created, read_offer

routes = web.RouteTableDef()


def _param(request: web.Request, header: str, query: str) -> str:
    """A WHIP extension value: from its header, or from the query string for clients that
    cannot set headers (generic WHIP tools, load generators)."""
    return (request.headers.get(header) or request.query.get(query, "")).strip()


def _check_camera_clock(request: web.Request, now: datetime) -> None:
    """Refuse a camera whose clock (``Bwlive-Camera-Time``, ms since the epoch) is off."""
    stated = _param(request, CAMERA_TIME_HEADER, "time")
    if not stated:
        return
    try:
        offset = int(stated) / 1000 - now.timestamp()
    except ValueError:
        raise web.HTTPBadRequest(text=f"{CAMERA_TIME_HEADER} must be milliseconds since 1970") from None
    tolerance = request.app[SETTINGS].clock_tolerance_s
    if abs(offset) > tolerance:
        direction = "ahead of" if offset > 0 else "behind"
        raise web.HTTPBadRequest(
            text=f"the camera's clock is {abs(offset):.0f} s {direction} the server's (tolerance {tolerance:.0f} s): "
            "set its time (NTP) and try again"
        )


@routes.post("/whip")
@access(Access.CAMERA)
async def publish(request: web.Request) -> web.Response:
    """A docked camera starts a stream: credential, clock, key and license are checked."""
    now = request.app[CLOCK].now()
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or request.query.get("credential", "")
    if not token:
        raise web.HTTPUnauthorized(text="this camera has no device credential: dock it to get one")
    try:
        admitted = request.app[FLEET].docking.admit(token, now)
    except CredentialError as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    _check_camera_clock(request, now)
    try:
        envelope = KeyEnvelope.from_header(_param(request, KEY_HEADER, "key"))
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"the {KEY_HEADER} header is not a key envelope: {exc}") from None
    request.app[FLEET].docking.check_stream_key(admitted.camera, envelope.key_id)
    organisation = admitted.credential.organisation_id
    organisations, refusal = request.app[LICENSING].streaming_organisations([organisation])
    if not organisations:
        raise web.HTTPForbidden(text=f"this camera cannot stream now: {refusal}")
    offer = await read_offer(request)
    producer, answer = await request.app[ROUTER].publish(offer, admitted.camera_user, envelope.to_json(), organisations)
    return created(answer, f"/whip/{producer.id}")


@routes.delete("/whip/{stream_id}")
@access(Access.CAMERA)
async def unpublish(request: web.Request) -> web.Response:
    router = request.app[ROUTER]
    producer = router.producer(request.match_info["stream_id"])
    await router.unpublish(producer.id)
    return web.json_response({"ended": producer.id})
