"""Checking a recording against its camera's signatures, with nothing but the system's
public signing key (docs/RECORDINGS.md, "Evidence"; docs/SECURITY.md, "Chain of custody").

The checks run in a fixed order and the first that fails is the answer, one sentence:
the certificate and the manifest; every segment present, in order, intact, of this
recording and in time order; the checkpoint chain complete, in order and within the
certificate's validity; every sealed unit (video and audio frame, position) as a
checkpoint signed it; no unit the camera signed left out; the recording's timing keeping
pace with the camera's signed clock.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from aiortc.rtp import RtpPacket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..crypto.b64 import b64url_encode
from ..crypto.chain import ChainReader, frame_hash
from ..crypto.rfc9605 import DecryptError, decode_header
from ..crypto.sframe import Kind, clear_prefix_length
from ..crypto.signing import (
    CERTIFICATE,
    MANIFEST,
    Certificate,
    SignatureError,
    StreamManifest,
    envelope_digest,
    signing_key_id,
    token_payload,
)
from ..crypto.system_key import thumbprint_of
from ..recordings.rtplog import LOG_SUFFIX, RecordKind, records
from ..sfu.vp8 import Vp8Assembler

HEAD_MS = 5_000  # units signed this soon after the start may precede the recording (it starts at a key frame)
TAIL_MS = 2_000  # units may follow the camera's last checkpoint by this much (the stream ended before the next)
PACE_MS = 5_000  # how far the recording's timing may drift from the camera's signed clock
UNIT_NAMES = {Kind.VIDEO: "video frame", Kind.AUDIO: "audio frame", Kind.CAMERA_DATA: "position"}


class EvidenceError(ValueError):
    """The first thing wrong with a recording, as one sentence."""


@dataclass(frozen=True)
class Verified:
    """What a recording that verifies shows: who signed it and what was checked."""

    serial: str
    camera_user: str
    started_at: int  # ms since 1970, the camera's clock
    last_signed_at: int  # the last checkpoint's time, the camera's clock
    segments: int
    checkpoints: int
    units: int
    unsigned_tail: int  # units after the camera's last checkpoint (the stream ended before the next)
    system_thumbprint: str
    checkpoint_tokens: list[dict[str, Any]] = field(repr=False)  # [{segment, arrival_us, token}]
    positions: list[dict[str, Any]] = field(repr=False)  # [{segment, arrival_us, data}]
    closed: bool = False  # the last checkpoint is the camera's closing one: nothing is cut off the end

    def sentence(self) -> str:
        tail = f"; the last {self.unsigned_tail} units came after its last checkpoint" if self.unsigned_tail else ""
        end = ("; complete: the camera closed the stream" if self.closed else
               f"; the camera did not close the stream (it was lost, or the recording was cut short after "
               f"{_time(self.last_signed_at)})")
        return (f"Verified: {self.units} units in {self.segments} segments, as camera {self.serial} "
                f"({self.camera_user}) signed them from {_time(self.started_at)} to {_time(self.last_signed_at)} "
                f"in {self.checkpoints} checkpoints, certified by system key {self.system_thumbprint}{tail}{end}.")

    def summary(self) -> dict[str, Any]:
        return {"serial": self.serial, "camera_user": self.camera_user, "started_at": self.started_at,
                "last_signed_at": self.last_signed_at, "segments": self.segments, "checkpoints": self.checkpoints,
                "units": self.units, "unsigned_tail": self.unsigned_tail, "system_thumbprint": self.system_thumbprint,
                "closed": self.closed}


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class _Unit:
    kid: int
    counter: int
    hash: bytes
    segment: int
    arrival_us: int


@dataclass
class _Segment:
    seq: int  # from its header
    first_us: int | None = None
    last_us: int | None = None


@dataclass
class _Read:
    """What one pass over the segments found."""

    segments: list[_Segment] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)


def check_manifest(manifest: str | None, key_envelope: dict[str, Any],
                   system_key: Ed25519PublicKey) -> tuple[StreamManifest, Certificate, bytes]:
    """The manifest, its certificate and payload, signed up to ``system_key`` and naming
    the recording's key envelope."""
    if not manifest:
        raise EvidenceError("The recording has no stream manifest: it was made before streams were signed, "
                            "so nothing says which camera made it.")
    try:
        _, unsigned = token_payload(manifest, MANIFEST)
        _, issued = token_payload(str(unsigned.get("certificate", "")), CERTIFICATE)
    except SignatureError as exc:
        raise EvidenceError(f"The stream manifest is not readable: {exc}.") from None
    expected = signing_key_id(system_key)
    if issued.get("issuer") != expected:
        raise EvidenceError(f"The camera's certificate was issued by system key {thumbprint_of(str(issued.get('issuer')))}, "
                            f"not by the system key {thumbprint_of(expected)} it is checked against.")
    try:
        read = StreamManifest.read(manifest, system_key)
    except SignatureError as exc:
        raise EvidenceError(f"The stream manifest does not verify: {exc}.") from None
    if read[0].envelope != envelope_digest(key_envelope):
        raise EvidenceError(f"The stream manifest names another key envelope than the recording's: camera "
                            f"{read[0].serial} did not seal this recording's key.")
    return read


def verify_recording(recording_id: str, key_envelope: dict[str, Any], manifest: str | None,
                     segments: Iterable[tuple[str, bytes]], system_key: Ed25519PublicKey) -> Verified:
    """Check a recording (its segments as ``(name, bytes)`` in the listed order);
    EvidenceError names the first thing wrong."""
    stream, certificate, manifest_payload = check_manifest(manifest, key_envelope, system_key)
    read = _read_segments(recording_id, key_envelope, segments)
    _check_order(read.segments)
    signed, last_arrival, closed = _check_chain(read, certificate, stream, manifest_payload)
    tail = _check_units(read.units, signed, last_arrival, stream.serial)
    _check_complete(read.units, signed, stream)
    _check_pace(read.checkpoints, stream.started_at)
    last_t = max((entry["t"] for entry in read.checkpoints), default=stream.started_at)
    return Verified(stream.serial, stream.camera_user, stream.started_at, last_t, len(read.segments),
                    len(read.checkpoints), len(read.units), tail, thumbprint_of(signing_key_id(system_key)),
                    [{key: entry[key] for key in ("segment", "arrival_us", "token")} for entry in read.checkpoints],
                    read.positions, closed)


def _read_segments(recording_id: str, key_envelope: dict[str, Any], segments: Iterable[tuple[str, bytes]]) -> _Read:
    read = _Read()
    assembler = Vp8Assembler()
    envelope = json.dumps(key_envelope, sort_keys=True)
    for name, data in segments:
        if not name.endswith(LOG_SUFFIX):
            raise EvidenceError(f"Segment file {name} is not a segment log: recordings of the first format are not signed.")
        try:
            header, found, intact = records(data)
        except (ValueError, KeyError, TypeError):
            raise EvidenceError(f"Segment file {name} is not a bwlive segment log.") from None
        if intact != len(data):
            raise EvidenceError(f"Segment file {name} is damaged: its bytes from offset {intact} on fail their checksum.")
        if header.tags.get("BWLIVE_STREAM_ID") != recording_id:
            raise EvidenceError(f"Segment file {name} belongs to recording {header.tags.get('BWLIVE_STREAM_ID')!r}, "
                                f"not to {recording_id!r}.")
        try:
            same_key = json.dumps(json.loads(header.tags.get("BWLIVE_KEY_ENVELOPE", "")), sort_keys=True) == envelope
        except ValueError:
            same_key = False
        if not same_key:
            raise EvidenceError(f"Segment file {name} names another key envelope than the recording's.")
        segment = _Segment(header.seq)
        read.segments.append(segment)
        for record in found:
            if segment.first_us is None:
                segment.first_us = record.arrival_us
            if segment.last_us is not None and record.arrival_us < segment.last_us:
                raise EvidenceError(f"Segment {header.seq} goes back in time at {record.arrival_us / 1e6:.3f} s.")
            segment.last_us = record.arrival_us
            _take(read, assembler, header.seq, record.kind, record.arrival_us, record.body)
    if not read.segments:
        raise EvidenceError("The recording has no segments.")
    return read


def checkpoint_token(body: bytes) -> str | None:
    """The token of a recorded text message if it is a checkpoint (PROTOCOL §5.4)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("type") == "checkpoint" and isinstance(message.get("token"), str):
        return str(message["token"])
    return None


def position_entry(seq: int, arrival_us: int, body: bytes) -> dict[str, Any]:
    """A recorded encrypted position as the package's extract lists it."""
    return {"segment": seq, "arrival_us": arrival_us, "data": b64url_encode(body)}


def _take(read: _Read, assembler: Vp8Assembler, seq: int, kind: RecordKind, arrival_us: int, body: bytes) -> None:
    """Note one record: a checkpoint, or a sealed unit (a video frame once complete)."""
    if kind is RecordKind.TEXT:
        token = checkpoint_token(body)
        if token is not None:  # other text messages are not sealed and not evidence
            read.checkpoints.append({"segment": seq, "arrival_us": arrival_us, "token": token})
        return
    if kind is RecordKind.DATA:
        unit, unit_kind = body, Kind.CAMERA_DATA
        read.positions.append(position_entry(seq, arrival_us, body))
    else:
        packet = RtpPacket.parse(body)
        if kind is RecordKind.AUDIO:
            unit, unit_kind = packet.payload, Kind.AUDIO
        else:
            frame = assembler.add(packet)
            if frame is None or not frame.data:
                return
            unit, unit_kind = frame.data, Kind.VIDEO
    try:
        kid, counter, _ = decode_header(unit, clear_prefix_length(unit_kind, unit))
    except (DecryptError, ValueError):
        raise EvidenceError(f"Segment {seq}: a {UNIT_NAMES[unit_kind]} at {arrival_us / 1e6:.3f} s has no SFrame "
                            "header, so it is not one the camera sealed.") from None
    read.units.append(_Unit(kid, counter, frame_hash(unit), seq, arrival_us))


def _check_order(segments: list[_Segment]) -> None:
    seqs = [segment.seq for segment in segments]
    for place, seq in enumerate(seqs):
        if seq == place:
            continue
        if seqs.count(seq) > 1:
            raise EvidenceError(f"Segment {seq} is in the recording twice.")
        if place in seqs:
            raise EvidenceError(f"Segments are out of order: segment {seq} comes where segment {place} belongs.")
        raise EvidenceError(f"Segment {place} is missing: segment {place - 1} is followed by segment {seq}."
                            if place else f"Segment 0 is missing: the recording starts at segment {seq}.")
    for before, after in pairwise(segments):
        if before.last_us is not None and after.first_us is not None and after.first_us < before.last_us:
            raise EvidenceError(f"Segment {after.seq} begins before segment {before.seq} ends: the recording's times "
                                "go back.")


Signed = dict[tuple[int, int], tuple[bytes, int, int]]  # (KID, counter) -> (hash, checkpoint seq, its t)


def _check_chain(read: _Read, certificate: Certificate, stream: StreamManifest,
                 manifest_payload: bytes) -> tuple[Signed, int, bool]:
    """Every checkpoint, in order from the manifest, dated within the certificate: the
    units they sign, when the last one arrived, and whether it is the camera's closing one."""
    if not read.checkpoints:
        raise EvidenceError(f"The recording holds no checkpoint: nothing camera {stream.serial} signed covers its frames.")
    chain = ChainReader(certificate.device_public_key, manifest_payload, stream.started_at)
    expires = int(certificate.expires_at.timestamp() * 1000)
    signed: Signed = {}
    for entry in read.checkpoints:
        try:
            checkpoint = chain.accept(entry["token"])
        except SignatureError as exc:
            raise EvidenceError(f"Segment {entry['segment']}: {exc} (the chain of checkpoints is broken).") from None
        if checkpoint.t >= expires:
            raise EvidenceError(f"Segment {entry['segment']}: checkpoint {checkpoint.seq} is dated {_time(checkpoint.t)}, "
                                f"after the certificate of camera {stream.serial} expired.")
        entry["t"] = checkpoint.t
        for kid, counter, digest in checkpoint.units:
            signed[(kid, counter)] = (digest, checkpoint.seq, checkpoint.t)
    return signed, read.checkpoints[-1]["arrival_us"], checkpoint.final


def _check_units(units: list[_Unit], signed: Signed, last_arrival_us: int, serial: str) -> int:
    """Each unit as signed; returns how many follow the last checkpoint unsigned."""
    highest: dict[int, int] = {}
    for kid, counter in signed:
        highest[kid] = max(highest.get(kid, -1), counter)
    tail = 0
    for unit in units:
        name = f"{UNIT_NAMES[Kind(unit.kid & 0x3)]} {unit.counter}"
        found = signed.get((unit.kid, unit.counter))
        if found is not None:
            if found[0] != unit.hash:
                raise EvidenceError(f"Segment {unit.segment}: {name} is not as camera {serial} signed it "
                                    f"(checkpoint {found[1]} lists another hash).")
            continue
        if unit.counter > highest.get(unit.kid, -1) and unit.arrival_us <= last_arrival_us + TAIL_MS * 1000:
            tail += 1
            continue
        raise EvidenceError(f"Segment {unit.segment}: {name} was not signed by camera {serial}.")
    return tail


def _check_complete(units: list[_Unit], signed: Signed, stream: StreamManifest) -> None:
    """No unit the camera signed is left out, but those made before the recording's first
    unit of their kind in the stream's first seconds (it starts at a key frame)."""
    first: dict[int, int] = {}
    held = set()
    for unit in units:
        held.add((unit.kid, unit.counter))
        first[unit.kid] = min(first.get(unit.kid, unit.counter), unit.counter)
    missing = sorted((checkpoint_seq, kid, counter) for (kid, counter), (_, checkpoint_seq, t) in signed.items()
                     if (kid, counter) not in held
                     and not (counter < first.get(kid, 1 << 64) and t <= stream.started_at + HEAD_MS))
    if missing:
        checkpoint_seq, kid, counter = missing[0]
        raise EvidenceError(f"{len(missing)} units camera {stream.serial} signed are not in the recording, the first "
                            f"{UNIT_NAMES[Kind(kid & 0x3)]} {counter} (checkpoint {checkpoint_seq}).")


def _check_pace(checkpoints: list[dict[str, Any]], started_at: int) -> None:
    """The server's arrival times keep pace with the camera's signed clock."""
    offsets = [entry["arrival_us"] // 1000 - (entry["t"] - started_at) for entry in checkpoints]
    low = min(offsets)
    for entry, offset in zip(checkpoints, offsets, strict=True):
        if offset - low > PACE_MS:
            raise EvidenceError(f"Segment {entry['segment']}: the recording's timing does not match the camera's: a "
                                f"checkpoint signed at {_time(entry['t'])} is placed {(offset - low) / 1000:.1f} s "
                                "later than the camera's clock allows.")
