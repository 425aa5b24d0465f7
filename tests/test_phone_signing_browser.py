"""Issue 14 part 5: what a phone camera seals and signs in WebCrypto (web/camera-signing.js)
is what the camera agent makes, checked by the Python reference: the key envelope opens
with the system's pair, the WHIP proof and the manifest verify against the certificate
the system issued for the browser's non-extractable device key, and the checkpoint chain
names every frame the phone sealed (the vectors' frames, sealed with the phone's stream
key as the sender worker does) by its exact hash."""
from __future__ import annotations

from datetime import UTC, datetime

from bwlive_rtc.crypto.b64 import b64url_decode
from bwlive_rtc.crypto.chain import ChainReader, frame_hash
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import FrameDecryptor, Kind
from bwlive_rtc.crypto.signing import Certificate, StreamManifest, public_from_raw, verify_whip_proof
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningKeyPair
from tests.test_crypto_browser import DEFAULT, base_url, page  # noqa: F401 (fixtures)

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"


def test_the_phones_envelope_proof_manifest_and_checkpoints_verify_in_python(page) -> None:
    public = page.evaluate("""async () => {
        window.device = await crypto.subtle.generateKey({name: 'Ed25519'}, false, ['sign', 'verify']);
        const raw = new Uint8Array(await crypto.subtle.exportKey('raw', window.device.publicKey));
        return {raw: Array.from(raw), extractable: window.device.privateKey.extractable};
    }""")
    assert public["extractable"] is False
    system, signing = SystemKeyPair.generate(), SigningKeyPair.generate()
    now = datetime.now(UTC)
    certificate, _ = Certificate.issue(signing.private_key, camera_id="c1", serial="PHONE-AB12-CD34",
                                       camera_user="Nora Phone", organisation_id="org1",
                                       device_key=public_from_raw(bytes(public["raw"])), now=now)
    made = page.evaluate("""async ([pem, certificate, frames, offer]) => {
        const s = await import('/web/camera-signing.js');
        const e2ee = await import('/web/e2ee.js');
        const secret = crypto.getRandomValues(new Uint8Array(32));
        const envelope = await s.sealStreamSecret(pem, secret);
        const header = s.envelopeHeader(envelope);
        const startedAt = Date.now();
        const key = window.device.privateKey;
        const manifest = await s.signManifest(key, certificate, envelope, startedAt);
        const chain = await s.ChainWriter.start(key, manifest.payload);
        const cipher = new e2ee.FrameCipher(await e2ee.importStreamKey(secret));
        const counters = {video: 0, audio: 0, camera_data: 0};
        const sealed = [], checkpoints = [];
        for (const [i, f] of frames.entries()) {
            const ctr = counters[f.kind]++;
            const unit = await cipher.encryptFrame(f.kind, e2ee.b64uDecode(f.plaintext), ctr);
            chain.add(e2ee.KINDS[f.kind], ctr, new Uint8Array(await crypto.subtle.digest('SHA-256', unit)));
            sealed.push({kind: f.kind, unit: e2ee.b64uEncode(unit)});
            if (i === 2) checkpoints.push(await chain.checkpoint(startedAt + 500));
        }
        checkpoints.push(await chain.checkpoint(startedAt + 1000));
        return {secret: e2ee.b64uEncode(secret), envelope, header, startedAt, manifest: manifest.token,
                proof: await s.whipProof(key, offer, header, startedAt), sealed, checkpoints};
    }""", [system.public.pem().decode(), certificate,
           [f for f in DEFAULT["frames"] if f["kind"] != "operator_data"], OFFER])

    envelope = KeyEnvelope.from_header(made["header"])
    assert envelope.to_json() == made["envelope"] and envelope.suite == 5
    stream_key = envelope.open(system)
    assert stream_key.secret == b64url_decode(made["secret"])
    checked = Certificate.read(certificate, signing.public.key, now)
    verify_whip_proof(checked, made["proof"], OFFER.encode(), made["header"], made["startedAt"])
    manifest, _, payload = StreamManifest.read(made["manifest"], signing.public.key)
    assert (manifest.serial, manifest.started_at, manifest.suite) == ("PHONE-AB12-CD34", made["startedAt"], 5)
    reader = ChainReader(checked.device_public_key, payload, manifest.started_at)
    listed = {(kid, counter): digest for token in made["checkpoints"] for kid, counter, digest in reader.accept(token).units}
    decryptor = FrameDecryptor(stream_key)
    expected = {}
    counters = {kind: 0 for kind in ("video", "audio", "camera_data")}
    for unit, frame in zip(made["sealed"], [f for f in DEFAULT["frames"] if f["kind"] != "operator_data"], strict=True):
        kind = Kind[unit["kind"].upper()]
        sealed = b64url_decode(unit["unit"])
        assert decryptor.decrypt(kind, sealed) == b64url_decode(frame["plaintext"])
        expected[(int(kind), counters[unit["kind"]])] = frame_hash(sealed)
        counters[unit["kind"]] += 1
    assert listed == expected
