"""HTTP API for systems: the local system key, join codes, joining, listing, and an admin
replacing a system's end-to-end public key (e.g. one generated in the admin's browser,
web/admin-keys.js). Only public keys ever reach the server."""
from __future__ import annotations

from aiohttp import web

from ..crypto.b64 import b64url_encode
from ..crypto.system_key import SystemPublicKey, spki_der
from ..kernel.access import Access, access, caller, organisation
from ..kernel.audit import AUDIT, audit
from ..kernel.errors import BadRequest, NotFound
from ..kernel.requests import json_object
from .store import SYSTEM_KEY, SYSTEMS

routes = web.RouteTableDef()


def _public_key(pem: str) -> SystemPublicKey:
    try:
        return SystemPublicKey.from_pem(pem.encode())
    except ValueError as exc:
        raise BadRequest(f"public_key is not a P-256 public key in PEM: {exc}") from None


@routes.get("/api/system")
@access(Access.PUBLIC)
async def system(request: web.Request) -> web.Response:
    key = request.app[SYSTEM_KEY]
    return web.json_response(
        {"key_id": key.key_id, "thumbprint": key.thumbprint, "public_key": b64url_encode(spki_der(key.key))}
    )


@routes.put("/api/organisation/systems/{system_id}/public-key")
@access(Access.ADMIN)
async def change_public_key(request: web.Request) -> web.Response:
    """Body ``{"public_key": PEM}`` → ``{"system_id", "key_id", "thumbprint", "previous_key_id"}``."""
    body = await json_object(request, "public_key")
    key = _public_key(body["public_key"])
    system_id = request.match_info["system_id"]
    previous = request.app[SYSTEMS].change_key(organisation(request), system_id, key)
    if previous is None:
        raise NotFound("no such system in this organisation")
    audit(request, "system key changed", system_id=system_id, key_id=key.key_id, previous_key_id=previous)
    return web.json_response(
        {"system_id": system_id, "key_id": key.key_id, "thumbprint": key.thumbprint, "previous_key_id": previous}
    )


@routes.post("/api/organisation/join-codes")
@access(Access.ADMIN)
async def new_join_code(request: web.Request) -> web.Response:
    """A one-time authorization code with which a system joins this organisation."""
    code, expires = request.app[SYSTEMS].create_code(organisation(request), caller(request).user_id)
    audit(request, "system join code created")
    return web.json_response({"code": code, "expires_at": expires.isoformat()}, status=201)


@routes.get("/api/organisation/systems")
@access(Access.ADMIN)
async def list_systems(request: web.Request) -> web.Response:
    return web.json_response({"systems": request.app[SYSTEMS].list(organisation(request))})


@routes.post("/api/systems/join")
@access(Access.PUBLIC)
async def join_system(request: web.Request) -> web.Response:
    """A system joins an organisation with a one-time code, bringing its public key."""
    body = await json_object(request, "code", "name", "public_key")
    key = _public_key(body["public_key"])
    system_id, org_id = request.app[SYSTEMS].join(body["code"], body["name"], key)
    request.app[AUDIT].record("system joined", organisation_id=org_id, system=body["name"], key_id=key.key_id)
    return web.json_response({"system_id": system_id, "key_id": key.key_id, "thumbprint": key.thumbprint}, status=201)
