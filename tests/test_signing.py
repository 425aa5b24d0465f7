"""Certificates, publish proofs, manifests and checkpoint chains (PROTOCOL §5): each one
accepted when it is what it says, and refused, with the reason, when anything is off."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.chain import ChainReader, ChainWriter, frame_hash
from bwlive_rtc.crypto.signing import (
    CERTIFICATE,
    Certificate,
    SignatureError,
    StreamManifest,
    envelope_digest,
    sign_token,
    sign_whip_proof,
    signing_key_id,
    verify_whip_proof,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SYSTEM, DEVICE = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()


def certify(device: Ed25519PrivateKey = DEVICE, system: Ed25519PrivateKey = SYSTEM) -> str:
    return Certificate.issue(system, camera_id="cam1", serial="SN-1", camera_user="Alice", organisation_id="org1",
                             device_key=device.public_key(), now=NOW)[0]


def manifest(certificate: str, **changes: object) -> StreamManifest:
    fields: dict[str, object] = dict(stream_nonce=b64url_encode(os.urandom(16)), serial="SN-1", camera_user="Alice",
                                     organisation_id="org1", started_at=int(NOW.timestamp() * 1000) + 60_000,
                                     envelope=envelope_digest({"v": 2, "kid": "k"}), suite=5, certificate=certificate)
    fields.update(changes)
    return StreamManifest(**fields)  # type: ignore[arg-type]


def test_certificate_names_the_device_key_for_six_days() -> None:
    certificate = Certificate.read(certify(), SYSTEM.public_key(), NOW + timedelta(days=5, hours=23))
    assert (certificate.serial, certificate.camera_user, certificate.issuer) == (
        "SN-1", "Alice", signing_key_id(SYSTEM.public_key()))
    assert signing_key_id(certificate.device_public_key) == signing_key_id(DEVICE.public_key())
    with pytest.raises(SignatureError, match="expired on .* dock the camera"):
        Certificate.read(certify(), SYSTEM.public_key(), NOW + timedelta(days=6))
    with pytest.raises(SignatureError, match="issued in the future"):
        Certificate.read(certify(), SYSTEM.public_key(), NOW - timedelta(seconds=1))


def test_certificate_of_another_system_or_altered_is_refused() -> None:
    with pytest.raises(SignatureError, match="signature is not valid"):
        Certificate.read(certify(system=Ed25519PrivateKey.generate()), SYSTEM.public_key(), NOW)
    kind, payload, signature = certify().split(".")
    altered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    with pytest.raises(SignatureError):
        Certificate.read(f"{kind}.{altered}.{signature}", SYSTEM.public_key(), NOW)
    with pytest.raises(SignatureError, match="malformed"):
        Certificate.read("not a token", SYSTEM.public_key(), NOW)


def test_a_token_signed_for_another_purpose_is_no_certificate() -> None:
    token = manifest(certify()).sign(SYSTEM)  # the system key signing a manifest
    with pytest.raises(SignatureError, match="a manifest where a certificate was expected"):
        Certificate.read(token, SYSTEM.public_key(), NOW)
    retyped = CERTIFICATE + token[token.index("."):]
    with pytest.raises(SignatureError, match="signature is not valid"):
        Certificate.read(retyped, SYSTEM.public_key(), NOW)


def test_whip_proof_binds_offer_envelope_and_time() -> None:
    certificate = Certificate.read(certify(), SYSTEM.public_key(), NOW)
    proof = sign_whip_proof(DEVICE, b"v=0 offer", "envelope", 1234)
    verify_whip_proof(certificate, proof, b"v=0 offer", "envelope", 1234)
    for offer, envelope, t in ((b"v=0 other", "envelope", 1234), (b"v=0 offer", "other", 1234),
                               (b"v=0 offer", "envelope", 1235)):
        with pytest.raises(SignatureError, match="not signed by the device key of camera SN-1"):
            verify_whip_proof(certificate, proof, offer, envelope, t)
    thief = sign_whip_proof(Ed25519PrivateKey.generate(), b"v=0 offer", "envelope", 1234)
    with pytest.raises(SignatureError, match="a credential alone does not make a camera"):
        verify_whip_proof(certificate, thief, b"v=0 offer", "envelope", 1234)


def test_manifest_is_the_device_keys_word_under_a_valid_certificate() -> None:
    token = manifest(certify()).sign(DEVICE)
    read, certificate, payload = StreamManifest.read(token, SYSTEM.public_key())
    assert (read.serial, read.suite, certificate.camera_id) == ("SN-1", 5, "cam1") and payload
    with pytest.raises(SignatureError, match="manifest signature is not valid"):
        StreamManifest.read(manifest(certify()).sign(Ed25519PrivateKey.generate()), SYSTEM.public_key())
    with pytest.raises(SignatureError, match="names camera SN-1 of Mallory, its certificate camera SN-1 of Alice"):
        StreamManifest.read(manifest(certify(), camera_user="Mallory").sign(DEVICE), SYSTEM.public_key())
    late = manifest(certify(), started_at=int((NOW + timedelta(days=7)).timestamp() * 1000)).sign(DEVICE)
    with pytest.raises(SignatureError, match="expired"):
        StreamManifest.read(late, SYSTEM.public_key())
    forged = manifest(certify(system=Ed25519PrivateKey.generate())).sign(DEVICE)
    with pytest.raises(SignatureError, match="certificate signature is not valid"):
        StreamManifest.read(forged, SYSTEM.public_key())


def _chain() -> tuple[bytes, int, list[str], list[tuple[int, int, bytes]]]:
    token = manifest(certify()).sign(DEVICE)
    read, _, payload = StreamManifest.read(token, SYSTEM.public_key())
    writer = ChainWriter(DEVICE, payload)
    units, checkpoints = [], []
    for second in range(3):
        for counter in range(second * 30, second * 30 + 30):
            for kid in (0, 1):
                sealed = os.urandom(50)
                writer.add(kid, counter, sealed)
                units.append((kid, counter, sealed))
        checkpoints.append(writer.checkpoint(read.started_at + 1000 * (second + 1)))
    return payload, read.started_at, checkpoints, units


def test_checkpoint_chain_lists_every_sealed_unit() -> None:
    payload, started, checkpoints, units = _chain()
    reader = ChainReader(DEVICE.public_key(), payload, started)
    signed = {(kid, ctr): digest for token in checkpoints for kid, ctr, digest in reader.accept(token).units}
    assert signed == {(kid, ctr): frame_hash(sealed) for kid, ctr, sealed in units}


@pytest.mark.parametrize("order, reason", [
    ((1, 0, 2), "checkpoint 1 where checkpoint 0 was due"),  # swapped
    ((0, 2), "checkpoint 2 where checkpoint 1 was due"),  # one dropped
    ((0, 0), "checkpoint 0 where checkpoint 1 was due"),  # replayed
])
def test_checkpoints_out_of_order_dropped_or_replayed_are_refused(order: tuple[int, ...], reason: str) -> None:
    payload, started, checkpoints, _ = _chain()
    reader = ChainReader(DEVICE.public_key(), payload, started)
    with pytest.raises(SignatureError, match=reason):
        for index in order:
            reader.accept(checkpoints[index])


def test_checkpoint_of_another_stream_does_not_follow() -> None:
    payload, started, checkpoints, _ = _chain()
    _, _, others, _ = _chain()
    reader = ChainReader(DEVICE.public_key(), payload, started)
    reader.accept(checkpoints[0])
    with pytest.raises(SignatureError, match="checkpoint 1 does not follow checkpoint 0"):
        reader.accept(others[1])


def test_checkpoint_signed_by_another_key_or_dated_back_is_refused() -> None:
    payload, started, checkpoints, _ = _chain()
    with pytest.raises(SignatureError, match="checkpoint signature is not valid"):
        ChainReader(Ed25519PrivateKey.generate().public_key(), payload, started).accept(checkpoints[0])
    with pytest.raises(SignatureError, match="dated before"):
        ChainReader(DEVICE.public_key(), payload, started + 10_000).accept(checkpoints[0])
    kind, body, _ = checkpoints[0].split(".")
    with pytest.raises(SignatureError, match="malformed"):
        ChainReader(DEVICE.public_key(), payload, started).accept(
            sign_token(DEVICE, kind, {"seq": 0, "frames": []}))
    assert body


def test_the_closing_checkpoint_ends_the_chain() -> None:
    token = manifest(certify()).sign(DEVICE)
    read, _, payload = StreamManifest.read(token, SYSTEM.public_key())
    writer = ChainWriter(DEVICE, payload)
    first, closing = writer.checkpoint(read.started_at + 500), writer.checkpoint(read.started_at + 1000, final=True)
    after = writer.checkpoint(read.started_at + 1500)  # what a forger with the device key could not add unnoticed
    reader = ChainReader(DEVICE.public_key(), payload, read.started_at)
    assert not reader.accept(first).final and reader.accept(closing).final
    with pytest.raises(SignatureError, match="checkpoint 2 comes after the camera's closing checkpoint"):
        reader.accept(after)
