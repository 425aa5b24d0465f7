"""Camera users, profiles, Wi-Fi networks and cameras, per organisation, in the metadata database.

A camera user (the wearer) has a profile; a profile says whether streaming and location
are on and which Wi-Fi networks cameras get; a network assigned to the camera user
directly overrides the profile's. A camera belongs to one system of its organisation and
takes that system's key when it docks. Cameras that count for licenses (assigned to a
user whose profile streams) are reported to ``licensing.usage.CameraAssignments``.

Every method takes the organisation, and every object is read through ``_require`` or
``_find`` (``id AND organisation_id``): another organisation's id is "no such … in this
organisation", whether it is the object addressed or one it refers to. The one lookup
without an organisation is ``camera_by_serial``, for the dock (serials are unique).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..auth.accounts import AccountError
from ..kernel.clock import Clock
from ..kernel.errors import Conflict, NotFound
from ..kernel.tokens import new_id
from ..licensing.usage import CameraAssignments
from ..storage.sql import Sql
from ..systems.store import Systems

KINDS = {"profiles": "profile", "camera_users": "camera user", "cameras": "camera", "wifi_networks": "Wi-Fi network"}


class FleetError(AccountError):
    """A fleet request that cannot be done; the message says why (HTTP 400)."""


@dataclass(frozen=True)
class Profile:
    id: str
    organisation_id: str
    name: str
    streaming: bool
    location: bool


@dataclass(frozen=True)
class CameraUser:
    id: str
    organisation_id: str
    name: str
    profile_id: str | None


@dataclass(frozen=True)
class Camera:
    id: str
    organisation_id: str
    system_id: str | None
    serial: str
    model: str
    camera_user_id: str | None
    revoked_at: datetime | None
    key_id: str | None  # the system key it took at its last dock
    confirmed_key_id: str | None  # a change to that key an admin has confirmed
    last_docked_at: datetime | None = None


class Fleet:
    def __init__(self, db: Sql, clock: Clock, systems: Systems) -> None:
        self.db = db
        self.clock = clock
        self.systems = systems
        self.usage = CameraAssignments(db, clock)

    # --- reading by id, always within the organisation ---------------------------------

    def _find(self, table: str, organisation_id: str, object_id: str | None) -> dict[str, Any] | None:
        if not object_id:
            return None
        return self.db.row(f"SELECT * FROM {table} WHERE id = :id AND organisation_id = :organisation",
                           id=object_id, organisation=organisation_id)

    def _require(self, table: str, organisation_id: str, object_id: str) -> dict[str, Any]:
        row = self._find(table, organisation_id, object_id)
        if row is None:
            raise NotFound(f"no such {KINDS[table]} in this organisation")
        return row

    def _by_name(self, table: str, organisation_id: str, name: str) -> dict[str, Any] | None:
        return self.db.row(f"SELECT * FROM {table} WHERE organisation_id = :organisation AND name = :name",
                           organisation=organisation_id, name=name)

    # --- profiles and camera users ----------------------------------------------------

    def add_profile(self, organisation_id: str, name: str, streaming: bool = True, location: bool = True) -> Profile:
        if not name.strip():
            raise FleetError("enter a name for the profile")
        profile = Profile(new_id(), organisation_id, name.strip(), streaming, location)
        self.db.insert("profiles", {"id": profile.id, "organisation_id": organisation_id, "name": profile.name,
                                          "streaming": int(streaming), "location": int(location)})
        return profile

    def profile(self, organisation_id: str, profile_id: str | None) -> Profile | None:
        row = self._find("profiles", organisation_id, profile_id)
        return _profile(row) if row else None

    def profile_by_name(self, organisation_id: str, name: str) -> Profile | None:
        row = self._by_name("profiles", organisation_id, name)
        return _profile(row) if row else None

    def set_profile_switches(self, organisation_id: str, profile_id: str, streaming: bool | None = None,
                             location: bool | None = None) -> Profile:
        profile = _profile(self._require("profiles", organisation_id, profile_id))
        changes = {k: int(v) for k, v in (("streaming", streaming), ("location", location)) if v is not None}
        if changes:
            self.db.update("profiles", {"id": profile.id}, changes)
        self._sync_usage_for(organisation_id, self.db.rows(
            "SELECT id FROM cameras WHERE organisation_id = :organisation AND camera_user_id IN "
            "(SELECT id FROM camera_users WHERE organisation_id = :organisation AND profile_id = :profile)",
            organisation=organisation_id, profile=profile.id))
        return _profile(self._require("profiles", organisation_id, profile.id))

    def rename(self, table: str, organisation_id: str, object_id: str, name: str) -> str:
        """Rename a profile or camera user (names are unique in the organisation: the
        command line finds them by name); returns the old name."""
        row = self._require(table, organisation_id, object_id)
        other = self._by_name(table, organisation_id, name)
        if other is not None and other["id"] != object_id:
            raise Conflict(f"there is already a {KINDS[table]} named {name}")
        self.db.update(table, {"id": object_id}, {"name": name})
        return str(row["name"])

    def delete_profile(self, organisation_id: str, profile_id: str) -> Profile:
        """Delete a profile no camera user has, with its networks; one in use is a 409."""
        profile = _profile(self._require("profiles", organisation_id, profile_id))
        users = self._names("camera_users", "name", "profile_id", organisation_id, profile.id)
        if users:
            raise Conflict(f"profile {profile.name} is in use by {len(users)} camera user(s) ({', '.join(users)}): "
                           "give them another profile first")
        self._delete_with_networks("profiles", "profile_id", organisation_id, profile.id)
        return profile

    def delete_camera_user(self, organisation_id: str, camera_user_id: str) -> CameraUser:
        """Delete a camera user without cameras, with their own networks; one who still has
        cameras is a 409."""
        user = _camera_user(self._require("camera_users", organisation_id, camera_user_id))
        serials = self._names("cameras", "serial", "camera_user_id", organisation_id, user.id)
        if serials:
            raise Conflict(f"camera user {user.name} still has camera(s) {', '.join(serials)}: "
                           "give them to another camera user first")
        self._delete_with_networks("camera_users", "camera_user_id", organisation_id, user.id)
        return user

    def _names(self, table: str, name: str, refers: str, organisation_id: str, object_id: str) -> list[str]:
        """The ``name`` of each row of ``table`` whose ``refers`` column is ``object_id``."""
        rows = self.db.rows(f"SELECT {name} FROM {table} WHERE organisation_id = :organisation AND {refers} = :object"
                            f" ORDER BY {name}", organisation=organisation_id, object=object_id)
        return [row[name] for row in rows]

    def _delete_with_networks(self, table: str, refers: str, organisation_id: str, object_id: str) -> None:
        """Delete the object and the Wi-Fi networks assigned to it (their ``refers`` column)."""
        with self.db.transaction():
            self.db.delete("wifi_networks", organisation_id=organisation_id, **{refers: object_id})
            self.db.delete(table, id=object_id)

    def add_camera_user(self, organisation_id: str, name: str, profile_id: str | None = None) -> CameraUser:
        if not name.strip():
            raise FleetError("enter the camera user's name")
        if profile_id is not None:
            self._require("profiles", organisation_id, profile_id)
        user = CameraUser(new_id(), organisation_id, name.strip(), profile_id)
        self.db.insert("camera_users", {"id": user.id, "organisation_id": organisation_id, "name": user.name,
                                              "profile_id": profile_id})
        return user

    def camera_user(self, organisation_id: str, user_id: str | None) -> CameraUser | None:
        row = self._find("camera_users", organisation_id, user_id)
        return _camera_user(row) if row else None

    def camera_user_by_name(self, organisation_id: str, name: str) -> CameraUser | None:
        row = self._by_name("camera_users", organisation_id, name)
        return _camera_user(row) if row else None

    def assign_profile(self, organisation_id: str, camera_user_id: str, profile_id: str) -> tuple[CameraUser, Profile]:
        user = _camera_user(self._require("camera_users", organisation_id, camera_user_id))
        profile = _profile(self._require("profiles", organisation_id, profile_id))
        self.db.update("camera_users", {"id": user.id}, {"profile_id": profile.id})
        self._sync_usage_for(organisation_id, self.db.rows(
            "SELECT id FROM cameras WHERE organisation_id = :organisation AND camera_user_id = :user",
            organisation=organisation_id, user=user.id))
        return user, profile

    def add_network(self, organisation_id: str, ssid: str, password: str, *, profile_id: str | None = None,
                    camera_user_id: str | None = None) -> str:
        if bool(profile_id) == bool(camera_user_id):
            raise FleetError("assign the network to a profile or to a camera user")
        if not ssid.strip():
            raise FleetError("enter the network's name (SSID)")
        if profile_id:
            self._require("profiles", organisation_id, profile_id)
        if camera_user_id:
            self._require("camera_users", organisation_id, camera_user_id)
        network_id = new_id()
        self.db.insert("wifi_networks", {"id": network_id, "organisation_id": organisation_id, "ssid": ssid,
                                               "password": password, "profile_id": profile_id,
                                               "camera_user_id": camera_user_id})
        return network_id

    def change_network(self, organisation_id: str, network_id: str, ssid: str | None, password: str | None) -> str:
        """A new SSID and/or password for a network; returns its SSID."""
        row = self._require("wifi_networks", organisation_id, network_id)
        if ssid is not None and not ssid.strip():
            raise FleetError("enter the network's name (SSID)")
        changes = {k: v for k, v in (("ssid", ssid), ("password", password)) if v is not None}
        if changes:
            self.db.update("wifi_networks", {"id": network_id}, changes)
        return str(changes.get("ssid", row["ssid"]))

    def delete_network(self, organisation_id: str, network_id: str) -> str:
        """Delete a network; returns its SSID."""
        row = self._require("wifi_networks", organisation_id, network_id)
        self.db.delete("wifi_networks", id=network_id)
        return str(row["ssid"])

    def networks_for(self, user: CameraUser) -> list[dict[str, str]]:
        """The user's own networks if any, else the profile's."""
        networks = "SELECT ssid, password FROM wifi_networks WHERE organisation_id = :organisation AND "
        own = self.db.rows(networks + "camera_user_id = :user", organisation=user.organisation_id, user=user.id)
        rows = own or self.db.rows(networks + "profile_id = :profile", organisation=user.organisation_id,
                                   profile=user.profile_id)
        return [{"ssid": r["ssid"], "password": r["password"]} for r in rows]

    # --- cameras ---------------------------------------------------------------------

    def add_camera(self, organisation_id: str, serial: str, model: str, camera_user_id: str | None = None,
                   system_id: str | None = None) -> Camera:
        """A camera of ``system_id``, or of the organisation's first system."""
        serial = serial.strip()
        if not serial:
            raise FleetError("enter the camera's serial number")
        if camera_user_id is not None:
            self._require("camera_users", organisation_id, camera_user_id)
        system = self.systems.require(organisation_id, system_id) if system_id else self.systems.first(organisation_id)
        if system is None:
            raise Conflict("this organisation has no system yet: a camera belongs to a system, so join one first")
        if self.camera_by_serial(serial) is not None:
            raise Conflict(f"a camera with serial {serial} exists already")
        camera_id = new_id()
        self.db.insert("cameras", {
            "id": camera_id, "organisation_id": organisation_id, "system_id": system.id, "serial": serial,
            "model": model.strip(), "camera_user_id": camera_user_id, "revoked_at": None, "last_docked_at": None,
            "key_id": None, "confirmed_key_id": None})
        return self._sync_usage(organisation_id, camera_id)

    def camera(self, organisation_id: str, camera_id: str | None) -> Camera | None:
        row = self._find("cameras", organisation_id, camera_id)
        return _camera(row) if row else None

    def require_camera(self, organisation_id: str, camera_id: str) -> Camera:
        return _camera(self._require("cameras", organisation_id, camera_id))

    def camera_by_serial(self, serial: str) -> Camera | None:
        """The camera at the dock, which says only its serial (unique on the server)."""
        row = self.db.row("SELECT * FROM cameras WHERE serial = :serial", serial=serial.strip())
        return _camera(row) if row else None

    def reassign(self, organisation_id: str, camera_id: str, camera_user_id: str | None) -> Camera:
        """Give the camera to another camera user of the organisation (or to none); its
        streams are named after them from its next stream on."""
        camera = self.require_camera(organisation_id, camera_id)
        if camera_user_id is not None:
            self._require("camera_users", organisation_id, camera_user_id)
        self.db.update("cameras", {"id": camera.id}, {"camera_user_id": camera_user_id})
        return self._sync_usage(organisation_id, camera.id)

    def revoke(self, organisation_id: str, camera_id: str) -> Camera:
        camera = self.require_camera(organisation_id, camera_id)
        self.db.update("cameras", {"id": camera.id}, {"revoked_at": self.clock.now().isoformat()})
        return self._sync_usage(organisation_id, camera.id)

    def docked(self, camera: Camera, key_id: str) -> None:
        """The camera docked now and took key ``key_id``."""
        self.require_camera(camera.organisation_id, camera.id)
        self.db.update("cameras", {"id": camera.id}, {"last_docked_at": self.clock.now().isoformat(), "key_id": key_id,
                                                      "confirmed_key_id": None})

    def confirm_key(self, camera: Camera, key_id: str) -> None:
        """An admin confirmed that the camera may take key ``key_id`` at its next dock."""
        self.require_camera(camera.organisation_id, camera.id)
        self.db.update("cameras", {"id": camera.id}, {"confirmed_key_id": key_id})

    def cameras(self, organisation_id: str) -> list[Camera]:
        return [_camera(row) for row in self.db.rows(
            "SELECT * FROM cameras WHERE organisation_id = :organisation ORDER BY serial", organisation=organisation_id)]

    def list(self, organisation_id: str) -> dict[str, list[dict]]:
        q = lambda table: self.db.rows(f"SELECT * FROM {table} WHERE organisation_id = :organisation",  # noqa: E731
                                       organisation=organisation_id)
        return {"profiles": q("profiles"), "camera_users": q("camera_users"), "cameras": q("cameras"),
                "networks": [{k: v for k, v in n.items() if k != "password"} for n in q("wifi_networks")]}

    # --- license usage ---------------------------------------------------------------

    def counts_for_licenses(self, camera: Camera) -> bool:
        if camera.revoked_at is not None:
            return False
        user = self.camera_user(camera.organisation_id, camera.camera_user_id)
        profile = self.profile(camera.organisation_id, user.profile_id) if user else None
        return bool(profile and profile.streaming)

    def _sync_usage(self, organisation_id: str, camera_id: str) -> Camera:
        camera = self.require_camera(organisation_id, camera_id)
        if self.counts_for_licenses(camera):
            self.usage.start(organisation_id, camera.id)
        else:
            self.usage.end(organisation_id, camera.id)
        return camera

    def _sync_usage_for(self, organisation_id: str, rows: Any) -> None:
        for row in list(rows):
            self._sync_usage(organisation_id, row["id"])


def _profile(row: dict[str, Any]) -> Profile:
    return Profile(row["id"], row["organisation_id"], row["name"], bool(row["streaming"]), bool(row["location"]))


def _camera_user(row: dict[str, Any]) -> CameraUser:
    return CameraUser(row["id"], row["organisation_id"], row["name"], row["profile_id"])


def _camera(row: dict[str, Any]) -> Camera:
    return Camera(row["id"], row["organisation_id"], row["system_id"], row["serial"], row["model"],
                  row["camera_user_id"], datetime.fromisoformat(row["revoked_at"]) if row["revoked_at"] else None,
                  row["key_id"], row["confirmed_key_id"],
                  datetime.fromisoformat(row["last_docked_at"]) if row["last_docked_at"] else None)
