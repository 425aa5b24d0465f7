"""The evidence package: one recording as a zip file the receiving party can check offline
(docs/RECORDINGS.md, "Evidence")::

    README.txt                  how to verify, for the receiving party
    recording.json              what the server says of the recording: id, camera user,
                                times, key envelope, its segments in order; format
    manifest.token              the camera's signed stream manifest (PROTOCOL §5.3)
    certificate.token           the camera's certificate, signed by the system (§5.1)
    system-signing-public.pem   the system's public signing key, as the server knows it
    checkpoints.jsonl           every checkpoint (§5.4) as recorded: segment, arrival, token
    positions.jsonl             every encrypted position as recorded: segment, arrival, data
    audit.jsonl                 the audit log's entries about this recording, oldest first
    segments/NNNNNN.rtp         the segment logs, byte for byte as stored

Only the segments, the manifest and the certificate carry the camera's and the system's
signatures; the checkpoints and positions files are extracts of the segments (the
verifier checks they agree), the audit entries and recording.json are the server's word.
"""
from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..crypto.signing import MANIFEST, SignatureError, token_payload
from ..crypto.system_signing import SigningPublicKey
from ..recordings.rtplog import RecordKind, records
from .readme import readme
from .verify import EvidenceError, Verified, checkpoint_token, position_entry, verify_recording

FORMAT = "bwlive-evidence-v1"
INDEX = "recording.json"
MANIFEST_FILE = "manifest.token"
CERTIFICATE_FILE = "certificate.token"
SIGNING_KEY_FILE = "system-signing-public.pem"
CHECKPOINTS_FILE = "checkpoints.jsonl"
POSITIONS_FILE = "positions.jsonl"
AUDIT_FILE = "audit.jsonl"
README_FILE = "README.txt"
SEGMENTS_DIR = "segments/"
RECORDING_FIELDS = ("id", "camera", "started_at", "ended_at", "duration_ms", "state", "key_envelope")


def _jsonl(entries: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(entry, sort_keys=True).encode() + b"\n" for entry in entries)


def write_package(out: BinaryIO, *, recording: dict[str, Any], organisation_id: str, segments: Iterable[tuple[str, bytes]],
                  signing_key: SigningPublicKey | None, audit: list[dict[str, Any]], exported_at: str,
                  exported_by: str) -> None:
    """Write a recording (catalog row with ``segments``, its files as ``(key, bytes)`` in
    order) as an evidence package to ``out``."""
    checkpoints: list[dict[str, Any]] = []
    positions: list[dict[str, Any]] = []
    listed = []
    manifest = recording.get("manifest") or ""
    with zipfile.ZipFile(out, "w") as package:
        for row, (key, data) in zip(recording["segments"], segments, strict=True):
            name = SEGMENTS_DIR + key.rpartition("/")[2]
            package.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)  # stored as is: ciphertext
            listed.append({"seq": row["seq"], "file": name, "start_ms": row["start_ms"], "end_ms": row["end_ms"],
                           "size": len(data)})
            try:
                header, found, _ = records(data)
            except ValueError:
                continue  # a segment of the first format: no extracts
            for record in found:
                token = checkpoint_token(record.body) if record.kind is RecordKind.TEXT else None
                if token is not None:
                    checkpoints.append({"segment": header.seq, "arrival_us": record.arrival_us, "token": token})
                elif record.kind is RecordKind.DATA:
                    positions.append(position_entry(header.seq, record.arrival_us, record.body))
        index = {"format": FORMAT, "recording": {name: recording.get(name) for name in RECORDING_FIELDS},
                 "organisation_id": organisation_id, "segments": listed,
                 "system_signing_key": signing_key.b64u() if signing_key else None,
                 "system_thumbprint": signing_key.thumbprint if signing_key else None,
                 "exported_at": exported_at, "exported_by": exported_by}
        package.writestr(INDEX, json.dumps(index, indent=2, sort_keys=True))
        package.writestr(MANIFEST_FILE, manifest)
        package.writestr(CERTIFICATE_FILE, _certificate_of(manifest))
        if signing_key is not None:
            package.writestr(SIGNING_KEY_FILE, signing_key.pem())
        package.writestr(CHECKPOINTS_FILE, _jsonl(checkpoints))
        package.writestr(POSITIONS_FILE, _jsonl(positions))
        package.writestr(AUDIT_FILE, _jsonl(audit))
        package.writestr(README_FILE, readme(recording, signing_key, len(listed)))


def _certificate_of(manifest: str) -> str:
    try:
        return str(token_payload(manifest, MANIFEST)[1].get("certificate", ""))
    except SignatureError:
        return ""


@dataclass(frozen=True)
class Package:
    """An evidence package opened for reading."""

    path: Path
    index: dict[str, Any]
    names: frozenset[str]

    @classmethod
    def open(cls, path: Path) -> Package:
        try:
            with zipfile.ZipFile(path) as package:
                index = json.loads(package.read(INDEX))
                names = frozenset(package.namelist())
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, KeyError, ValueError):
            raise EvidenceError(f"{path} is not an evidence package (a zip file with {INDEX}).") from None
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise EvidenceError(f"{path} is not a package of the format {FORMAT}.")
        return cls(Path(path), index, names)

    def text(self, name: str) -> str:
        if name not in self.names:
            raise EvidenceError(f"The package has no {name}.")
        with zipfile.ZipFile(self.path) as package:
            return package.read(name).decode("utf-8", errors="replace")

    def segments(self) -> Iterator[tuple[str, bytes]]:
        """The segments in the index's order, one at a time."""
        with zipfile.ZipFile(self.path) as package:
            for segment in self.index.get("segments") or []:
                name = str(segment.get("file")) if isinstance(segment, dict) else ""
                if name not in self.names:
                    raise EvidenceError(f"Segment {segment.get('seq') if isinstance(segment, dict) else segment} "
                                        f"({name}) is listed but not in the package.")
                yield name, package.read(name)

    def signing_key(self) -> SigningPublicKey:
        """The system signing key the package carries (to be compared by thumbprint)."""
        try:
            return SigningPublicKey.from_pem(self.text(SIGNING_KEY_FILE).encode(), f"the package's {SIGNING_KEY_FILE}")
        except ValueError as exc:
            raise EvidenceError(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None


def system_key_by_thumbprint(package: Package, thumbprint: str) -> SigningPublicKey:
    """The package's system key, if it is the one with ``thumbprint`` (spaces and case ignored)."""
    wanted = "".join(thumbprint.split()).lower()
    key = package.signing_key()
    if key.key_id != wanted:
        raise EvidenceError(f"The package's system signing key has thumbprint {key.thumbprint}, not the thumbprint "
                            "given: it is not your system's key.")
    return key


def verify_package(package: Package, system_key: SigningPublicKey) -> Verified:
    """Check a package against the system's signing key; EvidenceError names the first
    thing wrong."""
    recording = package.index.get("recording")
    if not isinstance(recording, dict) or not isinstance(recording.get("key_envelope"), dict):
        raise EvidenceError(f"The package's {INDEX} does not describe a recording.")
    manifest = package.text(MANIFEST_FILE)
    verified = verify_recording(str(recording.get("id")), recording["key_envelope"], manifest.strip() or None,
                                package.segments(), system_key.key)
    if package.text(CERTIFICATE_FILE).strip() != _certificate_of(manifest):
        raise EvidenceError(f"The package's {CERTIFICATE_FILE} is not the certificate the manifest names.")
    for name, extract in ((CHECKPOINTS_FILE, verified.checkpoint_tokens), (POSITIONS_FILE, verified.positions)):
        if package.text(name).encode() != _jsonl(extract):
            raise EvidenceError(f"The package's {name} does not match what its segments hold.")
    return verified

