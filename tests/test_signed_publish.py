"""Issue 11, part 3: a publish carries the stream manifest its camera's device key signed
(Bwlive-Manifest); the server refuses one that is missing, forged, another camera's or of
another key envelope or time, before any stream exists, and keeps a good one with the
stream (stream list, database, recording). A stream sealed in a v1 key envelope is refused
(old recordings stay readable)."""
from __future__ import annotations

import dataclasses
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.camera.publish import SignedStream
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import LEGACY_SUITE, StreamKey
from bwlive_rtc.crypto.signing import StreamManifest, envelope_digest
from bwlive_rtc.crypto.system_signing import SigningKeyPair
from bwlive_rtc.kernel.appkeys import DATABASE
from bwlive_rtc.protocol import MANIFEST_HEADER
from tests.test_red_team_camera import (  # noqa: F401 (site is a fixture)
    Identity,
    Site,
    attacker,
    get,
    growing_recording,
    live,
    refused,
    site,
    whip_offer,
)


def system_signing_key(site: Site) -> Ed25519PrivateKey:
    """The system's private signing key, from the keys directory the site docks with."""
    return SigningKeyPair.load(site.tmp / "keys").private_key


async def test_a_signed_stream_keeps_its_manifest_for_browsers_and_recordings(site: Site) -> None:
    await site.camera("Mara Signed")
    stream = (await live(site.admin))["Mara Signed"]
    manifest, certificate, _ = StreamManifest.read(stream["manifest"], system_signing_key(site).public_key())
    assert (manifest.serial, manifest.camera_user, certificate.serial) == ("SN-MARA-SIGNED", "Mara Signed", "SN-MARA-SIGNED")
    assert manifest.envelope == envelope_digest(stream["key_envelope"])
    assert site.app[DATABASE].stream(stream["id"])["manifest"] == stream["manifest"]
    recording = await growing_recording(site, "Mara Signed")
    assert recording["manifest"] == stream["manifest"]


async def test_a_publish_without_a_good_manifest_is_refused_with_a_sentence(site: Site) -> None:
    alice, bob = site.credential("Alice Signer"), site.credential("Bob Signer")
    redocked = site.credential("Alice Signer")  # a second certificate of the same camera and device key
    assert alice.device_key is not None and bob.device_key is not None
    offer = await whip_offer()
    now_ms = int(site.clock.now().timestamp() * 1000)

    def publish(identity: Identity, **manifest_changes: object) -> dict[str, str]:
        """Alice's publish, with the manifest made by ``identity`` and changed as given."""
        assert identity.device_key is not None and alice.device_key is not None
        envelope = KeyEnvelope.seal(StreamKey.new(), site.keys.public)
        stream = SignedStream.start(alice.credential, alice.device_key, envelope, now_ms)
        made = StreamManifest.start(identity.credential, envelope.to_json(), envelope.suite, now_ms)
        token = dataclasses.replace(made, **manifest_changes).sign(identity.device_key)  # type: ignore[arg-type]
        return {"Content-Type": "application/sdp", **stream.headers(offer), MANIFEST_HEADER: token}

    def publish_v1() -> dict[str, str]:
        """Bob's publish (Alice's requests are at the camera's rate limit), fully signed, of a
        stream sealed in a v1 envelope (a legacy stream key)."""
        assert bob.device_key is not None
        envelope = KeyEnvelope.seal(StreamKey(LEGACY_SUITE, os.urandom(16), legacy=True), site.keys.public)
        assert envelope.version == 1
        return {"Content-Type": "application/sdp",
                **SignedStream.start(bob.credential, bob.device_key, envelope, now_ms).headers(offer)}

    other_envelope = KeyEnvelope.seal(StreamKey.new(), site.keys.public)
    unsigned = publish(alice)
    del unsigned[MANIFEST_HEADER]
    cases = [
        (unsigned, 403, "this camera did not sign its stream (Bwlive-Manifest header)"),
        ({**publish(alice), MANIFEST_HEADER: "bwlive-manifest-v1.e30"}, 403, "malformed manifest"),
        ({**publish(alice), MANIFEST_HEADER: alice.credential}, 403, "a certificate where a manifest was expected"),
        (publish(Identity(alice.credential, Ed25519PrivateKey.generate())), 403,
         "the stream manifest is refused: the manifest signature is not valid"),
        (publish(bob), 403, "the manifest signature is not valid"),  # Bob's manifest under Alice's credential
        (publish(Identity(bob.credential, alice.device_key)), 403,
         "the manifest names camera SN-BOB-SIGNER of Bob Signer, its certificate camera SN-ALICE-SIGNER"),
        (publish(Identity(redocked.credential, alice.device_key)), 403,
         "carries another certificate than the credential of camera SN-ALICE-SIGNER"),
        (publish(alice, started_at="now"), 403, "malformed manifest: a field of the wrong type"),
        (publish(alice, envelope=envelope_digest(other_envelope.to_json())), 400,
         "the stream manifest names another key envelope than the Bwlive-Content-Key header"),
        (publish(alice, started_at=now_ms - 5000), 400, "not at the publish's Bwlive-Camera-Time"),
        (publish_v1(), 400, "the Bwlive-Content-Key header is a v1 key envelope: new streams need v2"),
    ]
    async with attacker() as http:
        for headers, status, words in cases:
            async with http.post(site.url + "/whip", data=offer, headers=headers) as response:
                await refused(response, status, words)
    assert await live(site.admin) == {}
    assert (await get(site.admin, "/api/recordings"))["recordings"] == []
