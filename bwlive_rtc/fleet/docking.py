"""Docking: what a camera takes away from its system, the key changes an admin confirms,
who a camera is (its credential) and whether it may publish now.

A camera takes the key of *its* system (never another system of the organisation). When
that key was replaced since the camera last docked, the dock refuses with both
thumbprints until an admin confirms the change (``confirm_key_change``); a replaced key is
refused for new streams.

Only ``dock`` needs the system's private signing key, and it is handed one for the dock
(``CredentialIssuer``, at the system); everything else, which the server does, checks
certificates with the systems' public signing keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..crypto.signing import Certificate
from ..crypto.system_key import thumbprint_of
from ..kernel.errors import BadRequest, Conflict
from ..systems.store import System, Systems
from .credentials import CredentialError, CredentialIssuer, CredentialVerifier
from .store import Camera, CameraUser, Fleet


@dataclass(frozen=True)
class KeyChange:
    """A camera's system key was replaced since the camera last docked."""

    camera: Camera
    system: System
    confirmed: bool

    @property
    def old_thumbprint(self) -> str:
        assert self.camera.key_id is not None  # a camera that never docked has no key to change
        return thumbprint_of(self.camera.key_id)

    @property
    def new_thumbprint(self) -> str:
        return self.system.key.thumbprint

    def describe(self) -> dict[str, Any]:
        return {"camera_id": self.camera.id, "serial": self.camera.serial, "system_id": self.system.id,
                "system": self.system.name, "old_thumbprint": self.old_thumbprint,
                "new_thumbprint": self.new_thumbprint, "confirmed": self.confirmed}


class KeyChangeUnconfirmed(CredentialError):
    """The dock refuses a key change no admin has confirmed yet."""

    def __init__(self, change: KeyChange) -> None:
        serial = change.camera.serial
        super().__init__(
            f"the key of system {change.system.name} changed since camera {serial} last docked, from "
            f"{change.old_thumbprint} to {change.new_thumbprint}: an admin must confirm the change (admin page, or "
            f"`bwlive fleet confirm-key --serial {serial} --thumbprint '{change.new_thumbprint}'`) before it docks")


class Docking:
    def __init__(self, fleet: Fleet, systems: Systems) -> None:
        self.fleet = fleet
        self.systems = systems
        self.verifier = CredentialVerifier(systems)

    @staticmethod
    def _in_service(camera: Camera) -> None:
        if camera.revoked_at is not None:
            raise CredentialError(f"camera {camera.serial} was revoked on {camera.revoked_at:%Y-%m-%d}")

    def _assigned_user(self, camera: Camera) -> CameraUser:
        """The camera user of a camera in service (not revoked, assigned)."""
        self._in_service(camera)
        user = self.fleet.camera_user(camera.organisation_id, camera.camera_user_id)
        if user is None:
            raise CredentialError(f"camera {camera.serial} is not assigned to a camera user")
        return user

    def _system(self, camera: Camera) -> System:
        system = self.systems.system(camera.organisation_id, camera.system_id)
        if system is None:
            raise CredentialError(f"camera {camera.serial} belongs to no system of its organisation")
        return system

    def key_change(self, camera: Camera) -> KeyChange | None:
        """The key change the camera would receive at its next dock, if any."""
        system = self._system(camera)
        if camera.key_id is None or camera.key_id == system.key.key_id:
            return None
        return KeyChange(camera, system, camera.confirmed_key_id == system.key.key_id)

    def key_changes(self, organisation_id: str) -> list[KeyChange]:
        """The organisation's cameras whose system key was replaced since they docked."""
        changes = (self.key_change(camera) for camera in self.fleet.cameras(organisation_id)
                   if camera.revoked_at is None and camera.system_id is not None)
        return [change for change in changes if change is not None]

    def confirm_key_change(self, organisation_id: str, camera_id: str, thumbprint: str) -> KeyChange:
        """An admin confirms, by the new key's thumbprint they compared, that the camera may
        take its system's new key; 409 when there is no such change or the key is another."""
        camera = self.fleet.require_camera(organisation_id, camera_id)
        change = self.key_change(camera)
        if change is None:
            raise Conflict(f"camera {camera.serial} has no key change to confirm")
        if thumbprint.replace(" ", "").upper() != change.system.key.key_id.upper():
            raise Conflict(f"the new key of system {change.system.name} is {change.new_thumbprint}, "
                           f"not {thumbprint}: compare the thumbprints again")
        self.fleet.confirm_key(camera, change.system.key.key_id)
        return KeyChange(camera, change.system, True)

    def _signing_system(self, camera: Camera, issuer: CredentialIssuer) -> System:
        """The camera's system, certified by ``issuer``: a system registered before systems
        had signing keys takes the key of its first dock at that system (an upgrade; the
        keys directory's end-to-end key says it is that system); one with another signing
        key is not this system's, and its cameras are refused."""
        system = self._system(camera)
        if system.signing_key is None and self.systems.has_had_key(system, issuer.system_key):
            self.systems.set_signing_key(system, issuer.public)
        elif system.signing_key is None:
            raise CredentialError(f"camera {camera.serial} belongs to system {system.name}, which has no signing key "
                                  "registered yet: dock the camera at its own system")
        elif system.signing_key != issuer.public:
            raise CredentialError(
                f"camera {camera.serial} belongs to system {system.name}, whose signing key is "
                f"{system.signing_key.thumbprint}; this keys directory signs with {issuer.public.thumbprint}: dock the "
                "camera at its own system (or register this signing key there with `bwlive admin bootstrap`)")
        return system

    def dock(self, serial: str, device_key: Ed25519PublicKey, issuer: CredentialIssuer) -> dict[str, Any]:
        """The dock package: its system's public key, profile, networks and a 6-day
        credential, the certificate of the camera's own ``device_key`` by ``issuer``, the
        signing key of the camera's system."""
        camera = self.fleet.camera_by_serial(serial)
        if camera is None:
            raise CredentialError(f"unknown camera {serial}: an admin must add it to the system first")
        user = self._assigned_user(camera)
        change = self.key_change(camera)
        if change is not None and not change.confirmed:
            raise KeyChangeUnconfirmed(change)
        public_key = self._signing_system(camera, issuer).key
        profile = self.fleet.profile(camera.organisation_id, user.profile_id)
        token, credential = issuer.issue(camera_id=camera.id, serial=camera.serial, camera_user=user.name,
                                         organisation_id=camera.organisation_id, device_key=device_key,
                                         now=self.fleet.clock.now())
        self.fleet.docked(camera, public_key.key_id)
        return {
            "serial": camera.serial,
            "camera_user": user.name,
            "profile": {"name": profile.name, "streaming": profile.streaming, "location": profile.location}
            if profile else None,
            "networks": self.fleet.networks_for(user),
            "public_key": public_key.pem().decode(),
            "thumbprint": public_key.thumbprint,
            "signing_thumbprint": issuer.public.thumbprint,
            "credential": token,
            "credential_expires_at": credential.expires_at.isoformat(),
        }

    def identify(self, token: str, now: datetime) -> tuple[Camera, Certificate]:
        """The camera a device credential names, and the credential: signed by the signing
        key of the camera's own system, not expired, the camera still there and not revoked."""
        credential, signer = self.verifier.verify(token, now)
        camera = self.fleet.camera(credential.organisation_id, credential.camera_id)
        if camera is None:
            raise CredentialError(f"unknown camera {credential.serial}: it was removed from the system")
        self._in_service(camera)
        if camera.system_id != signer.id:
            system = self._system(camera)
            raise CredentialError(f"camera {camera.serial} belongs to system {system.name}, but its certificate is "
                                  f"signed by system {signer.name}: dock the camera at its own system")
        return camera, credential

    def admit(self, camera: Camera) -> str:
        """Whether an identified camera may publish now (assigned, streaming on in its
        profile); returns its camera user's name, which names the stream."""
        user = self._assigned_user(camera)
        profile = self.fleet.profile(camera.organisation_id, user.profile_id)
        if profile is None or not profile.streaming:
            name = profile.name if profile else "(none)"
            raise CredentialError(f"streaming is off in profile {name} of camera user {user.name}")
        return user.name

    def check_stream_key(self, camera: Camera, key_id: str) -> None:
        """A new stream must be sealed to the camera's system's current key: a replaced
        (retired) key is refused, though streams already running on it go on."""
        system = self._system(camera)
        if key_id == system.key.key_id:
            return
        retired = self.systems.replaced_at(system, key_id)
        if retired is not None:
            raise BadRequest(f"the stream key is sealed to key {key_id}, retired on {retired:%Y-%m-%d %H:%M} UTC "
                             f"when system {system.name} got a new key: dock the camera to take it")
        raise BadRequest(f"the stream key is sealed to key {key_id}, which is not this camera's system key: "
                         "dock the camera to get the current public key")
