"""The server forwards and keeps only ciphertext, and holds no key material: no end-to-end
private key, no content key, no private signing key."""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import types
from pathlib import Path, PurePath

import av
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.camera.framecode import read_code
from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.rfc9605 import DecryptError
from bwlive_rtc.crypto.sframe import FrameDecryptor, Kind, StreamKey
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SIGNING_FILE, SigningKeyPair, SigningPublicKey
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.sfu.rewriter import SourcePacket
from bwlive_rtc.sfu.vp8 import Vp8Assembler
from bwlive_rtc.streams.hub import ROUTER
from tests.postgres import stored_metadata
from tests.processes import Camera, Process, bootstrap_admin, dock_camera


class Recorder:
    """Keeps what the SFU hands its consumers: the bytes it forwards."""

    def __init__(self) -> None:
        self.assembler = Vp8Assembler()
        self.frames: list[bytes] = []

    def deliver(self, source: SourcePacket) -> None:
        frame = self.assembler.add(source.packet)
        if frame is not None:
            self.frames.append(frame.data)


def reachable_from(root: object) -> list[object]:
    """Objects reachable from ``root``, not crossing modules, classes or the event loop."""
    stop = (types.ModuleType, type, asyncio.AbstractEventLoop, types.FrameType)
    seen = {id(vars(m)) for m in list(sys.modules.values()) if m is not None}  # globals
    todo, found = [root], []
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, stop):
            continue
        seen.add(id(obj))
        found.append(obj)
        todo.extend(gc.get_referents(obj))
    return found


def decodes_to_a_readable_picture(frames: list[bytes]) -> bool:
    decoder = av.CodecContext.create("libvpx", "r")
    for data in frames:
        try:
            for picture in decoder.decode(av.Packet(data)):
                if read_code(picture.to_ndarray()[: picture.height]) is not None:
                    return True
        except av.FFmpegError:
            continue
    return False


async def test_server_sees_only_ciphertext(tmp_path: Path, system_keys, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bwlive_rtc")
    keys_dir = tmp_path / "keys"
    system_keys.save(keys_dir)
    (keys_dir / "system-private.pem").unlink()  # the server's machine has only the public key
    bootstrap_admin(tmp_path / "data", keys_dir)
    settings = Settings(port=0, keys_dir=keys_dir, data_dir=tmp_path / "data")
    runner, port = await start_server(settings)
    app = runner.app
    camera = Camera(tmp_path, f"http://127.0.0.1:{port}", keys_dir, "Blind Test")
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        producer = next(iter(app[ROUTER].producers.values()))
        recorder = Recorder()
        unsubscribe = producer.tracks["video"].subscribe(recorder.deliver)
        producer.tracks["video"].request_keyframe()
        await asyncio.sleep(3)
        unsubscribe()
        state = reachable_from(app)
        small_bytes = {bytes(o) for o in state if isinstance(o, (bytes, bytearray)) and len(o) in (16, 32)}
        private_keys = [o for o in state if isinstance(o, ec.EllipticCurvePrivateKey)]
        envelope = KeyEnvelope.from_json(producer.key_envelope)
    finally:
        camera.stop()
        await runner.cleanup()

    assert len(recorder.frames) > 30
    # What the server forwards does not decode as the camera's picture ...
    assert not decodes_to_a_readable_picture(recorder.frames)
    with pytest.raises(DecryptError):
        FrameDecryptor(StreamKey.new()).decrypt(Kind.VIDEO, recorder.frames[0])
    # ... but it does once the operator's key opens the envelope.
    stream_key = envelope.open(system_keys)
    decryptor = FrameDecryptor(stream_key)
    assert decodes_to_a_readable_picture([decryptor.decrypt(Kind.VIDEO, f) for f in recorder.frames])

    # No key material in the server's reachable state, its database or its logs.
    assert (envelope.version, envelope.suite) == (2, 5)
    key_material = [stream_key.secret, stream_key.base_key(0), stream_key.base_key(2)]  # and the camera's base keys
    assert not small_bytes.intersection(key_material)
    system_public = system_keys.public.key.public_numbers()
    assert private_keys, "expected DTLS certificate keys in the walk (sanity check of the walk)"
    assert all(k.public_key().public_numbers() != system_public for k in private_keys)
    data = stored_metadata(tmp_path / "data")
    assert not [key for key in key_material if key in data or b64url_encode(key).encode() in data]
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert not [key for key in key_material if key.hex() in log_text or b64url_encode(key) in log_text]


class Opened:
    """Every file this process opens while ``watching`` (a process-wide audit hook: the
    server's event loop, its threads, whatever a library opens)."""

    def __init__(self) -> None:
        self.watching = False
        self.paths: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if self.watching and event == "open" and isinstance(args[0], (str, bytes, Path)):
            self.paths.append(os.fsdecode(args[0]))


async def test_the_server_holds_no_private_signing_key(tmp_path: Path) -> None:
    """The default single host: the keys directory holds the system's private keys, and the
    server beside it still never opens them, holds no Ed25519 private key, and verifies the
    camera that the system docked with them."""
    keys_dir, data_dir = tmp_path / "keys", tmp_path / "data"
    SystemKeyPair.generate().save(keys_dir)
    SigningKeyPair.generate().save(keys_dir)
    bootstrap_admin(data_dir, keys_dir)
    dock_file = dock_camera(data_dir, "Signed Sam", tmp_path / "sam.json", keys_dir=keys_dir)  # at the system
    opened = Opened()
    opened.watching = True
    runner, port = await start_server(Settings(port=0, keys_dir=keys_dir, data_dir=data_dir))
    camera = Process(["camera", "stream", "--server", f"http://127.0.0.1:{port}", "--dock-file", str(dock_file)],
                     cwd=tmp_path)
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        assert runner.app[ROUTER].producers  # the camera's certificate passed, on public keys alone
        state = reachable_from(runner.app)
    finally:
        camera.stop()
        await runner.cleanup()
        opened.watching = False
    assert not [o for o in state if isinstance(o, Ed25519PrivateKey)]
    assert [o for o in state if isinstance(o, SigningPublicKey)], "the walk finds the public signing key (sanity)"
    read = {PurePath(path).name for path in opened.paths}  # by name: however a path was spelt
    assert "system-signing-public.pem" in read  # (sanity: the hook sees the server's opens)
    assert SIGNING_FILE not in read and "system-private.pem" not in read
