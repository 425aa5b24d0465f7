"""web/stream-verifier.js and the link's signing key in real Chromium, against tokens made
by the Python side (bwlive_rtc/crypto/signing.py, chain.py; docs/PROTOCOL.md §5): each way
a stream can fail verification gives its sentence."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.camera.publish import SignedStream
from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.chain import frame_hash
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import StreamKey
from bwlive_rtc.crypto.signing import Certificate, raw_public
from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.test_crypto_browser import base_url, page  # noqa: F401 (fixtures)

SYSTEM, DEVICE = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
KEYS = SystemKeyPair.generate()


def signed_stream(device: Ed25519PrivateKey = DEVICE, started_ms: int | None = None) -> dict:
    """A manifest, 4 checkpoints 0.5 s apart and the units they name (10 video frames each)."""
    started_ms = started_ms or int(time.time() * 1000) - 2000
    credential, _ = Certificate.issue(SYSTEM, camera_id="c1", serial="SN-1", camera_user="Alice",
                                      organisation_id="o1", device_key=DEVICE.public_key(),
                                      now=datetime.now(UTC) - timedelta(hours=1))
    envelope = KeyEnvelope.seal(StreamKey.new(), KEYS.public)
    stream = SignedStream.start(credential, device, envelope, started_ms)
    chain = stream.chain()
    units, checkpoints = [], []
    for n in range(4):
        for counter in range(n * 10, n * 10 + 10):
            sealed = os.urandom(60)
            chain.add(0, counter, sealed)
            units.append([0, counter, b64url_encode(frame_hash(sealed))])
        checkpoints.append(chain.checkpoint(started_ms + 500 * (n + 1)))
    return {"manifest": stream.manifest, "envelope": envelope.to_json(), "checkpoints": checkpoints, "units": units,
            "signingKey": b64url_encode(raw_public(SYSTEM.public_key())), "now": started_ms + 2100}


# In the page: `s` = a signed_stream(), `plan` = what to do; returns what the verifier said.
RUN_JS = """
async ([s, plan]) => {
  const sv = await import('/web/stream-verifier.js');
  const { b64uDecode } = await import('/web/e2ee.js');
  let now = s.now;
  try {
    const manifest = await sv.verifyManifest(s.manifest, { signingKey: plan.signingKey ?? s.signingKey,
                                                          envelope: plan.envelope ?? s.envelope });
    const verifier = new sv.StreamVerifier(manifest, { offsetMs: 0, toleranceS: 10 }, () => now);
    const unit = ([kid, ctr, hash]) => verifier.noteUnit(kid, ctr, b64uDecode(hash));
    for (const step of plan.steps) {
      if (step.checkpoint !== undefined) await verifier.acceptCheckpoint(s.checkpoints[step.checkpoint]);
      if (step.units) s.units.slice(...step.units).forEach(unit);
      if (step.unit) unit(step.unit);
      if (step.wait) now += step.wait;
      if (step.check) verifier.check();
      if (step.position !== undefined) verifier.checkPosition(now - step.position);
    }
    return { ok: manifest.serial };
  } catch (error) {
    return { reason: error.reason, message: error.message };
  }
}
"""

OTHER = b64url_encode(raw_public(Ed25519PrivateKey.generate().public_key()))


@pytest.mark.parametrize("plan, expected", [
    ({"steps": [{"units": [0, 10]}, {"checkpoint": 0}, {"units": [10, 20]}, {"checkpoint": 1}, {"check": True}]},
     {"ok": "SN-1"}),
    ({"steps": [{"checkpoint": 1}, {"units": [10, 30]}, {"checkpoint": 2}, {"wait": 400}, {"check": True}]},
     {"ok": "SN-1"}),  # a late joiner starts at any checkpoint; units named later wait for theirs
    ({"signingKey": OTHER, "steps": []},
     {"reason": "manifest", "message": "camera SN-1 is not certified by this system's signing key"}),
    ({"envelope": KeyEnvelope.seal(StreamKey.new(), KEYS.public).to_json(), "steps": []},
     {"reason": "manifest", "message": "the stream key was not made by camera SN-1"}),
    ({"steps": [{"checkpoint": 0}, {"checkpoint": 2}]},
     {"reason": "chain", "message": "checkpoint 2 came where checkpoint 1 was due"}),
    ({"steps": [{"checkpoint": 1}, {"checkpoint": 1}]},
     {"reason": "chain", "message": "checkpoint 1 came where checkpoint 2 was due"}),
    ({"steps": [{"unit": [0, 3, b64url_encode(bytes(16))]}, {"checkpoint": 0}]},
     {"reason": "altered", "message": "video frame 3 is not the one camera SN-1 signed"}),
    ({"steps": [{"checkpoint": 0}, {"unit": [0, 4, b64url_encode(bytes(16))]}]},
     {"reason": "altered", "message": "video frame 4 is not the one camera SN-1 signed"}),
    ({"steps": [{"checkpoint": 0}, {"units": [0, 10]}, {"units": [4, 5]}]},
     {"reason": "replay", "message": "replayed video frame (video frame 4 came again)"}),
    ({"steps": [{"checkpoint": 0}, {"unit": [0, 500, b64url_encode(bytes(16))]}, {"units": [0, 1]}]},
     {"reason": "replay", "message": "replayed video frame (video frame 0 came again)"}),  # behind the window
    ({"steps": [{"checkpoint": 0}, {"units": [10, 11]}, {"wait": 2600}, {"check": True}]},
     {"ok": "SN-1"}),  # units stopped too: the camera is lost, its last frames wait for its return
    ({"steps": [{"checkpoint": 0}, {"units": [10, 11]}, {"wait": 2600}, {"units": [12, 13]}, {"check": True}]},
     {"reason": "silent", "message": "no signature for 2.6 s"}),
    ({"steps": [{"checkpoint": 0}, {"unit": [0, 99, b64url_encode(bytes(16))]}, {"wait": 100}, {"checkpoint": 1},
                {"checkpoint": 2}, {"wait": 2600}, {"units": [30, 31]}, {"check": True}]},
     {"reason": "unsigned", "message": "video frame 99 was not signed by camera SN-1"}),
    ({"steps": [{"checkpoint": 0}, {"wait": 5000}, {"checkpoint": 1}]},
     {"reason": "not-live", "message": "not live: signed by camera SN-1 at "}),
    ({"steps": [{"checkpoint": 3}, {"position": 1000}, {"position": 6000}]},
     {"reason": "stale", "message": "position from "}),
])
def test_each_failure_has_its_sentence(page, plan: dict, expected: dict) -> None:
    said = page.evaluate(RUN_JS, [signed_stream(), plan])
    assert said.get("reason") == expected.get("reason") and said.get("ok") == expected.get("ok"), said
    assert said.get("message", "").startswith(expected.get("message", "")), said


def test_a_manifest_not_signed_by_the_certified_device_key_is_refused(page) -> None:
    said = page.evaluate(RUN_JS, [signed_stream(device=Ed25519PrivateKey.generate()), {"steps": []}])
    assert said == {"reason": "manifest", "message": "the stream manifest is not signed by camera SN-1"}


def test_links_carry_the_signing_key_into_the_key_store(page) -> None:
    signing = b64url_encode(raw_public(SYSTEM.public_key()))
    stored = page.evaluate(
        """async ([pkcs8, signing, other]) => {
          const lk = await import('/web/link-key.js');
          const ks = await import('/web/keystore.js');
          const { b64uDecode } = await import('/web/e2ee.js');
          const plain = lk.parseFragment(lk.keyLink('https://x', b64uDecode(pkcs8), signing).split('#')[1]);
          const blob = await lk.encryptProtected(b64uDecode(pkcs8), 'a good passphrase', { signingKey: signing,
                                                                                             iterations: 100000 });
          const opened = lk.parseFragment(lk.protectedLink('https://x', blob).split('#')[1]);
          await lk.decryptProtected(opened.protected, 'a good passphrase');
          let swapped = null;  // the signing key is the AEAD's additional data: another one does not open
          try { await lk.decryptProtected({ ...blob, sig: other }, 'a good passphrase'); } catch (e) { swapped = e.name; }
          let damaged = null;
          try { lk.parseFragment(`key=${pkcs8}&sig=AAAA`); } catch (e) { damaged = e.message; }
          const record = await ks.storePkcs8(plain.pkcs8, plain.signingKey);
          const kept = await ks.storePkcs8(plain.pkcs8);  // an older link without one keeps the held key
          return { v: blob.v, plain: plain.signingKey, opened: opened.signingKey, swapped, damaged,
                   stored: record.signingKey, kept: (await ks.getKey(kept.keyId)).signingKey };
        }""",
        [b64url_encode(KEYS.pkcs8_der()), signing, OTHER],
    )
    assert stored == {"v": 2, "plain": signing, "opened": signing, "swapped": "WrongPassphraseError",
                      "damaged": "the signing key in the link is damaged (not 32 bytes)", "stored": signing,
                      "kept": signing}
