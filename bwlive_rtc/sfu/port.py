"""The shape of "a router" as the server's features see it: the in-process ``Router`` has
it, and so has the front's facade over media worker processes (``workers/``). Features
(signaling, streams, console, recordings, integrations) are written once, against these."""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

# Router events (with the producer or consumer as their argument)
PRODUCER_ADDED, PRODUCER_REMOVED = "producer_added", "producer_removed"
CONSUMER_ADDED, CONSUMER_REMOVED = "consumer_added", "consumer_removed"


class ConsumerPort(Protocol):
    """One viewer's subscription to one stream."""

    id: str
    viewer: str | None
    decrypting: bool | None  # None until the viewer says; while False its keyframe requests are ignored

    @property
    def producer(self) -> ProducerPort: ...

    @property
    def tracks(self) -> Collection[str]:
        """The media kinds forwarded to the viewer (none: a data-only subscription)."""

    def touch(self) -> None:
        """The viewer's keepalive."""


class ProducerPort(Protocol):
    """A camera's live stream."""

    @property
    def id(self) -> str: ...

    @property
    def camera(self) -> str: ...

    @property
    def organisation_ids(self) -> list[str]: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def key_envelope(self) -> dict[str, object]: ...

    @property
    def manifest(self) -> str | None: ...

    @property
    def consumers(self) -> Mapping[str, ConsumerPort]: ...

    @property
    def received_media(self) -> bool: ...

    def quiet_for(self) -> float:
        """Seconds since any media arrived."""

    def last_media_at(self) -> datetime: ...

    def describe(self) -> dict[str, object]: ...

    async def reachable_within(self, seconds: float) -> bool:
        """Whether the camera's data channel is open (waiting up to ``seconds``)."""

    def send_data(self, message: bytes | str) -> None:
        """A message for the camera (a relayed acknowledgement)."""


class RouterPort(Protocol):
    """Publishing, resuming, ending and watching live streams; events ``PRODUCER_ADDED``,
    ``PRODUCER_REMOVED``, ``CONSUMER_ADDED``, ``CONSUMER_REMOVED``."""

    @property
    def producers(self) -> Mapping[str, ProducerPort]: ...

    def on(self, event: str, f: Callable[..., Any]) -> Any: ...

    def remove_listener(self, event: str, f: Callable[..., Any]) -> None: ...

    async def publish(self, offer_sdp: str, camera: str, key_envelope: dict[str, object],
                      organisation_ids: list[str], manifest: str | None = None) -> tuple[ProducerPort, str]: ...

    async def resume(self, stream_id: str, offer_sdp: str) -> str: ...

    async def unpublish(self, stream_id: str) -> None: ...

    async def subscribe(self, stream_id: str, offer_sdp: str,
                        viewer: str | None = None) -> tuple[ConsumerPort, str]: ...

    async def unsubscribe(self, stream_id: str, consumer_id: str) -> None: ...

    async def drop_viewer(self, viewer: str, organisation_id: str) -> None: ...

    async def close(self, within: float = 3.0) -> None: ...
