"""The camera's own recording: starting a stream starts it (if none runs), stopping the
stream ends it. Kept on the camera's storage as an IVF file of the VP8 frames."""
from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av


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

    def write(self, packet: av.Packet) -> None:
        """Keep one encoded frame (called from the encoding thread)."""
        with self._lock:
            if self._container is None:
                return
            copy = av.Packet(bytes(packet))
            copy.pts = copy.dts = packet.pts
            copy.time_base = Fraction(1, 90000)
            copy.stream = self._stream
            self._container.mux(copy)
            self.frames += 1

    def close(self) -> None:
        with self._lock:
            if self._container is not None:
                self._container.close()
                self._container = None
