"""The embedding feature: API keys, viewer tokens (the kernel's API-key authenticator and
a reader of tokens) and the origins CORS admits."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..console.routes import GROUPS
from ..kernel.access import API_KEY_AUTHENTICATOR, CameraAuthenticator, add_authenticator
from ..kernel.appkeys import CLOCK, DATABASE, EVENTS, SETTINGS
from ..kernel.audit import AUDIT
from ..kernel.cors import CORS_ORIGINS
from ..kernel.feature import Feature
from .authentication import ApiKeyAuthenticator, ViewerTokens
from .keys import ApiKeys
from .routes import routes
from .service import EMBEDDING, Embedding
from .tokens import TokenSigner


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    clock = app[CLOCK]
    keys = ApiKeys(app[DATABASE].db, clock)
    embedding = Embedding(keys, TokenSigner.in_directory(app[SETTINGS].data_dir), clock, app[AUDIT], app[EVENTS],
                          app[GROUPS])
    app[EMBEDDING] = embedding
    check_key: CameraAuthenticator = ApiKeyAuthenticator(embedding)
    app[API_KEY_AUTHENTICATOR] = check_key
    add_authenticator(app, ViewerTokens(embedding))
    app[CORS_ORIGINS] = keys.in_service
    yield


FEATURE = Feature("embedding", (routes,), _lifecycle)
