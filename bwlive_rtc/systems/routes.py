"""HTTP API for systems: the local system's keys, join codes, joining, listing, and an admin
replacing a system's end-to-end public key (e.g. one generated in the admin's browser,
web/admin-keys.js). Only public keys ever reach the server: the end-to-end key and the
signing key with which a system certifies its cameras."""
from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import StringConstraints

from ..crypto.b64 import b64url_encode
from ..crypto.system_key import SystemPublicKey, spki_der
from ..crypto.system_signing import SigningPublicKey
from ..kernel.access import Access, access, caller, organisation
from ..kernel.audit import AUDIT, audit
from ..kernel.errors import BadRequest
from ..kernel.requests import Id, Name, RequestModel, body, path, read_body, read_path
from .store import SYSTEM_KEY, SYSTEM_SIGNING_KEY, SYSTEMS

routes = web.RouteTableDef()

PublicKeyPem = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
JoinCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
SigningKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{43}$")]  # b64u of 32 raw bytes


class NewPublicKey(RequestModel):
    public_key: PublicKeyPem


class SystemPath(RequestModel):
    system_id: Id


class Joining(RequestModel):
    code: JoinCode
    name: Name
    public_key: PublicKeyPem
    signing_key: SigningKey


def _public_key(pem: str) -> SystemPublicKey:
    try:
        return SystemPublicKey.from_pem(pem.encode())
    except ValueError as exc:
        raise BadRequest(f"public_key is not a P-256 public key in PEM: {exc}") from None


def _signing_key(b64u: str) -> SigningPublicKey:
    try:
        return SigningPublicKey.from_b64u(b64u)
    except ValueError as exc:
        raise BadRequest(f"signing_key: {exc}") from None


@routes.get("/api/system")
@access(Access.PUBLIC)
async def system(request: web.Request) -> web.Response:
    """The local system's public keys (the signing key's fields are null before it has one).
    What the server says here is only as good as the server: admins compare thumbprints
    with ``bwlive system keys show`` on the system host."""
    key, signing = request.app[SYSTEM_KEY], request.app[SYSTEM_SIGNING_KEY]
    return web.json_response(
        {"key_id": key.key_id, "thumbprint": key.thumbprint, "public_key": b64url_encode(spki_der(key.key)),
         "signing_key": signing.b64u() if signing else None, "signing_key_id": signing.key_id if signing else None,
         "signing_thumbprint": signing.thumbprint if signing else None}
    )


@routes.put("/api/organisation/systems/{system_id}/public-key")
@access(Access.ADMIN)
@path(SystemPath)
@body(NewPublicKey)
async def change_public_key(request: web.Request) -> web.Response:
    """Make a key the system's; its cameras take it once an admin confirms, key by key.
    → ``{"system_id", "key_id", "thumbprint", "previous_key_id", "previous_thumbprint"}``."""
    key = _public_key((await read_body(request, NewPublicKey)).public_key)
    system_id = read_path(request, SystemPath).system_id
    previous = request.app[SYSTEMS].change_key(organisation(request), system_id, key).key
    audit(request, "system key changed", system_id=system_id, key_id=key.key_id,
          previous_key_id=previous.key_id, thumbprint=key.thumbprint, previous_thumbprint=previous.thumbprint)
    return web.json_response({"system_id": system_id, "key_id": key.key_id,
                              "thumbprint": key.thumbprint, "previous_key_id": previous.key_id,
                              "previous_thumbprint": previous.thumbprint})


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
@body(Joining)
async def join_system(request: web.Request) -> web.Response:
    """A system joins an organisation with a one-time code, bringing its public keys."""
    joining = await read_body(request, Joining)
    key, signing = _public_key(joining.public_key), _signing_key(joining.signing_key)
    system_id, org_id = request.app[SYSTEMS].join(joining.code, joining.name, key, signing)
    request.app[AUDIT].record("system joined", organisation_id=org_id, system=joining.name, key_id=key.key_id,
                              thumbprint=key.thumbprint, signing_key_id=signing.key_id)
    return web.json_response({"system_id": system_id, "key_id": key.key_id, "thumbprint": key.thumbprint,
                              "signing_thumbprint": signing.thumbprint}, status=201)
