"""At start-up, finish recordings a crash left open (this node's own, and those of nodes
known dead: ``left_open``): segments still in the spool are stored (the one being written
is cut back to its last intact block), registered once (rows are keyed by recording and
sequence number), and the recording is closed. Segments of the first format (WebM) left by
an older server are repaired and stored too."""
from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

import av

from .catalog import Catalog
from .container import SegmentWriter, positions_path, read_media, read_positions, read_tags
from .recorder import PART_SUFFIX, StoredSegment, segment_key, store_log
from .rtplog import LOG_SUFFIX, summarize
from .storage import EvidenceStore

log = logging.getLogger(__name__)


def _salvage_log(recording_id: str, path: Path, store: EvidenceStore) -> StoredSegment | None:
    """Store one spooled segment log; a torn one is first cut back to its intact blocks."""
    try:
        summary, intact = summarize(path.read_bytes())
    except ValueError:  # not even its header was written
        path.unlink()
        return None
    if not summary.media:
        path.unlink()
        return None
    final = path.with_name(path.name.removesuffix(PART_SUFFIX))
    if path.name.endswith(PART_SUFFIX):
        with open(path, "r+b") as file:
            file.truncate(intact)
            os.fsync(file.fileno())
        path.replace(final)
    return store_log(store, recording_id, final, summary)


def _salvage_webm(recording_id: str, path: Path, store: EvidenceStore) -> StoredSegment | None:
    """Store one spooled segment of the first format; a torn one is first rewritten from its readable part."""
    data = path.read_bytes()
    side = positions_path(path)
    frames = read_media(data) + (read_positions(side.read_text("ascii", errors="replace")) if side.exists() else [])
    if not frames:
        return None
    final = path.with_name(path.name.removesuffix(PART_SUFFIX))
    if path.name.endswith(PART_SUFFIX):
        size = _video_size(data)
        if size is None:
            return None
        writer = SegmentWriter(final.with_name("repair-" + final.name), size, read_tags(data))
        for frame in sorted(frames, key=lambda f: (f.ms, f.kind)):
            writer.write(frame)
        writer.close()  # the torn files stay until the repaired ones replace them
        writer.positions_path.replace(side)
        writer.path.replace(final)
        path.unlink()
    store.put(side, segment_key(recording_id, side.name))
    store.put(final, segment_key(recording_id, final.name))
    return StoredSegment(recording_id, int(final.name.split(".")[0]), segment_key(recording_id, final.name),
                         min(f.ms for f in frames), max(f.ms for f in frames),
                         final.stat().st_size + side.stat().st_size, len(frames), (final, side))


def _video_size(data: bytes) -> tuple[int, int] | None:
    try:
        with av.open(io.BytesIO(data)) as container:
            video = container.streams.video[0]
            return video.width, video.height
    except (av.FFmpegError, IndexError):
        return None


def _spooled(directory: Path) -> list[Path]:
    """Numbered segments only: a repair cut short is simply done again."""
    suffixes = tuple(s + p for s in (LOG_SUFFIX, ".webm") for p in ("", PART_SUFFIX))
    return sorted(p for p in directory.glob("[0-9]*") if p.name.endswith(suffixes))


def register_stored(catalog: Catalog, store: EvidenceStore, recording_id: str) -> int:
    """Register the segment logs of a recording that are in the store but not in the
    catalog (its node died between the two: it registers in batches, a second late at
    most). Returns how many. Blocks: run it off the event loop."""
    listed = {segment["key"] for segment in catalog.segment_rows(recording_id)}
    rows = []
    for key in store.keys(recording_id):
        name = key.rsplit("/", 1)[-1]
        if key in listed or not name.endswith(LOG_SUFFIX) or not name.split(".")[0].isdigit():
            continue
        data = store.get(key)
        try:
            summary, _ = summarize(data)
        except ValueError:  # not a log after all: left as it is
            continue
        if summary.media:
            rows.append(StoredSegment(recording_id, int(name.split(".")[0]), key, summary.start_ms, summary.end_ms,
                                      len(data), summary.units, ()).row())
    catalog.add_segments(rows)
    return len(rows)


def adopt(catalog: Catalog, store: EvidenceStore, recording_id: str) -> int:
    """A recording whose node died (another node ended its stream): ``register_stored``,
    and close it as far as stored (one without any segment is left to a start-up's
    recovery). What was still in its spool waits for that node's next start. Returns how
    many segments were registered. Blocks: run it off the event loop."""
    adopted = register_stored(catalog, store, recording_id)
    if catalog.segment_rows(recording_id):
        catalog.finish(recording_id)
    return adopted


def left_open(catalog: Catalog, spool: Path, live: Collection[str], started_before: datetime) -> list[str]:
    """The recordings a node starting finishes: its own that a crash left open (their spool
    is in its data directory: the node that wrote them is gone, as this one holds the
    directory's lock), and the unfinished ones no live node holds (their streams are not in
    the node bus's directory, ``live``) begun before ``started_before`` (a stream just begun
    may not be in the directory yet). Never another live node's."""
    own = sorted(p.name for p in spool.iterdir() if p.is_dir()) if spool.is_dir() else []
    return own + [i for i in catalog.unfinished(started_before) if i not in live and i not in own]


async def recover(catalog: Catalog, store: EvidenceStore, spool: Path, recording_ids: Collection[str]) -> None:
    """Finish these recordings: what the store holds of each is registered
    (``register_stored``: a dead node's), what this node's spool holds is stored and
    registered, then the recording is closed (again, if another node closed it meanwhile:
    its end follows its segments). A spool whose recording is gone from the catalog is
    dropped."""
    for recording_id in recording_ids:
        directory = spool / recording_id
        if not catalog.exists(recording_id):
            shutil.rmtree(directory, ignore_errors=True)
            log.warning("recording %s is not in the catalog any more; dropped its spool", recording_id)
            continue
        await asyncio.to_thread(register_stored, catalog, store, recording_id)
        segments = _spooled(directory) if directory.is_dir() else []
        for path in segments:
            salvage = _salvage_log if LOG_SUFFIX in path.name else _salvage_webm
            stored = await asyncio.to_thread(salvage, recording_id, path, store)
            if stored is not None:
                catalog.add_segments([stored.row()])
        catalog.finish(recording_id)
        shutil.rmtree(directory, ignore_errors=True)
        log.warning("recording %s was interrupted; finished it from %d spooled segment(s)", recording_id, len(segments))
