"""The front's view of a stream (and its viewers) that a media worker holds: what the
features read of a Producer or Consumer, kept from the worker's answers and reports;
what they ask of one goes to the worker."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pool import Worker


class RemoteViewer:
    """A viewer's subscription held by a worker."""

    def __init__(self, consumer_id: str, producer: RemoteStream, viewer: str | None, tracks: list[str]) -> None:
        self.id = consumer_id
        self.producer = producer
        self.viewer = viewer
        self.tracks = tuple(tracks)
        self._decrypting: bool | None = None

    def _keepalive(self, **body: Any) -> None:
        self.producer.worker.send_soon("POST", f"/streams/{self.producer.id}/viewers/{self.id}/keepalive", body)

    @property
    def decrypting(self) -> bool | None:
        return self._decrypting

    @decrypting.setter
    def decrypting(self, value: bool | None) -> None:
        self._decrypting = value
        if value is not None:
            self._keepalive(decrypting=value, touch=False)

    def touch(self) -> None:
        self._keepalive()


class RemoteStream:
    """A camera's live stream held by worker ``worker``."""

    def __init__(self, worker: Worker, described: dict[str, Any]) -> None:
        self.worker = worker
        self.id: str = described["id"]
        self.camera: str = described["camera"]
        self.organisation_ids: list[str] = list(described["organisation_ids"])
        self.started_at = datetime.fromisoformat(described["started_at"])
        self.key_envelope: dict[str, object] = described["key_envelope"]
        self.manifest: str | None = described["manifest"]
        self.consumers: dict[str, RemoteViewer] = {}
        self.received_media = False
        self._last_arrival = time.monotonic()

    def report(self, quiet_for: float, received_media: bool) -> None:
        """The worker's latest word on the stream's media."""
        self._last_arrival = time.monotonic() - quiet_for
        self.received_media = received_media

    def quiet_for(self) -> float:
        return time.monotonic() - self._last_arrival

    def last_media_at(self) -> datetime:
        if not self.received_media:
            return self.started_at
        return datetime.now(UTC) - timedelta(seconds=self.quiet_for())

    def describe(self) -> dict[str, object]:
        return {"id": self.id, "camera": self.camera, "started_at": self.started_at.isoformat(),
                "key_envelope": self.key_envelope, "manifest": self.manifest}

    async def reachable_within(self, seconds: float) -> bool:
        answer = await self.worker.call("POST", f"/streams/{self.id}/reachable", {"seconds": seconds})
        return bool(answer["reachable"])

    def send_data(self, message: bytes | str) -> None:
        body = {"message": message.hex(), "binary": True} if isinstance(message, bytes) else {"message": message}
        self.worker.send_soon("POST", f"/streams/{self.id}/data", body)
