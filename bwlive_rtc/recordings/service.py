"""The recordings feature at run time: one Recorder per live stream, the catalog,
the evidence store and the purger."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

from ..kernel.bus import DIRECTORY_TTL_S
from ..kernel.clock import Clock
from ..kernel.config import Settings
from ..kernel.events import StreamEvent
from ..sfu.port import PRODUCER_ADDED, PRODUCER_REMOVED
from ..sfu.producer import Producer
from ..sfu.router import Router
from ..storage.database import Database
from .catalog import Catalog
from .container import encode_frames, positions_path, read_media, read_positions
from .playback import frames_of_log, webm_of_log
from .recorder import Recorder, StoredSegment
from .recovery import adopt, left_open, recover
from .retention import Purger
from .rtplog import LOG_SUFFIX
from .storage import EvidenceStore, open_store
from .writer import Writer

log = logging.getLogger(__name__)

REGISTER_INTERVAL = 1.0  # seconds a stored segment may wait to be registered with others


class Recordings:
    """Records every stream the Router carries; serves what is recorded."""

    def __init__(self, settings: Settings, database: Database, clock: Clock) -> None:
        self.settings = settings
        self.catalog = Catalog(database.db)
        self.store: EvidenceStore = open_store(settings)
        self.purger = Purger(self.catalog, self.store, clock, timedelta(hours=settings.retention_hours))
        self.recorders: dict[str, Recorder] = {}
        self.writer: Writer | None = None
        self._router: Router | None = None
        self._unregistered: list[StoredSegment] = []  # stored, waiting to be registered together
        self._registering: asyncio.TimerHandle | None = None
        self._purging: asyncio.Task[None] | None = None
        self._stopping: set[asyncio.Future[None]] = set()

    async def start(self, live: Collection[str]) -> None:
        """Finish what a crash left open (not the recordings of ``live``, the streams other
        live nodes hold), then purge on schedule."""
        spool = self.settings.recordings_spool  # (streams begin on the real clock: producer.py)
        begun_before = datetime.now(UTC) - timedelta(seconds=DIRECTORY_TTL_S)
        await recover(self.catalog, self.store, spool, left_open(self.catalog, spool, live, begun_before))
        self._purging = asyncio.ensure_future(self.purger.run(self.settings.purge_interval))
        log.info("recordings go to %s, kept %g hours", self.store.description, self.settings.retention_hours)

    def record(self, router: Router) -> None:
        """Record each new stream of ``router``, this process's own (a media worker's, or
        the server's with the SFU in process)."""
        self.writer = Writer()
        self._router = router
        router.on(PRODUCER_ADDED, self._record)
        router.on(PRODUCER_REMOVED, self._on_producer_removed)

    async def recover_streams(self, _worker: int, stream_ids: list[str]) -> None:
        """A media worker died with these streams: finish their recordings from the spool."""
        await recover(self.catalog, self.store, self.settings.recordings_spool, stream_ids)

    async def adopt(self, event: StreamEvent) -> None:
        """Another node died with this stream (this node ended it): register what that
        node had stored of its recording but not yet registered, and close it."""
        try:
            adopted = await asyncio.to_thread(adopt, self.catalog, self.store, event.stream_id)
        except Exception:  # a listener of the event bus: say it, never raise
            log.exception("recording %s: could not adopt what its dead node stored", event.stream_id)
            return
        if adopted:
            log.warning("recording %s: its node died; registered %d segment(s) it had stored", event.stream_id, adopted)

    async def close(self) -> None:
        """Stop recording; returns once every recording is written out and stored."""
        if self._router is not None:
            self._router.remove_listener(PRODUCER_ADDED, self._record)
            self._router.remove_listener(PRODUCER_REMOVED, self._on_producer_removed)
        if self._purging is not None:
            self._purging.cancel()
        for producer in [r.producer for r in self.recorders.values()]:
            self._on_producer_removed(producer)
        await asyncio.gather(*self._stopping)
        self._register()
        if self.writer is not None:
            await asyncio.to_thread(self.writer.close)

    def _record(self, producer: Producer) -> None:
        self.catalog.begin(producer.id, producer.camera, producer.organisation_ids, producer.started_at, producer.key_envelope,
                           self.store.description, producer.manifest)
        assert self.writer is not None, "start() comes first"
        recorder = Recorder(producer, self.settings.recordings_spool, self.store, self._stored, self.writer)
        self.recorders[producer.id] = recorder
        recorder.start()

    def _stored(self, segment: StoredSegment) -> None:
        """A segment is in the evidence store: register it within a second, with the others
        stored meanwhile (one transaction, one database sync, for every recording)."""
        self._unregistered.append(segment)
        if self._registering is None:
            self._registering = asyncio.get_running_loop().call_later(REGISTER_INTERVAL, self._register)

    def _register(self) -> None:
        if self._registering is not None:
            self._registering.cancel()
            self._registering = None
        batch, self._unregistered = self._unregistered, []
        if batch:
            self.catalog.add_segments([segment.row() for segment in batch])
        for segment in batch:  # registered: the spool's copy has served its purpose
            for path in segment.spool_files:
                path.unlink(missing_ok=True)

    def _on_producer_removed(self, producer: Producer) -> None:
        recorder = self.recorders.pop(producer.id, None)
        if recorder is not None:
            task = asyncio.ensure_future(self._stop_recording(recorder))
            self._stopping.add(task)  # close() waits for every recording to be written out
            task.add_done_callback(self._stopping.discard)

    async def _stop_recording(self, recorder: Recorder) -> None:
        await recorder.stop()
        self._register()
        if any(recorder.directory.iterdir()):  # not all stored: the next start finishes it
            log.warning("recording %s: segments in %s are not stored yet", recorder.producer.id, recorder.directory)
            return
        recorder.directory.rmdir()
        self.catalog.finish(recorder.producer.id)

    def _segment_key(self, recording_id: str, seq: int) -> str:
        for segment in self.catalog.segment_rows(recording_id):
            if segment["seq"] == seq:
                return str(segment["key"])
        raise KeyError(seq)

    async def segment_frames(self, recording_id: str, seq: int) -> bytes:
        """One stored segment's frames (media and positions) in the player's wire form;
        KeyError if there is no such segment."""
        return await asyncio.to_thread(self._read_segment, self._segment_key(recording_id, seq))

    def _read_segment(self, key: str) -> bytes:
        if key.endswith(LOG_SUFFIX):
            return encode_frames(frames_of_log(self.store.get(key))[1])
        frames = read_media(self.store.get(key))  # the first format: WebM plus positions side file
        side = self.store.get(positions_path(PurePosixPath(key)).as_posix())
        return encode_frames(frames + read_positions(side.decode("ascii", errors="replace")))

    async def segment_file(self, recording_id: str, seq: int) -> bytes:
        """One stored segment as a WebM file (made from its log, or as stored in the first
        format); KeyError if there is none."""
        return await asyncio.to_thread(self._segment_file, self._segment_key(recording_id, seq))

    def _segment_file(self, key: str) -> bytes:
        data = self.store.get(key)
        return webm_of_log(data) if key.endswith(LOG_SUFFIX) else data

