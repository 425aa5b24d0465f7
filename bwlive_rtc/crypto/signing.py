"""Ed25519 signatures that say who made something (docs/PROTOCOL.md §5).

Every signed object is a *token*, ``type.b64u(payload).b64u(signature)``, whose signature
covers the ASCII ``type.b64u(payload)``: the type names what is signed (so a signature
made for one purpose never passes for another) and a verifier checks the exact bytes it
was sent before it parses any JSON. Browsers verify the same tokens with WebCrypto.

The chain of trust: the **system signing key** (its public half travels in the link with
key) certifies a camera's **device key** at docking (``Certificate``); the device key
signs the camera's proof of possession at each publish (``whip_proof_message``), its
stream manifests (``StreamManifest``) and its checkpoints (``crypto/chain.py``).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .b64 import b64url_decode, b64url_encode

CERTIFICATE = "bwlive-cert-v2"
MANIFEST = "bwlive-manifest-v1"
CHECKPOINT = "bwlive-checkpoint-v1"
WHIP_PROOF = "bwlive-whip-proof-v1"
WHIP_RESUME = "bwlive-whip-resume-v1"  # a proof that continues a running stream over a new connection
CERTIFICATE_VALIDITY = timedelta(days=6)
WORDS = {CERTIFICATE: "certificate", MANIFEST: "manifest", CHECKPOINT: "checkpoint"}  # token types for people


class SignatureError(ValueError):
    """A token that is malformed, of another type or not signed by the expected key;
    ``str()`` says which, in words for the person who sees it."""


class CertificateOutOfDate(SignatureError):
    """A genuine certificate used before it was issued or after it expired."""


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(data: bytes) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(data)
    except ValueError:
        raise SignatureError("not an Ed25519 public key (32 bytes)") from None


def signing_key_id(key: Ed25519PublicKey) -> str:
    """First 16 bytes of SHA-256 of the raw 32-byte public key, lowercase hex."""
    return hashlib.sha256(raw_public(key)).digest()[:16].hex()


def canonical_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign_token(key: Ed25519PrivateKey, kind: str, payload: dict[str, Any]) -> str:
    signed = f"{kind}.{b64url_encode(canonical_json(payload))}"
    return f"{signed}.{b64url_encode(key.sign(signed.encode('ascii')))}"


def token_payload(token: str, kind: str) -> tuple[bytes, dict[str, Any]]:
    """The payload bytes and JSON of a token of ``kind``, *without* checking its signature
    (for finding out who should have signed it)."""
    try:
        found, payload_b64, _ = token.strip().split(".")
        payload = b64url_decode(payload_b64)
        data = json.loads(payload)
    except ValueError:
        raise SignatureError(f"malformed {WORDS[kind]}") from None
    if found != kind:
        raise SignatureError(f"a {WORDS.get(found, 'token of another kind')} where a {WORDS[kind]} was expected")
    if not isinstance(data, dict):
        raise SignatureError(f"malformed {WORDS[kind]}: the payload is not a JSON object")
    return payload, data


def verify_token(token: str, kind: str, key: Ed25519PublicKey) -> tuple[bytes, dict[str, Any]]:
    """Payload bytes and JSON of a token of ``kind`` signed by ``key``."""
    payload, data = token_payload(token, kind)
    signed, _, signature_b64 = token.strip().rpartition(".")
    try:
        key.verify(b64url_decode(signature_b64), signed.encode("ascii"))
    except (InvalidSignature, ValueError):
        raise SignatureError(f"the {WORDS[kind]} signature is not valid") from None
    return payload, data


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True)
class Certificate:
    """What the system vouches for at docking: this device key is camera ``serial`` of
    ``organisation_id``, worn by ``camera_user``, from ``issued_at`` to ``expires_at``."""

    camera_id: str
    serial: str
    camera_user: str
    organisation_id: str
    device_key: bytes  # raw Ed25519 public key
    issuer: str  # signing key id of the system key that signed it
    issued_at: datetime
    expires_at: datetime

    @classmethod
    def issue(cls, system_key: Ed25519PrivateKey, *, camera_id: str, serial: str, camera_user: str,
              organisation_id: str, device_key: Ed25519PublicKey, now: datetime) -> tuple[str, Certificate]:
        certificate = cls(camera_id, serial, camera_user, organisation_id, raw_public(device_key),
                          signing_key_id(system_key.public_key()), now, now + CERTIFICATE_VALIDITY)
        return sign_token(system_key, CERTIFICATE, certificate._payload()), certificate

    def _payload(self) -> dict[str, Any]:
        payload = asdict(self)
        payload.update(device_key=b64url_encode(self.device_key), issued_at=_ms(self.issued_at),
                       expires_at=_ms(self.expires_at))
        return payload

    @classmethod
    def read(cls, token: str, system_key: Ed25519PublicKey, now: datetime) -> Certificate:
        """The certificate in ``token``, signed by ``system_key`` and valid at ``now``."""
        _, data = verify_token(token, CERTIFICATE, system_key)
        try:
            certificate = cls(
                str(data["camera_id"]), str(data["serial"]), str(data["camera_user"]),
                str(data["organisation_id"]), b64url_decode(str(data["device_key"])), str(data["issuer"]),
                _datetime(int(data["issued_at"])), _datetime(int(data["expires_at"])))
        except (KeyError, ValueError, TypeError, OverflowError):
            raise SignatureError("malformed certificate") from None
        if now < certificate.issued_at:
            raise CertificateOutOfDate(f"the certificate of camera {certificate.serial} was issued in the future "
                                 f"({certificate.issued_at:%Y-%m-%d %H:%M} UTC)")
        if now >= certificate.expires_at:
            raise CertificateOutOfDate(
                f"the certificate of camera {certificate.serial} expired on {certificate.expires_at:%Y-%m-%d %H:%M} UTC "
                "(not docked for more than 6 days): dock the camera to renew its certificate")
        return certificate

    @property
    def device_public_key(self) -> Ed25519PublicKey:
        return public_from_raw(self.device_key)


def whip_proof_message(offer: bytes, envelope_header: str, camera_time_ms: int, resumes: str | None = None) -> bytes:
    """What a camera signs with its device key at each publish: its offer (with its DTLS
    fingerprint), the key envelope and its clock, so a copied credential cannot publish
    and a captured proof cannot start another session. A resume (``resumes``: the running
    stream's id) is signed under its own label, so it binds that stream and no other."""
    label = WHIP_PROOF.encode("ascii") if resumes is None else f"{WHIP_RESUME}\0{resumes}".encode("ascii")
    return b"".join((label, b"\0", hashlib.sha256(offer).digest(),
                     hashlib.sha256(envelope_header.encode("ascii")).digest(), camera_time_ms.to_bytes(8, "big")))


def sign_whip_proof(device_key: Ed25519PrivateKey, offer: bytes, envelope_header: str, camera_time_ms: int,
                    resumes: str | None = None) -> str:
    return b64url_encode(device_key.sign(whip_proof_message(offer, envelope_header, camera_time_ms, resumes)))


def verify_whip_proof(certificate: Certificate, proof: str, offer: bytes, envelope_header: str,
                      camera_time_ms: int, resumes: str | None = None) -> None:
    try:
        certificate.device_public_key.verify(b64url_decode(proof),
                                             whip_proof_message(offer, envelope_header, camera_time_ms, resumes))
    except (InvalidSignature, ValueError):
        what = "publish" if resumes is None else f"resume of stream {resumes}"
        raise SignatureError(f"the {what} is not signed by the device key of camera {certificate.serial}: "
                             "a credential alone does not make a camera (dock the camera again)") from None


def envelope_digest(envelope: dict[str, Any]) -> str:
    """b64u SHA-256 of a key envelope's canonical JSON (as ``KeyEnvelope.to_json()`` gives
    it, and as the stream list sends it): the manifest names the key it was sealed in."""
    return b64url_encode(hashlib.sha256(canonical_json(envelope)).digest())


NUMBERS = ("started_at", "suite")  # the manifest's integer fields; the others are text


@dataclass(frozen=True)
class StreamManifest:
    """What a camera says of a stream when it starts it, signed with its device key."""

    stream_nonce: str  # b64u of 16 random bytes: this stream and no other
    serial: str
    camera_user: str
    organisation_id: str
    started_at: int  # ms since 1970, the camera's clock
    envelope: str  # envelope_digest() of the stream's key envelope
    suite: int  # SFrame cipher suite of the stream's frames
    certificate: str  # the camera's certificate token

    @classmethod
    def start(cls, certificate: str, envelope: dict[str, Any], suite: int, started_at: int) -> StreamManifest:
        """A camera's manifest for a stream it starts now (a fresh nonce), naming what its
        own certificate token names."""
        _, issued = token_payload(certificate, CERTIFICATE)
        return cls(b64url_encode(os.urandom(16)), str(issued.get("serial")), str(issued.get("camera_user")),
                   str(issued.get("organisation_id")), started_at, envelope_digest(envelope), suite, certificate)

    def sign(self, device_key: Ed25519PrivateKey) -> str:
        return sign_token(device_key, MANIFEST, asdict(self))

    @classmethod
    def read(cls, token: str, system_key: Ed25519PublicKey) -> tuple[StreamManifest, Certificate, bytes]:
        """The manifest, its certificate (valid when the stream started) and the manifest's
        payload bytes (the first link of the stream's checkpoint chain)."""
        _, unsigned = token_payload(token, MANIFEST)
        try:
            started = _datetime(int(unsigned["started_at"]))
            certificate = Certificate.read(str(unsigned["certificate"]), system_key, started)
        except (KeyError, ValueError, TypeError, OverflowError) as exc:
            raise SignatureError(str(exc) if isinstance(exc, SignatureError) else "malformed manifest") from None
        manifest, payload = cls.verify_for(token, certificate)
        return manifest, certificate, payload

    @classmethod
    def verify_for(cls, token: str, certificate: Certificate) -> tuple[StreamManifest, bytes]:
        """The manifest in ``token`` and its payload bytes, signed by the device key of
        ``certificate`` (already checked by the caller) and naming its camera."""
        payload, data = verify_token(token, MANIFEST, certificate.device_public_key)
        try:
            manifest = cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            raise SignatureError("malformed manifest") from None
        if any(type(getattr(manifest, name)) is not (int if name in NUMBERS else str) for name in cls.__dataclass_fields__):
            raise SignatureError("malformed manifest: a field of the wrong type")
        if (manifest.serial, manifest.camera_user, manifest.organisation_id) != (
                certificate.serial, certificate.camera_user, certificate.organisation_id):
            raise SignatureError(f"the manifest names camera {manifest.serial} of {manifest.camera_user}, "
                                 f"its certificate camera {certificate.serial} of {certificate.camera_user}")
        return manifest, payload
