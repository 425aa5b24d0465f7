"""Request headers, and the signature over timestamp and body (HMAC-SHA-256).

``Bwlive-Signature: v1=<hex HMAC-SHA-256(secret, "<timestamp>." + body)>`` where the
timestamp is ``Bwlive-Timestamp`` (Unix seconds), so a receiver can check both origin and
freshness."""
from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "Bwlive-Timestamp"
SIGNATURE_HEADER = "Bwlive-Signature"
EVENT_ID_HEADER = "Bwlive-Event-Id"
EVENT_TYPE_HEADER = "Bwlive-Event-Type"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def request_headers(event_id: str, event_type: str, body: bytes, timestamp: int, secret: str | None) -> dict[str, str]:
    """Headers for one delivery attempt; signed when the integration has a secret."""
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
    }
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, body)
    return headers
