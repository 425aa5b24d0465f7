"""Exporting and verifying an organisation's recordings, for the server's routes and the
command line alike (both run these off the event loop: they read every segment)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, BinaryIO

from ..crypto.signing import CERTIFICATE, MANIFEST, SignatureError, token_payload
from ..crypto.system_key import thumbprint_of
from ..crypto.system_signing import SigningPublicKey
from ..kernel.audit import AuditLog
from ..kernel.clock import Clock
from ..recordings.catalog import Catalog
from ..recordings.storage import EvidenceStore
from ..systems.store import Systems
from .package import write_package
from .verify import EvidenceError, verify_recording


class Evidence:
    def __init__(self, catalog: Catalog, store: EvidenceStore, systems: Systems, audit: AuditLog, clock: Clock) -> None:
        self.catalog = catalog
        self.store = store
        self.systems = systems
        self.audit = audit
        self.clock = clock

    def system_key(self, recording: dict[str, Any], organisation_id: str) -> SigningPublicKey:
        """The signing key of the organisation's system that certified the recording's camera."""
        try:
            _, manifest = token_payload(recording.get("manifest") or "", MANIFEST)
            issuer = str(token_payload(str(manifest.get("certificate")), CERTIFICATE)[1].get("issuer"))
        except SignatureError:
            raise EvidenceError("The recording has no readable stream manifest: it was made before streams were "
                                "signed, so nothing says which camera made it.") from None
        system = self.systems.by_signing_key(organisation_id, issuer)
        if system is None or system.signing_key is None:
            raise EvidenceError(f"The camera's certificate was issued by key {thumbprint_of(issuer)}, which is not the "
                                "signing key of any system of this organisation.")
        return system.signing_key

    def _segments(self, recording: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
        for segment in recording["segments"]:
            yield segment["key"], self.store.get(segment["key"])

    def exporter(self, recording: dict[str, Any], organisation_id: str, exported_by: str) -> Callable[[BinaryIO], None]:
        """What writes the recording's evidence package to a file: it reads every segment, so
        the server runs it off the event loop (the database is read here, before). The
        caller audits the export first, so the package holds its own entry."""
        try:
            key: SigningPublicKey | None = self.system_key(recording, organisation_id)
        except EvidenceError:
            key = None  # still exported: verifying it will say why it cannot be verified
        return partial(write_package, recording=recording, organisation_id=organisation_id,
                       segments=self._segments(recording), signing_key=key,
                       audit=self.audit.about(organisation_id, recording["id"]),
                       exported_at=self.clock.now().isoformat(), exported_by=exported_by)

    def verifier(self, recording: dict[str, Any], organisation_id: str) -> Callable[[], dict[str, Any]]:
        """What checks the recording, as stored now, with its system's key (off the event
        loop, as above): ``{verified, sentence, summary}``. Nothing is kept: each check reads
        the evidence again, so an alteration since the last one shows."""
        try:
            key = self.system_key(recording, organisation_id)
        except EvidenceError as exc:
            failure = {"verified": False, "sentence": str(exc), "summary": None}
            return lambda: failure

        def verify() -> dict[str, Any]:
            try:
                verified = verify_recording(recording["id"], recording["key_envelope"], recording.get("manifest"),
                                            self._segments(recording), key.key)
            except EvidenceError as exc:
                return {"verified": False, "sentence": str(exc), "summary": None}
            return {"verified": True, "sentence": verified.sentence(), "summary": verified.summary()}

        return verify
