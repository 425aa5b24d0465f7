"""Pairing a phone as a camera (docs/PROTOCOL.md §6): an admin's one-time code, the
phone's redemption with its device key, and the phone's pickup of its dock package."""
from __future__ import annotations

import segno
from aiohttp import web

from ..kernel.access import Access, access, caller, organisation
from ..kernel.audit import AUDIT, audit
from ..kernel.requests import body, read_body
from .authentication import limit
from .requests import NewPairing, Pickup, Redemption
from .service import FLEET

routes = web.RouteTableDef()


@routes.post("/api/fleet/pairings")
@access(Access.ADMIN)
@body(NewPairing)
async def new_pairing(request: web.Request) -> web.Response:
    """A one-time code (10 minutes) with which a phone becomes a camera of a camera user;
    shown once (also as the phone page's link, the code in its fragment, and its QR code),
    kept hashed."""
    new = await read_body(request, NewPairing)
    code = request.app[FLEET].pairings.create(organisation(request), new.camera_user_id, caller(request).user_id)
    audit(request, "phone pairing code created", camera_user=code.camera_user.name)
    link = f"{request.scheme}://{request.host}/web/camera.html#pair={code.code}"
    return web.json_response({"code": code.code, "expires_at": code.expires_at.isoformat(),
                              "camera_user": code.camera_user.name, "link": link,
                              "qr": segno.make(link, error="m").svg_data_uri(scale=4, border=2)}, status=201)


@routes.post("/api/pairings/redeem")
@access(Access.PUBLIC)
@body(Redemption)
async def redeem_pairing(request: web.Request) -> web.Response:
    """A phone redeems a code with its device public key; it gets its serial and the
    secret with which it picks up its dock package."""
    limit(request.app[FLEET].pairing_limiter, request.remote or "unknown", "this address")
    redemption = await read_body(request, Redemption)
    redeemed = request.app[FLEET].pairings.redeem(redemption.code, redemption.device_key)
    request.app[AUDIT].record("phone paired", organisation_id=redeemed.camera.organisation_id,
                              serial=redeemed.camera.serial, camera_user=redeemed.camera_user.name)
    return web.json_response({"serial": redeemed.camera.serial, "camera_user": redeemed.camera_user.name,
                              "pickup": redeemed.pickup}, status=201)


@routes.post("/api/pairings/package")
@access(Access.PUBLIC)
@body(Pickup)
async def pairing_package(request: web.Request) -> web.Response:
    """A paired phone's newest dock package (409 while its system has not docked it)."""
    limit(request.app[FLEET].pairing_limiter, request.remote or "unknown", "this address")
    pickup = await read_body(request, Pickup)
    return web.json_response(request.app[FLEET].pairings.package(pickup.pickup))
