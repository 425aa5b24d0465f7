"""The two credentials of an integration. An API key (``Authorization: Bearer bwk_...``)
admits its backend to ``POST /api/tokens`` and nowhere else (the kernel's
``API_KEY_AUTHENTICATOR``). A viewer token (``Authorization: Bearer <JWT>``; on a
WebSocket the subprotocols ``bwlive.bearer, <JWT>``) names a caller restricted to its
scope, read afresh on every request: its key must still be in service, its origin one of
the key's and the request's own ``Origin``. Never in the URL."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ..kernel.access import Caller, Role, Scope, bearer_credential
from ..kernel.cors import CROSS_ORIGIN
from ..kernel.errors import BadRequest, Forbidden, Unauthorized
from ..protocol import API_KEY_PREFIX, SESSION_TOKEN_PREFIX, TOKEN_SUBPROTOCOL
from .keys import ApiKey
from .service import Embedding, viewer_id

API_KEY = web.RequestKey("api_key", ApiKey)
URL_TOKEN_NAMES = ("access_token", "token", "jwt")  # where a token must never be: URLs end up in logs
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _refuse_url_tokens(request: web.Request) -> None:
    named = [name for name in URL_TOKEN_NAMES if name in request.query]
    if named:
        raise BadRequest(f"send the token in the Authorization header (on a WebSocket: the subprotocol "
                         f"{TOKEN_SUBPROTOCOL}), never in the URL ('{named[0]}='): URLs end up in logs")


class ApiKeyAuthenticator:
    """Admits a request with an API key in service; keeps the key on the request."""

    def __init__(self, embedding: Embedding) -> None:
        self.embedding = embedding

    async def __call__(self, request: web.Request) -> None:
        _refuse_url_tokens(request)
        secret = bearer_credential(request)
        if secret is None:
            raise Unauthorized("send the API key as 'Authorization: Bearer bwk_...'", headers=CHALLENGE)
        key = self.embedding.keys.by_secret(secret)
        if key is None:
            raise Unauthorized("unknown API key (a viewer token cannot mint tokens)", headers=CHALLENGE)
        refusal = key.refusal(self.embedding.clock.now())
        if refusal:
            raise Unauthorized(refusal, headers=CHALLENGE)
        request[API_KEY] = key


class ViewerTokens:
    """The kernel's reader of viewer tokens (``add_authenticator``)."""

    def __init__(self, embedding: Embedding) -> None:
        self.embedding = embedding

    async def __call__(self, request: web.Request) -> Caller | None:
        _refuse_url_tokens(request)
        token = bearer_credential(request)
        if token is None or token.startswith(SESSION_TOKEN_PREFIX):
            return None  # none, or a console session's (the signed-in authenticator reads it)
        if token.startswith(API_KEY_PREFIX):
            raise Unauthorized("an API key only mints viewer tokens (POST /api/tokens, from your backend); "
                               "call the API with the token it gives", headers=CHALLENGE)
        claims = self.embedding.signer.read(token)
        key = self.embedding.keys.of_token(claims["key"])
        if key is None or key.organisation_id != claims["org"]:
            raise Unauthorized("this viewer token's API key no longer exists", headers=CHALLENGE)
        origin, audience = request.headers.get("Origin"), claims["aud"]
        if origin is not None and origin != audience:
            raise Forbidden(f"this viewer token is for {audience}, not for {origin}")
        if audience not in key.origins:
            raise Forbidden(f"{audience} is no longer an origin of the API key {key.prefix}")
        if origin is not None:
            request[CROSS_ORIGIN] = origin  # the page may read the answer, refusals included
        return self._caller(key, claims)

    def _caller(self, key: ApiKey, claims: dict[str, Any]) -> Caller:
        now, expires = self.embedding.clock.now(), datetime.fromtimestamp(claims["exp"], UTC)
        if expires <= now:
            raise Unauthorized(f"this viewer token expired at {expires.isoformat()}; ask your backend for a new one",
                               headers=CHALLENGE)
        refusal = key.refusal(now)
        if refusal:
            raise Unauthorized(refusal, headers=CHALLENGE)
        role = Role(claims["role"])
        if role.rank > key.role.rank:
            raise Unauthorized(f"this viewer token claims more than its key's {key.role.value} role",
                               headers=CHALLENGE)
        scope = claims["scope"]
        members = {member for group in self.embedding.groups.list(key.organisation_id)
                   if group.id in scope["groups"] for member in group.members}
        subject = claims.get("sub")
        return Caller(viewer_id(key.id), f"{subject} ({key.name})" if subject else key.name, key.organisation_id,
                      role, Scope(frozenset(scope["streams"]) | members, frozenset(scope["recordings"])), expires,
                      by_cookie=False)
