"""The front's view of a stream (and its viewers) that a media worker, or another node of
the cluster, holds: what the features read of a Producer or Consumer, kept from the
worker's answers and reports (a node's: from its directory entry); what they ask of one
goes to the worker (the node) over its ``Link``."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .link import Link


class RemoteViewer:
    """A viewer's subscription held by a worker."""

    def __init__(self, consumer_id: str, producer: RemoteStream, viewer: str | None, tracks: list[str]) -> None:
        self.id = consumer_id
        self.producer = producer
        self.viewer = viewer
        self.tracks = tuple(tracks)
        self._decrypting: bool | None = None

    def _keepalive(self, **body: Any) -> None:
        self.producer.worker.send_soon("POST", self.producer.viewer_path(self.id, "/keepalive"), body)

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
    """A camera's live stream held by ``worker`` (a media worker, or another node)."""

    def __init__(self, worker: Link, described: dict[str, Any]) -> None:
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

    def viewer_path(self, consumer_id: str, then: str = "") -> str:
        return f"/streams/{self.id}/viewers/{consumer_id}{then}"

    async def subscribe(self, offer_sdp: str, viewer: str | None) -> tuple[RemoteViewer, str]:
        """A new viewer of the stream, and the SDP answer (with the holder's ICE candidates)."""
        answer = await self.worker.call("POST", f"/streams/{self.id}/viewers", {"offer": offer_sdp, "viewer": viewer})
        return RemoteViewer(answer["consumer"], self, viewer, answer["tracks"]), str(answer["answer"])

    async def unsubscribe(self, consumer_id: str) -> None:
        await self.worker.call("DELETE", self.viewer_path(consumer_id))

    async def keepalive(self, consumer_id: str, decrypting: bool | None = None) -> None:
        """A viewer's keepalive (and whether it decrypts), answered: the holder may have dropped it."""
        await self.worker.call("POST", self.viewer_path(consumer_id, "/keepalive"), {"decrypting": decrypting})
