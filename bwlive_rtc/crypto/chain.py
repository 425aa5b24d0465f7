"""The checkpoint chain of a signed stream (docs/PROTOCOL.md §5.4).

At least every second the camera signs, with its device key, a checkpoint listing a
short hash of every sealed unit it made since the last one (video and audio frames,
data messages), each named by its SFrame (KID, counter), and the hash of the previous
checkpoint (the first names the manifest's). The chain is a running hash of everything
the camera encrypted: a verifier that has the manifest and the checkpoints knows, for
each sealed unit it holds, whether the camera made it, and which ones it lacks.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .b64 import b64url_decode, b64url_encode
from .signing import CHECKPOINT, SignatureError, sign_token, verify_token

FRAME_HASH_BYTES = 16


def frame_hash(sealed: bytes) -> bytes:
    """The first 16 bytes of SHA-256 of a sealed unit as it goes on the wire."""
    return hashlib.sha256(sealed).digest()[:FRAME_HASH_BYTES]


def link_hash(payload: bytes) -> bytes:
    """The chain's link to a manifest or checkpoint: SHA-256 of its payload bytes."""
    return hashlib.sha256(payload).digest()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    t: int  # ms since 1970, the camera's clock when it signed
    units: tuple[tuple[int, int, bytes], ...]  # (KID, counter, frame hash)
    final: bool = False  # the camera's closing checkpoint: the stream ended here, complete


class ChainWriter:
    """The camera's side: note each sealed unit, sign a checkpoint every second."""

    def __init__(self, device_key: Ed25519PrivateKey, manifest_payload: bytes) -> None:
        self._key = device_key
        self._prev = link_hash(manifest_payload)
        self._seq = 0
        self._runs: list[tuple[int, int, bytearray]] = []  # (KID, first counter, hashes)
        self._last: dict[int, int] = {}  # KID -> index of its current run

    def add(self, kid: int, counter: int, sealed: bytes) -> None:
        index = self._last.get(kid)
        if index is not None:
            _, first, hashes = self._runs[index]
            if first + len(hashes) // FRAME_HASH_BYTES == counter:
                hashes += frame_hash(sealed)
                return
        self._last[kid] = len(self._runs)
        self._runs.append((kid, counter, bytearray(frame_hash(sealed))))

    def checkpoint(self, now_ms: int, final: bool = False) -> str:
        """The next checkpoint token, covering every unit added since the last one;
        ``final``: the stream's closing one (PROTOCOL §5.4)."""
        payload: dict[str, object] = {"seq": self._seq, "t": now_ms, "prev": b64url_encode(self._prev),
                                      "frames": [{"kid": kid, "first": first, "hashes": b64url_encode(bytes(hashes))}
                                                 for kid, first, hashes in self._runs]}
        if final:
            payload["final"] = True
        token = sign_token(self._key, CHECKPOINT, payload)
        self._prev = link_hash(verify_token(token, CHECKPOINT, self._key.public_key())[0])
        self._seq += 1
        self._runs.clear()
        self._last.clear()
        return token


class ChainReader:
    """A verifier's side: accept checkpoints one after the other, in order. A live viewer
    that joined mid-stream (``joining``) takes its first checkpoint at any seq."""

    def __init__(self, device_key: Ed25519PublicKey, manifest_payload: bytes, started_at: int,
                 joining: bool = False) -> None:
        self._key = device_key
        self._prev = link_hash(manifest_payload)
        self._seq: int | None = None if joining else 0
        self._t = started_at
        self._closed = False

    def accept(self, token: str) -> Checkpoint:
        """The next checkpoint of the chain; SignatureError names what is wrong."""
        payload, data = verify_token(token, CHECKPOINT, self._key)
        try:
            seq, t, prev = int(data["seq"]), int(data["t"]), b64url_decode(str(data["prev"]))
            runs = [(int(run["kid"]), int(run["first"]), b64url_decode(str(run["hashes"]))) for run in data["frames"]]
        except (KeyError, ValueError, TypeError):
            raise SignatureError("malformed checkpoint") from None
        if self._closed:
            raise SignatureError(f"checkpoint {seq} comes after the camera's closing checkpoint")
        if self._seq is not None and seq != self._seq:
            raise SignatureError(f"checkpoint {seq} where checkpoint {self._seq} was due")
        if (self._seq is not None or seq == 0) and prev != self._prev:
            raise SignatureError(f"checkpoint {seq} does not follow checkpoint {seq - 1}")
        if t < self._t:
            raise SignatureError(f"checkpoint {seq} is dated before the one it follows")
        if any(len(hashes) % FRAME_HASH_BYTES for _, _, hashes in runs):
            raise SignatureError(f"malformed checkpoint {seq}: a hash list of the wrong length")
        self._prev, self._seq, self._t = link_hash(payload), seq + 1, t
        self._closed = data.get("final") is True
        return Checkpoint(seq, t, tuple(_units(runs)), self._closed)


def _units(runs: list[tuple[int, int, bytes]]) -> Iterator[tuple[int, int, bytes]]:
    for kid, first, hashes in runs:
        for i in range(len(hashes) // FRAME_HASH_BYTES):
            yield kid, first + i, hashes[i * FRAME_HASH_BYTES:(i + 1) * FRAME_HASH_BYTES]
