"""API keys (admins) and viewer tokens (an integrator's backend, with its API key)."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, Role, access, caller, organisation
from ..kernel.audit import audit
from ..kernel.requests import body, path, read_body, read_path
from .authentication import API_KEY
from .requests import ApiKeyPath, NewApiKey, TokenRequest
from .service import EMBEDDING

routes = web.RouteTableDef()


@routes.get("/api/organisation/api-keys")
@access(Access.ADMIN)
async def list_api_keys(request: web.Request) -> web.Response:
    """The organisation's API keys (never their secrets)."""
    keys = request.app[EMBEDDING].keys.list(organisation(request))
    return web.json_response({"api_keys": [key.to_json() for key in keys]})


@routes.post("/api/organisation/api-keys")
@access(Access.ADMIN)
@body(NewApiKey)
async def create_api_key(request: web.Request) -> web.Response:
    """A new API key; its secret is in this answer only."""
    new = await read_body(request, NewApiKey)
    key, secret = request.app[EMBEDDING].keys.create(
        organisation(request), new.name, Role(new.role), tuple(dict.fromkeys(new.origins)), new.expires_in_days,
        caller(request).user_name)
    audit(request, "API key created", key=key.prefix, name=key.name, role=key.role.value, origins=list(key.origins))
    return web.json_response({**key.to_json(), "secret": secret}, status=201)


@routes.post("/api/organisation/api-keys/{key_id}/revoke")
@access(Access.ADMIN)
@path(ApiKeyPath)
async def revoke_api_key(request: web.Request) -> web.Response:
    """Revoke an API key: its viewer tokens stop working at once."""
    key = request.app[EMBEDDING].revoke(organisation(request), read_path(request, ApiKeyPath).key_id)
    audit(request, "API key revoked", key=key.prefix, name=key.name)
    return web.json_response(key.to_json())


@routes.post("/api/tokens")
@access(Access.API_KEY)
@body(TokenRequest)
async def mint_token(request: web.Request) -> web.Response:
    """A short-lived viewer token for the player (docs/EMBEDDING.md)."""
    wanted = await read_body(request, TokenRequest)
    return web.json_response(request.app[EMBEDDING].mint(request[API_KEY], wanted), status=201)
