"""The JSON a receiver gets: ids, names and times of one event, never media, keys or
positions (docs/INTEGRATIONS.md)."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from ..kernel.events import STREAM_ACKNOWLEDGED, STREAM_ENDED, STREAM_HELP_REQUESTED, STREAM_STARTED, StreamEvent

FORWARDED = frozenset({STREAM_STARTED, STREAM_ACKNOWLEDGED, STREAM_HELP_REQUESTED, STREAM_ENDED})
TEST_EVENT = "integration.test"


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, e.g. ``2026-01-05T09:00:00.123456Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _encode(document: dict[str, object]) -> str:
    def convert(value: object) -> object:
        if isinstance(value, datetime):
            return iso_utc(value)
        return str(value)

    return json.dumps(document, separators=(",", ":"), default=convert)


def event_body(event_type: str, stream_id: str | None, camera: str | None, time: datetime,
               details: dict[str, object]) -> tuple[str, str]:
    """A new event id and the JSON body carrying it."""
    event_id = str(uuid.uuid4())
    body = _encode({
        "id": event_id, "type": event_type, "stream_id": stream_id, "camera": camera,
        "time": iso_utc(time), "details": details,
    })
    return event_id, body


def stream_event_body(event: StreamEvent) -> tuple[str, str]:
    return event_body(event.type, event.stream_id, event.camera, event.time, dict(event.details))


def sample_event_body(now: datetime) -> tuple[str, str]:
    return event_body(TEST_EVENT, None, None, now, {"message": "A test event from bwlive: this receiver is reachable."})
