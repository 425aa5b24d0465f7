"""``bwlive fleet``: the system's cameras, camera users, profiles and Wi-Fi networks."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.config import DEFAULT_DATA_DIR, Settings
from .services import open_services

if TYPE_CHECKING:
    from ..fleet.store import Camera, Fleet, Profile
    from .services import Services


def add_commands(commands: argparse._SubParsersAction) -> None:
    fleet = commands.add_parser("fleet", help="the system's cameras (on the system's data directory)").add_subparsers(
        dest="fleet_command", required=True)
    add_camera = fleet.add_parser("add-camera",
                                  help="add a camera for a camera user (made if new, with a streaming profile)")
    add_camera.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    add_camera.add_argument("--serial", required=True)
    add_camera.add_argument("--model", default="bwlive simulated camera")
    add_camera.add_argument("--user", required=True, help="the camera user (wearer) it is assigned to")
    add_camera.add_argument("--profile", default="Streaming", help="the user's profile (made if new)")
    add_camera.add_argument("--no-streaming", action="store_true", help="a new profile has streaming off")
    add_camera.add_argument("--organisation", help="organisation name (needed if there are several)")
    add_camera.set_defaults(run=fleet_command, action=_add_camera)
    listing = fleet.add_parser("list", help="profiles, camera users, cameras and networks")
    listing.set_defaults(action=_list)
    set_profile = fleet.add_parser("set-profile", help="switch a profile's streaming or location on or off")
    set_profile.add_argument("--profile", required=True)
    set_profile.add_argument("--streaming", choices=("on", "off"))
    set_profile.add_argument("--location", choices=("on", "off"))
    set_profile.set_defaults(action=_set_profile)
    network = fleet.add_parser("add-network", help="a Wi-Fi network for a profile, or for one camera user (overrides)")
    network.add_argument("--ssid", required=True)
    password = network.add_mutually_exclusive_group()
    password.add_argument("--password-stdin", action="store_true",
                          help="read the Wi-Fi password from standard input (first line)")
    password.add_argument("--password", help="the Wi-Fi password on the command line (discouraged: it lands in "
                                             "shell history and the process list); without either, you are asked")
    target = network.add_mutually_exclusive_group(required=True)
    target.add_argument("--profile")
    target.add_argument("--user")
    network.set_defaults(action=_add_network)
    key_changes = fleet.add_parser("key-changes", help="cameras whose system key was replaced since they docked")
    key_changes.set_defaults(action=_key_changes)
    confirm = fleet.add_parser("confirm-key", help="let a camera take its system's new key at its next dock")
    confirm.add_argument("--serial", required=True)
    confirm.add_argument("--thumbprint", required=True, help="the new key's thumbprint, as you compared it")
    confirm.set_defaults(action=_confirm_key)
    for sub in (listing, set_profile, network, key_changes, confirm):
        sub.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        sub.add_argument("--organisation", help="organisation name (needed if there are several)")
        sub.set_defaults(run=fleet_command)


def fleet_command(args: argparse.Namespace) -> int:
    """``bwlive fleet ...`` on the system's data directory, in its one organisation (or the named one)."""
    return in_organisation(Settings(data_dir=args.data_dir), args)


def in_organisation(settings: Settings, args: argparse.Namespace) -> int:
    """``args.action(services, organisation id, args)`` in the data directory's one
    organisation (or the one ``args.organisation`` names)."""
    from ..auth.accounts import AccountError
    from ..kernel.errors import BwliveError

    with open_services(settings) as services:
        try:
            organisations = services.auth.accounts.organisations(args.organisation)
            if len(organisations) != 1:
                raise AccountError("name the organisation with --organisation" if organisations else
                                   "no such organisation (run `bwlive admin bootstrap` first)")
            result: int = args.action(services, organisations[0]["id"], args)
            return result
        except BwliveError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2


def add_camera_for(fleet: Fleet, organisation_id: str, serial: str, model: str, user: str, profile_name: str,
                   streaming: bool = True) -> tuple[Camera, Profile]:
    """A camera for camera user ``user``, who is made if new with profile ``profile_name``
    (made if new, with ``streaming``)."""
    profile = fleet.profile_by_name(organisation_id, profile_name) or fleet.add_profile(
        organisation_id, profile_name, streaming=streaming)
    camera_user = fleet.camera_user_by_name(organisation_id, user) or fleet.add_camera_user(
        organisation_id, user, profile.id)
    return fleet.add_camera(organisation_id, serial, model, camera_user.id), profile


def _add_camera(services: Services, org: str, args: argparse.Namespace) -> int:
    camera, profile = add_camera_for(services.fleet.fleet, org, args.serial, args.model, args.user, args.profile,
                                     streaming=not args.no_streaming)
    print(f"camera {camera.serial} added for {args.user} (profile {profile.name}, streaming "
          f"{'on' if profile.streaming else 'off'})")
    return 0


def _list(services: Services, org: str, args: argparse.Namespace) -> int:
    listed = services.fleet.fleet.list(org)
    names = {p["id"]: p["name"] for p in listed["profiles"]}
    users = {u["id"]: u["name"] for u in listed["camera_users"]}
    for p in listed["profiles"]:
        print(f"profile {p['name']}: streaming {'on' if p['streaming'] else 'off'}, location {'on' if p['location'] else 'off'}")
    for u in listed["camera_users"]:
        print(f"camera user {u['name']}: profile {names.get(u['profile_id'], '(none)')}")
    for c in listed["cameras"]:
        state = f"revoked {c['revoked_at'][:10]}" if c["revoked_at"] else f"last docked {c['last_docked_at'] or 'never'}"
        print(f"camera {c['serial']} ({c['model']}): {users.get(c['camera_user_id'], 'unassigned')}, {state}")
    for n in listed["networks"]:
        owner = f"profile {names[n['profile_id']]}" if n["profile_id"] else f"camera user {users.get(n['camera_user_id'])}"
        print(f"network {n['ssid']}: {owner}")
    return 0


def _set_profile(services: Services, org: str, args: argparse.Namespace) -> int:
    fleet = services.fleet.fleet
    switch = {"on": True, "off": False, None: None}
    profile = fleet.set_profile_switches(org, _profile(fleet, org, args.profile).id, streaming=switch[args.streaming],
                                         location=switch[args.location])
    print(f"profile {profile.name}: streaming {'on' if profile.streaming else 'off'}, "
          f"location {'on' if profile.location else 'off'}")
    return 0


def _wifi_password(args: argparse.Namespace) -> str:
    """From ``--password-stdin``, a prompt that does not echo, or (with a warning) ``--password``."""
    import getpass

    if args.password is not None:
        print("warning: --password leaves the Wi-Fi password in your shell history and the process list; "
              "use --password-stdin or the prompt", file=sys.stderr)
        return str(args.password)
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no Wi-Fi password: give --password-stdin (and the password on standard input), "
                         "or run in a terminal to be asked")
    return getpass.getpass(f"Wi-Fi password for {args.ssid}: ")


def _add_network(services: Services, org: str, args: argparse.Namespace) -> int:
    from ..fleet.store import FleetError

    fleet = services.fleet.fleet
    password = _wifi_password(args)
    if args.profile:
        fleet.add_network(org, args.ssid, password, profile_id=_profile(fleet, org, args.profile).id)
    else:
        user = fleet.camera_user_by_name(org, args.user)
        if user is None:
            raise FleetError(f"no camera user named {args.user}")
        fleet.add_network(org, args.ssid, password, camera_user_id=user.id)
    print(f"network {args.ssid} added for {'profile ' + args.profile if args.profile else 'camera user ' + args.user}")
    return 0


def _key_changes(services: Services, org: str, args: argparse.Namespace) -> int:
    changes = services.fleet.docking.key_changes(org)
    for change in changes:
        state = "confirmed, taken at its next dock" if change.confirmed else "waiting for an admin's confirmation"
        print(f"camera {change.camera.serial} (system {change.system.name}): key {change.old_thumbprint} -> "
              f"{change.new_thumbprint}, {state}")
    if not changes:
        print("no camera has a key change")
    return 0


def _confirm_key(services: Services, org: str, args: argparse.Namespace) -> int:
    """Confirm a camera's key change on the system's data directory (audited as the command line)."""
    from ..fleet.store import FleetError

    camera = services.fleet.fleet.camera_by_serial(args.serial)
    if camera is None or camera.organisation_id != org:
        raise FleetError(f"no camera {args.serial} in this organisation")
    change = services.fleet.docking.confirm_key_change(org, camera.id, args.thumbprint)
    services.auth.audit.record("camera key change confirmed", organisation_id=org, user_name="command line",
                               serial=change.camera.serial, system=change.system.name,
                               old_thumbprint=change.old_thumbprint, new_thumbprint=change.new_thumbprint)
    print(f"camera {change.camera.serial} takes key {change.new_thumbprint} of system {change.system.name} "
          "at its next dock")
    return 0


def _profile(fleet: Fleet, org: str, name: str) -> Profile:
    from ..fleet.store import FleetError

    profile = fleet.profile_by_name(org, name)
    if profile is None:
        raise FleetError(f"no profile named {name}")
    return profile
