"""The event bus: what happened to streams and to people's access, for whoever listens
(web clients, the database, SOC integrations, running subscriptions and streams). Payloads carry ids
and names, never media. Access changes (``SHARED``) reach the listeners of every node of
the system through the node bus (kernel/bus.py); stream events stay on the node where they
happened (its integrations queue them once)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pyee.asyncio import AsyncIOEventEmitter

from .bus import Bus, LocalBus, Message

STREAM_STARTED = "stream.started"
STREAM_ENDED = "stream.ended"
STREAM_ACKNOWLEDGED = "stream.acknowledged"
STREAM_HELP_REQUESTED = "stream.help_requested"  # the wearer asked for help (the camera said so in clear)
STREAM_ABANDONED = "stream_abandoned"  # a dead node's stream, ended by this node (after its stream.ended)
ACCESS_CHANGED = "access_changed"  # (user_id, organisation_id, still_member): role changed or membership ended
CAMERA_REVOKED = "camera_revoked"  # (camera_id): the camera may no longer stream; its live stream ends
SHARED = (ACCESS_CHANGED, CAMERA_REVOKED)  # their arguments are ids and flags (JSON)


@dataclass(frozen=True)
class StreamEvent:
    """One event about one stream; ``type`` is one of the names above."""

    type: str
    stream_id: str
    camera: str
    time: datetime
    details: dict[str, object] = field(default_factory=dict)
    organisation_ids: tuple[str, ...] = ()  # set where no live producer tells them (a stream a crash left open)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data


class EventBus(AsyncIOEventEmitter):
    """``bus.on(STREAM_STARTED, handler)``; ``bus.publish(event)`` emits on ``event.type``
    and on ``"*"`` (for listeners that want everything). ``emit`` of a ``SHARED`` event goes
    through ``nodes`` and is emitted on every node as it arrives (here too)."""

    def __init__(self, nodes: Bus | None = None) -> None:
        super().__init__()
        self.nodes = nodes or LocalBus()
        for name in SHARED:
            self.nodes.on(name, self._arrived(name))

    def _arrived(self, name: str) -> Callable[[Message], None]:
        def emit(message: Message) -> None:
            AsyncIOEventEmitter.emit(self, name, *message["args"])
        return emit

    def emit(self, event: str, *args: Any, **kwargs: Any) -> bool:
        if event in SHARED:
            self.nodes.publish(event, {"args": list(args)})
            return True
        return super().emit(event, *args, **kwargs)

    def publish(self, event: StreamEvent) -> None:
        self.emit(event.type, event)
        self.emit("*", event)
