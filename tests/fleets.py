"""Real fleet objects of an organisation (a system, a profile, a camera user with a camera
and a Wi-Fi network), and a snapshot of everything an organisation's fleet holds, so tests
can attack one organisation's objects from another and check nothing changed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bwlive_rtc.crypto.system_key import SystemPublicKey
from bwlive_rtc.fleet.service import FLEET
from bwlive_rtc.systems.store import SYSTEMS

FLEET_TABLES = ("profiles", "camera_users", "cameras", "wifi_networks", "systems", "system_key_history",
                "camera_assignments")


@dataclass(frozen=True)
class FleetIds:
    organisation: str
    system: str
    profile: str
    camera_user: str
    camera: str
    serial: str
    network: str


def make_fleet(app: web.Application, organisation_id: str, tag: str, key: SystemPublicKey) -> FleetIds:
    """A system with ``key`` (unless the organisation has one already) and a streaming
    profile "Patrol", camera user, camera and Wi-Fi network, all named with ``tag``."""
    systems, fleet = app[SYSTEMS], app[FLEET].fleet
    system = systems.first(organisation_id)
    system_id = system.id if system else systems.add(organisation_id, f"{tag} system", key)
    profile = fleet.add_profile(organisation_id, "Patrol")
    user = fleet.add_camera_user(organisation_id, f"{tag} wearer", profile.id)
    camera = fleet.add_camera(organisation_id, f"SN-{tag.upper()}-1", "test camera", user.id)
    network = fleet.add_network(organisation_id, f"{tag}-WLAN", f"{tag} secret", profile_id=profile.id)
    return FleetIds(organisation_id, system_id, profile.id, user.id, camera.id, camera.serial, network)


def fleet_rows(app: web.Application, organisation_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the organisation's fleet and systems, passwords included."""
    db = app[FLEET].fleet.db
    return {table: sorted(db.rows(f"SELECT * FROM {table} WHERE organisation_id = :organisation",
                                  organisation=organisation_id), key=repr)
            for table in FLEET_TABLES}
