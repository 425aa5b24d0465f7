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
from ..storage.one_time_links import LinkSentences, OneTimeLinks
from .store import Camera, CameraUser, Fleet

PAIRING_VALID_FOR = timedelta(minutes=10)
RENEW_WITHIN = timedelta(days=1)  # the dock renews a phone's credential this long before it ends
PHONE_MODEL = "phone"


class PairingError(BadRequest):
    """A pairing code or device key that cannot be used; the message says why."""


SENTENCES = LinkSentences(
    invalid="this pairing code is not valid",
    used="this pairing code has already been used: ask an admin for a new one",
    expired="this pairing code has expired: ask an admin for a new one")


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
        self.codes = OneTimeLinks(fleet.db, fleet.clock, "phone_pairings", "redeemed_at", PAIRING_VALID_FOR, SENTENCES,
                                  PairingError, key="code_hash", new=new_code)

    def create(self, organisation_id: str, camera_user_id: str, created_by: str) -> PairingCode:
        """A code for a camera user of the organisation (another organisation's is 404)."""
        user = self.fleet.camera_user(organisation_id, camera_user_id)
        if user is None:
            raise NotFound("no such camera user in this organisation")
        issued = self.codes.create({"id": new_id(), "organisation_id": organisation_id, "camera_user_id": user.id,
                                    "created_by": created_by})
        return PairingCode(issued.token, issued.expires_at, user)

    def redeem(self, code: str, device_key: str) -> Redeemed:
        """Use a code once, for the phone whose device public key (b64u, raw Ed25519) is given."""
        try:
            raw = b64url_decode(device_key)
            public_from_raw(raw)
        except (ValueError, SignatureError):
            raise PairingError("device_key: not an Ed25519 public key (32 bytes, base64url)") from None
        with self.db.transaction():  # a code whose camera user is gone is not used up
            row = self.codes.use(code.strip().upper())
            user = self.fleet.camera_user(row["organisation_id"], row["camera_user_id"])
            if user is None:
                raise PairingError("the camera user of this pairing code was deleted")
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
