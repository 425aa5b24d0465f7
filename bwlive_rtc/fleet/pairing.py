"""Phones as cameras: pairing codes (docs/PROTOCOL.md §6).

An admin makes a one-time pairing code for a camera user (10 minutes, kept hashed). A
phone redeems it with the public half of the device key it made in its browser: the
system gets a camera for the phone (serial ``PHONE-…``, model ``phone``, of that camera
user) and the phone a pickup secret (kept hashed). The certificate is the system's to
sign, never the server's: ``bwlive camera dock-phones`` at the system docks every phone
that waits for its first package or whose credential ends within a day, and the phone
takes its dock package with the pickup secret.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..crypto.b64 import b64url_decode, b64url_encode
from ..crypto.signing import CERTIFICATE_VALIDITY, SignatureError, public_from_raw
from ..kernel.errors import BadRequest, Conflict, NotFound
from ..kernel.tokens import new_code, new_id, new_token, token_hash
from .store import Camera, CameraUser, Fleet

PAIRING_VALID_FOR = timedelta(minutes=10)
RENEW_WITHIN = timedelta(days=1)  # the dock renews a phone's credential this long before it ends
PHONE_MODEL = "phone"


class PairingError(BadRequest):
    """A pairing code or device key that cannot be used; the message says why."""


@dataclass(frozen=True)
class PairingCode:
    code: str
    expires_at: datetime
    camera_user: CameraUser


@dataclass(frozen=True)
class Redeemed:
    """A phone redeemed its code: its camera and the secret that picks up its package."""

    camera: Camera
    camera_user: CameraUser
    pickup: str


@dataclass(frozen=True)
class WaitingPhone:
    """A paired phone the system is to dock: its camera's serial and its device key."""

    pairing_id: str
    serial: str
    device_key: bytes


class PhonePairings:
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.db = fleet.db

    def create(self, organisation_id: str, camera_user_id: str, created_by: str) -> PairingCode:
        """A code for a camera user of the organisation (another organisation's is 404)."""
        user = self.fleet.camera_user(organisation_id, camera_user_id)
        if user is None:
            raise NotFound("no such camera user in this organisation")
        code, now = new_code(), self.fleet.clock.now()
        self.db.insert("phone_pairings", {
            "id": new_id(), "organisation_id": organisation_id, "camera_user_id": user.id,
            "code_hash": token_hash(code), "created_by": created_by, "created_at": now.isoformat(),
            "expires_at": (now + PAIRING_VALID_FOR).isoformat()})
        return PairingCode(code, now + PAIRING_VALID_FOR, user)

    def redeem(self, code: str, device_key: str) -> Redeemed:
        """Use a code once, for the phone whose device public key (b64u, raw Ed25519) is given."""
        try:
            raw = b64url_decode(device_key)
            public_from_raw(raw)
        except (ValueError, SignatureError):
            raise PairingError("device_key: not an Ed25519 public key (32 bytes, base64url)") from None
        row = self.db.row("SELECT * FROM phone_pairings WHERE code_hash = :hash", hash=token_hash(code.strip().upper()))
        if row is None:
            raise PairingError("this pairing code is not valid")
        if row["redeemed_at"]:
            raise PairingError("this pairing code has already been used: ask an admin for a new one")
        now = self.fleet.clock.now()
        if now >= datetime.fromisoformat(row["expires_at"]):
            raise PairingError("this pairing code has expired: ask an admin for a new one")
        user = self.fleet.camera_user(row["organisation_id"], row["camera_user_id"])
        if user is None:
            raise PairingError("the camera user of this pairing code was deleted")
        # claim the code before anything else, so two phones racing with one code get one camera
        claimed = self.db.run("UPDATE phone_pairings SET redeemed_at = :now WHERE id = :id AND redeemed_at IS NULL",
                              now=now.isoformat(), id=row["id"])
        if claimed != 1:
            raise PairingError("this pairing code has already been used: ask an admin for a new one")
        camera = self.fleet.add_camera(row["organisation_id"], f"PHONE-{new_code(2)}", PHONE_MODEL, user.id)
        pickup = new_token()
        self.db.update("phone_pairings", {"id": row["id"]}, {"camera_id": camera.id, "device_key": b64url_encode(raw),
                                                           "pickup_hash": token_hash(pickup)})
        return Redeemed(camera, user, pickup)

    def waiting(self) -> list[WaitingPhone]:
        """Phones to dock now: never docked, or a credential ending within a day."""
        renew_before = (self.fleet.clock.now() - CERTIFICATE_VALIDITY + RENEW_WITHIN).isoformat()
        rows = self.db.rows("SELECT * FROM phone_pairings WHERE camera_id IS NOT NULL AND "
                            "(docked_at IS NULL OR docked_at < :renew_before) ORDER BY redeemed_at",
                            renew_before=renew_before)
        phones = []
        for row in rows:
            camera = self.fleet.camera(row["organisation_id"], row["camera_id"])
            if camera is not None and camera.revoked_at is None:
                phones.append(WaitingPhone(row["id"], camera.serial, b64url_decode(row["device_key"])))
        return phones

    def docked(self, phone: WaitingPhone, package: dict[str, Any]) -> None:
        self.db.update("phone_pairings", {"id": phone.pairing_id},
                       {"package": json.dumps(package), "docked_at": self.fleet.clock.now().isoformat()})

    def package(self, pickup: str) -> dict[str, Any]:
        """The newest dock package of the phone holding ``pickup``; 404 for an unknown
        secret, 409 while its system has not docked it yet."""
        wanted = token_hash(pickup)
        row = self.db.row("SELECT * FROM phone_pairings WHERE pickup_hash = :wanted", wanted=wanted)
        if row is None or not hmac.compare_digest(row["pickup_hash"], wanted):
            raise NotFound("no such paired phone: pair it again with a new code")
        camera = self.fleet.camera(row["organisation_id"], row["camera_id"])
        if camera is None or camera.revoked_at is not None:
            raise NotFound("this phone was revoked or removed: pair it again with a new code")
        if row["package"] is None:
            raise Conflict(f"phone {camera.serial} is paired and waits for its system to dock it "
                           "(`bwlive camera dock-phones` at the system)")
        package: dict[str, Any] = json.loads(row["package"])
        return package
