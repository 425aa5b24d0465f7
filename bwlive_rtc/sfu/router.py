"""Router: the set of live producers and their consumers; the SFU's entry point."""
from __future__ import annotations

import asyncio
import logging
import time

from aiortc import RTCPeerConnection
from pyee.asyncio import AsyncIOEventEmitter

from ..kernel.errors import NotFound
from ..kernel.tokens import new_id
from .consumer import Consumer
from .peer import MediaNetwork, OfferError, answer, apply_offer, new_peer_connection
from .producer import LOST_STATES, Producer

log = logging.getLogger(__name__)


class UnknownStream(NotFound, LookupError):
    """No live stream (or consumer) with that id."""


class Router(AsyncIOEventEmitter):
    """Owns producers and consumers. Events: ``producer_added``, ``producer_removed``
    (with the Producer), ``consumer_added``, ``consumer_removed`` (with the Consumer)."""

    def __init__(self, consumer_timeout: float = 15.0, network: MediaNetwork = MediaNetwork()) -> None:
        super().__init__()
        self.producers: dict[str, Producer] = {}
        self.consumer_timeout = consumer_timeout
        self.network = network
        self._reaper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reaper = asyncio.ensure_future(self._reap_silent_consumers())

    async def publish(
        self, offer_sdp: str, camera: str, key_envelope: dict[str, object], organisation_ids: list[str],
        manifest: str | None = None,
    ) -> tuple[Producer, str]:
        """Accept a camera's offer; returns the producer and the SDP answer."""
        pc = new_peer_connection()
        producer = Producer(new_id(), camera, key_envelope, pc, organisation_ids, manifest)
        try:
            await apply_offer(pc, offer_sdp)
            kinds = {t.kind for t in pc.getTransceivers()}
            if "video" not in kinds:
                raise OfferError("the offer has no video track")
            producer.attach_tracks()
            sdp = await answer(pc, self.network)
        except Exception:
            await pc.close()
            raise
        self.producers[producer.id] = producer
        self._watch_uplink(producer, pc)
        self.emit("producer_added", producer)
        return producer, sdp

    async def resume(self, stream_id: str, offer_sdp: str) -> str:
        """Accept a camera's offer that continues its live stream over a new connection
        (make before break: the old one carries the stream until the new one connects);
        returns the SDP answer."""
        producer = self.producer(stream_id)
        pc = new_peer_connection()
        try:
            await apply_offer(pc, offer_sdp)
            missing = set(producer.tracks) - {t.kind for t in pc.getTransceivers()}
            if missing:
                raise OfferError(f"a resume offers every track of the stream; this one has no {', '.join(sorted(missing))}")
            sdp = await answer(pc, self.network)
        except Exception:
            await pc.close()
            raise
        if producer.id not in self.producers:  # the stream ended while we negotiated
            await pc.close()
            raise UnknownStream(f"stream {stream_id!r} ended")
        stale = producer.add_uplink(pc)
        self._watch_uplink(producer, pc)
        if stale is not None:
            await stale.close()
        return sdp

    def _watch_uplink(self, producer: Producer, pc: RTCPeerConnection) -> None:
        """A resume's connection takes the stream over once connected; the stream ends when
        its connection fails or closes with no resume under way (or a resume's fails after it)."""

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if producer.id not in self.producers:
                return
            if pc.connectionState == "connected" and pc is producer.pending:
                old = producer.take_uplink()
                log.info("stream %s continues over a new connection (resume %d)", producer.id, producer.resumes)
                await old.close()
            elif pc.connectionState in LOST_STATES:
                if pc is producer.pending:
                    producer.pending = None
                    if producer.pc.connectionState in LOST_STATES:
                        await self.unpublish(producer.id)
                elif pc is producer.pc and producer.pending is None:
                    await self.unpublish(producer.id)

    async def unpublish(self, stream_id: str) -> None:
        """End a live stream: its viewers' and its own peer connections close (all at once);
        ``producer_removed`` is emitted even if closing is cut short (a shutdown's deadline)."""
        producer = self.producers.pop(stream_id, None)
        if producer is None:
            return
        try:
            await asyncio.gather(*(self._drop_consumer(c) for c in list(producer.consumers.values())),
                                 return_exceptions=True)
            await producer.close()
        finally:
            self.emit("producer_removed", producer)

    def producer(self, stream_id: str) -> Producer:
        try:
            return self.producers[stream_id]
        except KeyError:
            raise UnknownStream(f"no live stream with id {stream_id!r}") from None

    async def subscribe(self, stream_id: str, offer_sdp: str, viewer: str | None = None) -> tuple[Consumer, str]:
        """Accept a viewer's offer for a live stream; returns the consumer and the answer.
        An offer with media needs at least one kind the stream has; one with only a data
        channel gets a data-only consumer. ``viewer`` (a user id) lets access changes end
        the subscription."""
        producer = self.producer(stream_id)
        pc = new_peer_connection()
        consumer = Consumer(new_id(), producer, pc, viewer)
        try:
            await apply_offer(pc, offer_sdp)
            media = pc.getTransceivers()
            if not media and pc.sctp is None:
                raise OfferError("the offer asks for neither media nor data")
            consumer.attach()
            if media and not consumer.tracks:
                raise OfferError("the offer asks for no media this stream has")
            sdp = await answer(pc, self.network)
        except Exception:
            await consumer.close()
            raise
        if producer.id not in self.producers:  # the camera left while we negotiated
            await consumer.close()
            raise UnknownStream(f"stream {stream_id!r} ended")
        producer.consumers[consumer.id] = consumer

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.unsubscribe(stream_id, consumer.id)

        self.emit("consumer_added", consumer)
        return consumer, sdp

    async def unsubscribe(self, stream_id: str, consumer_id: str) -> None:
        producer = self.producers.get(stream_id)
        consumer = producer.consumers.get(consumer_id) if producer else None
        if consumer is not None:
            await self._drop_consumer(consumer)

    async def _drop_consumer(self, consumer: Consumer) -> None:
        if consumer.producer.consumers.pop(consumer.id, None) is None:
            return
        await consumer.close()
        log.info("viewer %s of %s left: %s", consumer.id, consumer.producer.id,
                 ", ".join(f"{count} {name}" for name, count in consumer.counts.items()))
        self.emit("consumer_removed", consumer)

    async def drop_viewer(self, viewer: str, organisation_id: str) -> None:
        """End every subscription of ``viewer`` to streams of ``organisation_id``."""
        for producer in list(self.producers.values()):
            if organisation_id in producer.organisation_ids:
                for consumer in list(producer.consumers.values()):
                    if consumer.viewer == viewer:
                        await self._drop_consumer(consumer)

    async def _reap_silent_consumers(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.consumer_timeout / 3))
            deadline = time.monotonic() - self.consumer_timeout
            for producer in list(self.producers.values()):
                for consumer in list(producer.consumers.values()):
                    if consumer.last_seen < deadline:
                        log.info("dropping viewer %s of %s: no keepalive", consumer.id, producer.id)
                        await self._drop_consumer(consumer)

    async def close(self, within: float = 3.0) -> None:
        """End every live stream, all at once; peer connections that take longer than
        ``within`` seconds to close are abandoned (the process is stopping)."""
        if self._reaper is not None:
            self._reaper.cancel()
        closing = [asyncio.ensure_future(self.unpublish(stream_id)) for stream_id in list(self.producers)]
        if not closing:
            return
        _done, late = await asyncio.wait(closing, timeout=within)
        for task in late:
            log.warning("a live stream's peer connections did not close within %g s", within)
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=0.5)
