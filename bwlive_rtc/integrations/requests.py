"""What the integrations API reads: one model per body and per path."""
from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from ..kernel.requests import Id, RequestModel

MIN_SECRET, MAX_SECRET, MAX_URL = 16, 256, 2000


class NewIntegration(RequestModel):
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL)]
    # signs each event (HMAC-SHA-256); None: unsigned events
    secret: Annotated[str, StringConstraints(min_length=MIN_SECRET, max_length=MAX_SECRET)] | None = None


class IntegrationPath(RequestModel):
    integration_id: Id
