"""What a camera sends with its WHIP offer (docs/PROTOCOL.md §4, §5): its credential, the
key envelope, its clock, the proof that its device key made this publish, and the signed
manifest of the stream it starts (the first link of the stream's checkpoint chain)."""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..crypto.chain import ChainWriter
from ..crypto.content_key import KeyEnvelope
from ..crypto.signing import MANIFEST, StreamManifest, sign_whip_proof, token_payload
from ..protocol import CAMERA_TIME_HEADER, KEY_HEADER, MANIFEST_HEADER, PROOF_HEADER


@dataclass(frozen=True)
class SignedStream:
    """A stream a camera starts at ``camera_time_ms`` (its clock), with its key envelope
    and the manifest its device key signed."""

    credential: str
    device_key: Ed25519PrivateKey
    envelope: KeyEnvelope
    camera_time_ms: int
    manifest: str

    @classmethod
    def start(cls, credential: str, device_key: Ed25519PrivateKey, envelope: KeyEnvelope,
              camera_time_ms: int) -> SignedStream:
        """The manifest names the envelope and the cipher suite it binds."""
        manifest = StreamManifest.start(credential, envelope.to_json(), envelope.suite, camera_time_ms)
        return cls(credential, device_key, envelope, camera_time_ms, manifest.sign(device_key))

    def chain(self) -> ChainWriter:
        """The stream's checkpoint chain, starting at the manifest."""
        return ChainWriter(self.device_key, token_payload(self.manifest, MANIFEST)[0])

    def headers(self, offer: str) -> dict[str, str]:
        """The WHIP headers (but Content-Type) of publishing the stream with ``offer``."""
        envelope = self.envelope.to_header()
        return {"Authorization": f"Bearer {self.credential}", CAMERA_TIME_HEADER: str(self.camera_time_ms),
                KEY_HEADER: envelope, MANIFEST_HEADER: self.manifest,
                PROOF_HEADER: sign_whip_proof(self.device_key, offer.encode(), envelope, self.camera_time_ms)}

    def resume_headers(self, offer: str, stream_id: str, camera_time_ms: int) -> dict[str, str]:
        """The headers of continuing running stream ``stream_id`` over a new connection
        with ``offer`` (PROTOCOL §4.1): the same envelope and manifest, the camera's clock
        now, and a proof of resuming that stream signed by the device key."""
        envelope = self.envelope.to_header()
        return {"Authorization": f"Bearer {self.credential}", CAMERA_TIME_HEADER: str(camera_time_ms),
                KEY_HEADER: envelope, MANIFEST_HEADER: self.manifest,
                PROOF_HEADER: sign_whip_proof(self.device_key, offer.encode(), envelope, camera_time_ms,
                                              resumes=stream_id)}
