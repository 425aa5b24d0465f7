"""Pushes the list of live streams to every connected browser over WebSockets, each
seeing only the streams of the organisation it signed in to (a viewer token: those of its
scope). The list is every node's: this node's producers, and the other nodes' streams
from the directory of the node bus (kernel/bus.py), followed as they announce changes and
checked every ``DIRECTORY_CHECK_S`` (a dead node's streams go when its entry expires)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import WSCloseCode, web

from ..kernel.access import Caller
from ..kernel.bus import Bus, Message
from ..protocol import TOKEN_SUBPROTOCOL
from ..sfu.port import PRODUCER_ADDED, PRODUCER_REMOVED, ProducerPort, RouterPort

log = logging.getLogger(__name__)
LOST_AFTER_S = 2.0  # a stream without media this long is shown as "camera lost"
FIRST_MEDIA_GRACE_S = 10.0  # ... but one still connecting (no media yet) gets this long
DIRECTORY_CHECK_S = 2.0  # how often the other nodes' streams are read again
STREAMS_CHANNEL = "streams"  # {}: a node's streams changed in the directory
NODE_ONLY = ("organisation_ids", "node", "node_url")  # what the nodes read in the directory, browsers never
BROADCAST_CHANNEL = "console"  # {"organisation_id", "message"}: for the organisation's signed-in browsers


@dataclass(eq=False)
class _Watcher:
    socket: web.WebSocketResponse
    caller: Caller
    organisation_id: str


class StreamHub:
    """Sends ``{"type": "streams", "streams": [...]}`` on connect and on every change."""

    def __init__(self, router: RouterPort, bus: Bus, node_url: Callable[[], str] = str) -> None:
        self.router, self.bus = router, bus
        self._node_url = node_url  # where the other nodes reach this one (known once it listens)
        self._others: list[Message] = []  # the other nodes' streams, as last read
        self._gone: list[Message] = []  # other nodes' streams gone since ``check_directory`` last said
        self._watchers: set[_Watcher] = set()
        self.acknowledgements: dict[str, dict[str, object]] = {}  # stream id -> last {"by", "at"}
        self.lost: dict[str, str] = {}  # stream id -> when its last media arrived, while silent
        self.help: dict[str, str] = {}  # stream id -> when its wearer asked for help, until acknowledged
        router.on(PRODUCER_ADDED, self._changed)
        router.on(PRODUCER_REMOVED, self._changed)
        router.on(PRODUCER_REMOVED, self._forget)
        bus.on(STREAMS_CHANNEL, self._follow)
        bus.on(BROADCAST_CHANNEL, self._send_to_organisation)

    def _forget(self, producer: ProducerPort) -> None:
        self.acknowledgements.pop(producer.id, None)
        self.lost.pop(producer.id, None)
        self.help.pop(producer.id, None)

    def _entry(self, producer: ProducerPort) -> Message:
        return {**producer.describe(), "node": self.bus.node, "node_url": self._node_url(),
                "organisation_ids": list(producer.organisation_ids),
                "acknowledged": self.acknowledgements.get(producer.id), "lost_at": self.lost.get(producer.id),
                "help_requested_at": self.help.get(producer.id)}

    def _visible(self, organisation_id: str, who: Caller | None) -> list[Message]:
        """The directory entries of the organisation's live streams on every node (those
        ``who`` sees, if given), oldest first."""
        entries = [self._entry(p) for p in self.router.producers.values()] + self._others
        return sorted(
            (e for e in entries
             if organisation_id in e["organisation_ids"] and (who is None or who.sees_stream(e["id"], e["camera"]))),
            key=lambda e: str(e["started_at"]),
        )

    def snapshot(self, organisation_id: str, who: Caller | None = None) -> dict[str, object]:
        """The organisation's live streams on every node (those ``who`` sees, if given)."""
        return {"type": "streams", "streams": [{k: v for k, v in e.items() if k not in NODE_ONLY}
                                               for e in self._visible(organisation_id, who)]}

    def find(self, organisation_id: str, who: Caller, stream_id: str) -> Message | None:
        """The directory entry (with its ``node``) of a live stream on any node, if the
        organisation receives it and ``who`` sees it."""
        return next((e for e in self._visible(organisation_id, who) if e["id"] == stream_id), None)

    async def _other_nodes(self) -> list[Message]:
        return [entry for node, entries in (await self.bus.streams()).items() if node != self.bus.node
                for entry in entries]

    async def _read_others(self) -> bool:
        """Read the other nodes' streams again, keeping those gone since; whether they changed."""
        others = await self._other_nodes()
        if others == self._others:
            return False
        ids = {entry["id"] for entry in others}
        self._gone += [entry for entry in self._others if entry["id"] not in ids]
        self._others = others
        return True

    async def _follow(self, _message: Message) -> None:
        """A node's streams changed (this one's too): read the others' and push the list."""
        await self._read_others()
        await self._push()

    async def check_directory(self) -> list[Message]:
        """Read the other nodes' streams again; push the list if they changed. Returns the
        streams gone since the last call, also those a read on a node's word found gone:
        ended by their node, or gone without a word (their node stopped refreshing its
        entry)."""
        if await self._read_others():
            await self._push()
        gone, self._gone = self._gone, []
        return gone

    async def check_silence(self, quiet_after: float = LOST_AFTER_S) -> None:
        """Mark streams whose camera sent no media for ``quiet_after`` seconds as lost
        (with the time of their last media), and clear the mark when media resumes; push
        the list when anything changed. A stream that brought no media yet (still
        connecting) is given ``FIRST_MEDIA_GRACE_S``."""
        changed = False
        for producer in list(self.router.producers.values()):
            limit = quiet_after if producer.received_media else max(quiet_after, FIRST_MEDIA_GRACE_S)
            silent = producer.quiet_for() >= limit
            if silent and producer.id not in self.lost:
                self.lost[producer.id] = producer.last_media_at().isoformat()
                changed = True
            elif not silent and self.lost.pop(producer.id, None) is not None:
                changed = True
        if changed:
            await self._changed(None)

    async def acknowledge(self, stream_id: str, by: str, at: str) -> None:
        """Remember the stream's last acknowledgement (it answers a help request) and show
        it to every browser."""
        self.acknowledgements[stream_id] = {"by": by, "at": at}
        self.help.pop(stream_id, None)
        await self._changed(None)

    async def request_help(self, stream_id: str, at: str) -> bool:
        """The stream's wearer asks for help: shown to every browser until someone
        acknowledges the stream. False when a request is already waiting (nothing new)."""
        if stream_id in self.help:
            return False
        self.help[stream_id] = at
        await self._changed(None)
        return True

    async def broadcast(self, organisation_id: str, message: dict[str, object]) -> None:
        """Send a message to every browser signed in to the organisation, on every node
        (not to viewer tokens, which see streams only)."""
        self.bus.publish(BROADCAST_CHANNEL, {"organisation_id": organisation_id, "message": message})

    async def _send_to_organisation(self, sent: Message) -> None:
        await asyncio.gather(
            *(w.socket.send_json(sent["message"]) for w in list(self._watchers)
              if w.organisation_id == sent["organisation_id"] and w.caller.scope is None and not w.socket.closed),
            return_exceptions=True,
        )

    async def _changed(self, _producer: object) -> None:
        """This node's streams changed: into the directory, and every node is told (if the
        bus is away, its heartbeat writes them when it is back)."""
        try:
            await self.bus.set_streams([self._entry(p) for p in self.router.producers.values()])
        except Exception:
            log.exception("the stream directory could not be written")
        self.bus.publish(STREAMS_CHANNEL, {})

    async def _push(self) -> None:
        await asyncio.gather(
            *(w.socket.send_json(self.snapshot(w.organisation_id, w.caller))
              for w in list(self._watchers) if not w.socket.closed),
            return_exceptions=True,
        )

    async def serve(self, request: web.Request, who: Caller, organisation_id: str,
                    lifetime: float | None = None) -> web.WebSocketResponse:
        """Push the list to ``who`` until the socket closes, or ``lifetime`` seconds (a
        viewer token's) have passed: then it is closed with 4002, to be opened afresh."""
        ws = web.WebSocketResponse(heartbeat=20, protocols=(TOKEN_SUBPROTOCOL,))  # a token's, if it came so
        await ws.prepare(request)
        watcher = _Watcher(ws, who, organisation_id)
        self._watchers.add(watcher)
        expiry = None if lifetime is None else asyncio.get_running_loop().call_later(
            max(lifetime, 0.0), lambda: asyncio.ensure_future(ws.close(code=4002, message=b"token expired")))
        try:
            await ws.send_json(self.snapshot(organisation_id, who))
            async for _ in ws:  # browsers send nothing yet; keep the socket open
                pass
        finally:
            self._watchers.discard(watcher)
            if expiry is not None:
                expiry.cancel()
        return ws

    async def disconnect(self, user_id: str, organisation_id: str) -> None:
        """Close a user's sockets (their access changed); the page reconnects and is
        authorised afresh."""
        for watcher in [w for w in self._watchers if (w.caller.user_id, w.organisation_id) == (user_id, organisation_id)]:
            await watcher.socket.close(code=4001, message=b"access changed")

    async def close(self) -> None:
        """The server is stopping: say so to every page (1001 going away)."""
        for watcher in list(self._watchers):
            await watcher.socket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")


ROUTER: web.AppKey[RouterPort] = web.AppKey("router")
STREAM_HUB = web.AppKey("stream_hub", StreamHub)
