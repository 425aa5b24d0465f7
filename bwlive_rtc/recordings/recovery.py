"""At start-up, finish recordings a crash left open: segments still in the spool are
stored (the one being written is rewritten from what of it is readable), registered once
(rows are keyed by recording and sequence number), and the recording is closed."""
from __future__ import annotations

import asyncio
import io
import logging
import shutil
from pathlib import Path

import av

from .catalog import Catalog
from .container import SegmentWriter, positions_path, read_media, read_positions, read_tags
from .recorder import PART_SUFFIX, StoredSegment, store_segment
from .storage import EvidenceStore

log = logging.getLogger(__name__)


def _salvage(recording_id: str, path: Path, store: EvidenceStore) -> StoredSegment | None:
    """Store one spooled segment; a torn one is first rewritten from its readable part."""
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
    seq = int(final.name.split(".")[0])
    return store_segment(store, recording_id, seq, final, min(f.ms for f in frames), max(f.ms for f in frames), len(frames))


def _video_size(data: bytes) -> tuple[int, int] | None:
    try:
        with av.open(io.BytesIO(data)) as container:
            video = container.streams.video[0]
            return video.width, video.height
    except (av.FFmpegError, IndexError):
        return None


async def recover(catalog: Catalog, store: EvidenceStore, spool: Path) -> None:
    for recording_id in catalog.unfinished():
        directory = spool / recording_id
        segments = sorted(  # numbered ones only: a repair cut short is simply done again
            p for p in directory.glob("[0-9]*.webm*") if p.name.endswith((".webm", ".webm" + PART_SUFFIX))
        )
        for path in segments:
            stored = await asyncio.to_thread(_salvage, recording_id, path, store)
            if stored is not None:
                catalog.add_segment(recording_id, stored.seq, stored.key, stored.start_ms, stored.end_ms,
                                    stored.size, stored.frames)
        catalog.finish(recording_id)
        shutil.rmtree(directory, ignore_errors=True)
        log.warning("recording %s was interrupted; finished it from %d spooled segment(s)", recording_id, len(segments))
