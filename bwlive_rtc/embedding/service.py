"""Minting viewer tokens for an API key, and revoking keys (``app[EMBEDDING]``)."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..console.groups import Groups
from ..kernel.access import Role
from ..kernel.audit import AuditLog
from ..kernel.clock import Clock
from ..kernel.errors import BadRequest, Forbidden
from ..kernel.events import ACCESS_CHANGED, EventBus
from ..kernel.tokens import new_token
from .keys import ApiKey, ApiKeys
from .requests import TokenRequest
from .tokens import TokenSigner

VIEWER_PREFIX = "apikey:"  # a token caller's user id: the key's id after it


def viewer_id(key_id: str) -> str:
    """Who a token's WHEP subscriptions and sockets belong to: its key."""
    return VIEWER_PREFIX + key_id


@dataclass
class Embedding:
    keys: ApiKeys
    signer: TokenSigner
    clock: Clock
    audit: AuditLog
    events: EventBus
    groups: Groups

    def revoke(self, organisation_id: str, key_id: str) -> ApiKey:
        """Revoke a key: its tokens are refused from the next request, and the sockets and
        subscriptions they opened end now."""
        key = self.keys.revoke(organisation_id, key_id)
        self.events.emit(ACCESS_CHANGED, viewer_id(key.id), organisation_id, False)
        return key

    def mint(self, key: ApiKey, wanted: TokenRequest) -> dict[str, object]:
        """A viewer token of ``key`` for ``wanted`` (audited as a use of the key)."""
        origin = self._origin(key, wanted.origin)
        role = Role(wanted.role or key.role.value)
        if role.rank > key.role.rank:
            raise Forbidden(f"this key gives at most the {key.role.value} role")
        scope = wanted.scope
        if not (scope.streams or scope.groups or scope.recordings):
            raise BadRequest("scope: name at least one stream, group or recording (\"*\" for all streams)")
        known = {group.id for group in self.groups.list(key.organisation_id)}
        unknown = [group for group in scope.groups if group not in known]
        if unknown:
            raise BadRequest(f"scope.groups: no group {unknown[0]!r} in this organisation")
        jti = new_token()
        claims: dict[str, object] = {"aud": origin, "org": key.organisation_id, "role": role.value,
                                     "scope": scope.model_dump(), "key": key.id, "jti": jti}
        if wanted.subject:
            claims["sub"] = wanted.subject
        token, expires = self.signer.issue(claims, self.clock.now(), wanted.minutes)
        self.keys.used(key)
        self.audit.record("viewer token issued", organisation_id=key.organisation_id, user_id=viewer_id(key.id),
                          user_name=f"API key {key.name}", key=key.prefix, role=role.value, origin=origin,
                          minutes=wanted.minutes, scope=scope.model_dump(), subject=wanted.subject, jti=jti)
        return {"token": token, "expires_at": expires.isoformat(), "origin": origin, "role": role.value}

    @staticmethod
    def _origin(key: ApiKey, wanted: str | None) -> str:
        if wanted is None:
            if len(key.origins) != 1:
                raise BadRequest(f"origin: name one of this key's origins ({', '.join(key.origins)})")
            return key.origins[0]
        if wanted not in key.origins:
            raise Forbidden(f"origin: {wanted} is not one of this key's origins ({', '.join(key.origins)})")
        return wanted


EMBEDDING = web.AppKey("embedding", Embedding)
