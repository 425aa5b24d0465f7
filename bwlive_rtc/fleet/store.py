"""Camera users, profiles, Wi-Fi networks and cameras, per organisation, in SQLite.

A camera user (the wearer) has a profile; a profile says whether streaming and location
are on and which Wi-Fi networks cameras get; a network assigned to the camera user
directly overrides the profile's. Cameras that count for licenses (assigned to a user
whose profile streams) are reported to ``licensing.usage.CameraAssignments``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from ..auth.accounts import AccountError
from ..kernel.clock import Clock
from ..kernel.tokens import new_id
from ..licensing.usage import CameraAssignments


class FleetError(AccountError):
    """A fleet request that cannot be done; the message says why (HTTP 400)."""


@dataclass(frozen=True)
class Camera:
    id: str
    organisation_id: str
    serial: str
    model: str
    camera_user_id: str | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    streaming: bool
    location: bool


class Fleet:
    def __init__(self, db: sqlite_utils.Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.usage = CameraAssignments(db, clock)

    # --- profiles and camera users ----------------------------------------------------

    def add_profile(self, organisation_id: str, name: str, streaming: bool = True, location: bool = True) -> Profile:
        if not name.strip():
            raise FleetError("enter a name for the profile")
        profile = Profile(new_id(), name.strip(), streaming, location)
        self.db.table("profiles").insert({"id": profile.id, "organisation_id": organisation_id, "name": profile.name,
                                    "streaming": int(streaming), "location": int(location)})
        return profile

    def profile(self, profile_id: str | None) -> Profile | None:
        rows = list(self.db.table("profiles").rows_where("id = ?", [profile_id])) if profile_id else []
        return Profile(rows[0]["id"], rows[0]["name"], bool(rows[0]["streaming"]), bool(rows[0]["location"])) if rows else None

    def profile_by_name(self, organisation_id: str, name: str) -> Profile | None:
        rows = list(self.db.table("profiles").rows_where("organisation_id = ? AND name = ?", [organisation_id, name]))
        return self.profile(rows[0]["id"]) if rows else None

    def set_profile_switches(self, profile_id: str, streaming: bool | None = None, location: bool | None = None) -> None:
        changes = {k: int(v) for k, v in (("streaming", streaming), ("location", location)) if v is not None}
        self.db.table("profiles").update(profile_id, changes)
        self._sync_usage_for(self.db.query("SELECT id FROM cameras WHERE camera_user_id IN "
                                           "(SELECT id FROM camera_users WHERE profile_id = ?)", [profile_id]))

    def add_camera_user(self, organisation_id: str, name: str, profile_id: str | None = None) -> str:
        if not name.strip():
            raise FleetError("enter the camera user's name")
        user_id = new_id()
        self.db.table("camera_users").insert({"id": user_id, "organisation_id": organisation_id, "name": name.strip(),
                                        "profile_id": profile_id})
        return user_id

    def camera_user_by_name(self, organisation_id: str, name: str) -> dict | None:
        rows = list(self.db.table("camera_users").rows_where("organisation_id = ? AND name = ?", [organisation_id, name]))
        return rows[0] if rows else None

    def camera_user(self, user_id: str | None) -> dict | None:
        rows = list(self.db.table("camera_users").rows_where("id = ?", [user_id])) if user_id else []
        return rows[0] if rows else None

    def assign_profile(self, camera_user_id: str, profile_id: str) -> None:
        self.db.table("camera_users").update(camera_user_id, {"profile_id": profile_id})
        self._sync_usage_for(self.db.query("SELECT id FROM cameras WHERE camera_user_id = ?", [camera_user_id]))

    def add_network(self, organisation_id: str, ssid: str, password: str, *, profile_id: str | None = None,
                    camera_user_id: str | None = None) -> str:
        if bool(profile_id) == bool(camera_user_id):
            raise FleetError("assign the network to a profile or to a camera user")
        if not ssid.strip():
            raise FleetError("enter the network's name (SSID)")
        network_id = new_id()
        self.db.table("wifi_networks").insert({"id": network_id, "organisation_id": organisation_id, "ssid": ssid,
                                         "password": password, "profile_id": profile_id,
                                         "camera_user_id": camera_user_id})
        return network_id

    def networks_for(self, camera_user: dict) -> list[dict[str, str]]:
        """The user's own networks if any, else the profile's."""
        own = list(self.db.table("wifi_networks").rows_where("camera_user_id = ?", [camera_user["id"]]))
        rows = own or list(self.db.table("wifi_networks").rows_where("profile_id = ?", [camera_user["profile_id"]]))
        return [{"ssid": r["ssid"], "password": r["password"]} for r in rows]

    # --- cameras ---------------------------------------------------------------------

    def add_camera(self, organisation_id: str, serial: str, model: str, camera_user_id: str | None = None) -> Camera:
        serial = serial.strip()
        if not serial:
            raise FleetError("enter the camera's serial number")
        if list(self.db.table("cameras").rows_where("serial = ?", [serial])):
            raise FleetError(f"a camera with serial {serial} exists already")
        camera_id = new_id()
        self.db.table("cameras").insert({"id": camera_id, "organisation_id": organisation_id, "serial": serial,
                                   "model": model.strip(), "camera_user_id": camera_user_id, "revoked_at": None,
                                   "last_docked_at": None})
        self._sync_usage(camera_id)
        camera = self.camera(camera_id)
        assert camera is not None  # inserted above
        return camera

    def camera(self, camera_id: str) -> Camera | None:
        rows = list(self.db.table("cameras").rows_where("id = ?", [camera_id]))
        return _camera(rows[0]) if rows else None

    def camera_by_serial(self, serial: str) -> Camera | None:
        rows = list(self.db.table("cameras").rows_where("serial = ?", [serial.strip()]))
        return _camera(rows[0]) if rows else None

    def assign_camera(self, camera_id: str, camera_user_id: str | None) -> None:
        self.db.table("cameras").update(camera_id, {"camera_user_id": camera_user_id})
        self._sync_usage(camera_id)

    def revoke(self, camera_id: str) -> None:
        self.db.table("cameras").update(camera_id, {"revoked_at": self.clock.now().isoformat()})
        self._sync_usage(camera_id)

    def docked(self, camera_id: str) -> None:
        self.db.table("cameras").update(camera_id, {"last_docked_at": self.clock.now().isoformat()})

    def list(self, organisation_id: str) -> dict[str, list[dict]]:
        q = lambda table: list(self.db[table].rows_where("organisation_id = ?", [organisation_id]))  # noqa: E731
        return {"profiles": q("profiles"), "camera_users": q("camera_users"), "cameras": q("cameras"),
                "networks": [{k: v for k, v in n.items() if k != "password"} for n in q("wifi_networks")]}

    # --- license usage ---------------------------------------------------------------

    def counts_for_licenses(self, camera: Camera) -> bool:
        if camera.revoked_at is not None or camera.camera_user_id is None:
            return False
        user = self.camera_user(camera.camera_user_id)
        profile = self.profile(user["profile_id"]) if user else None
        return bool(profile and profile.streaming)

    def _sync_usage(self, camera_id: str) -> None:
        camera = self.camera(camera_id)
        if camera is None:
            return
        if self.counts_for_licenses(camera):
            self.usage.start(camera.organisation_id, camera.id)
        else:
            self.usage.end(camera.organisation_id, camera.id)

    def _sync_usage_for(self, rows) -> None:  # type: ignore[no-untyped-def]
        for row in list(rows):
            self._sync_usage(row["id"])


def _camera(row: dict) -> Camera:
    return Camera(row["id"], row["organisation_id"], row["serial"], row["model"], row["camera_user_id"],
                  datetime.fromisoformat(row["revoked_at"]) if row["revoked_at"] else None)
