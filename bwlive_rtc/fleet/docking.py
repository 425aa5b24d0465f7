"""Docking: what a camera takes away from the system, and the checks at publish time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..systems.store import Systems
from .credentials import Credential, CredentialError, CredentialSigner
from .store import Camera, Fleet


@dataclass(frozen=True)
class Admitted:
    """A camera allowed to publish now."""

    credential: Credential
    camera_user: str  # the wearer's name, shown to operators


class Docking:
    def __init__(self, fleet: Fleet, systems: Systems, signer: CredentialSigner) -> None:
        self.fleet = fleet
        self.systems = systems
        self.signer = signer

    def _assigned_user(self, camera: Camera) -> dict:
        """The camera user of a camera in service (not revoked, assigned)."""
        if camera.revoked_at is not None:
            raise CredentialError(f"camera {camera.serial} was revoked on {camera.revoked_at:%Y-%m-%d}")
        user = self.fleet.camera_user(camera.camera_user_id)
        if user is None:
            raise CredentialError(f"camera {camera.serial} is not assigned to a camera user")
        return user

    def dock(self, serial: str) -> dict[str, Any]:
        """The dock package: public key, profile, networks and a 6-day credential."""
        camera = self.fleet.camera_by_serial(serial)
        if camera is None:
            raise CredentialError(f"unknown camera {serial}: an admin must add it to the system first")
        user = self._assigned_user(camera)
        public_key = self.systems.current_key(camera.organisation_id)
        if public_key is None:
            raise CredentialError("this organisation has no system key yet")
        profile = self.fleet.profile(user["profile_id"])
        token, credential = self.signer.issue(camera.id, camera.serial, camera.organisation_id, self.fleet.clock.now())
        self.fleet.docked(camera.id)
        return {
            "serial": camera.serial,
            "camera_user": user["name"],
            "profile": {"name": profile.name, "streaming": profile.streaming, "location": profile.location}
            if profile else None,
            "networks": self.fleet.networks_for(user),
            "public_key": public_key.pem().decode(),
            "thumbprint": public_key.thumbprint,
            "credential": token,
            "credential_expires_at": credential.expires_at.isoformat(),
        }

    def admit(self, token: str, now: datetime) -> Admitted:
        """Check a publishing camera: credential, camera, assignment, profile."""
        credential = self.signer.verify(token, now)
        camera = self.fleet.camera(credential.camera_id)
        if camera is None:
            raise CredentialError(f"unknown camera {credential.serial}: it was removed from the system")
        user = self._assigned_user(camera)
        profile = self.fleet.profile(user["profile_id"])
        if profile is None or not profile.streaming:
            name = profile.name if profile else "(none)"
            raise CredentialError(f"streaming is off in profile {name} of camera user {user['name']}")
        return Admitted(credential, user["name"])
