"""The camera's own recording: starting a stream starts it (if none runs), stopping the
stream ends it. Kept on the camera's storage as an IVF file of the VP8 frames. A stream
published afresh (its server went away) goes on in the same file, its times moved to
follow the last frame's (each stream's encoder counts from zero)."""
from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av

FRAME_STEP = 3000  # 1/90000 s: one frame at 30 fps, the gap put between two streams


class LocalRecording:
    def __init__(self, path: Path, width: int, height: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.frames = 0
        self._lock = threading.Lock()
        container = av.open(str(path), "w", format="ivf")
        self._container: av.container.OutputContainer | None = container
        self._stream = container.add_stream("libvpx", rate=30)
        self._stream.width, self._stream.height = width, height
        self._stream.time_base = Fraction(1, 90000)
        self._offset = 0  # added to the current stream's times
        self._last: int | None = None  # the last frame's time in the file

    def write(self, packet: av.Packet) -> None:
        """Keep one encoded frame (called from the encoding thread)."""
        with self._lock:
            if self._container is None:
                return
            assert packet.pts is not None
            if self._last is not None and packet.pts + self._offset <= self._last:  # a new stream's encoder
                self._offset = self._last + FRAME_STEP - packet.pts
            copy = av.Packet(bytes(packet))
            copy.pts = copy.dts = self._last = packet.pts + self._offset
            copy.time_base = Fraction(1, 90000)
            copy.stream = self._stream
            self._container.mux(copy)
            self.frames += 1

    def close(self) -> None:
        with self._lock:
            if self._container is not None:
                self._container.close()
                self._container = None
