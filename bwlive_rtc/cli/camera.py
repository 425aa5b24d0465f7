"""``bwlive camera``: docking at the system, and the camera agent streaming."""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel.config import DEFAULT_DATA_DIR, DEFAULT_KEYS_DIR, Settings
from .services import open_services
from .stop import stop_event

if TYPE_CHECKING:
    from ..camera.agent import CameraAgent
    from ..fleet.credentials import CredentialIssuer
    from ..fleet.docking import Docking
    from ..fleet.pairing import PhonePairings


def add_commands(commands: argparse._SubParsersAction) -> None:
    camera = commands.add_parser("camera", help="the camera agent").add_subparsers(dest="camera_command", required=True)
    dock = camera.add_parser("dock", help="dock at the system: take key, profile, networks and a 6-day credential")
    dock.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the system's data directory")
    dock.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR,
                      help="the system's keys directory, with the signing key that certifies the camera")
    dock.add_argument("--serial", required=True)
    dock.add_argument("--out", type=Path, required=True, help="where the camera keeps what it took (JSON)")
    dock.set_defaults(run=camera_dock)
    phones = camera.add_parser("dock-phones", help="dock the paired phones waiting for a credential (a first one, "
                               "or one ending within a day), with the system's signing key")
    phones.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the system's data directory")
    phones.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR,
                        help="the system's keys directory, with the signing key that certifies the phones")
    phones.set_defaults(run=camera_dock_phones)
    stream = camera.add_parser("stream", help="stream until interrupted (or --duration)")
    stream.add_argument("--server", required=True, help="server base URL, e.g. http://127.0.0.1:8080")
    stream.add_argument("--dock-file", type=Path, required=True, help="what `bwlive camera dock` wrote")
    stream.add_argument("--file", type=Path, help="stream this video file (looped) instead of the test pattern")
    stream.add_argument("--no-audio", action="store_true", help="send no audio track")
    stream.add_argument("--no-gps", action="store_true", help="send no positions")
    stream.add_argument("--gpx", type=Path, help="replay this GPX track (looped, 1 Hz) instead of a walk")
    stream.add_argument("--gps-lost-after", type=float, metavar="S", help="simulate losing the GPS fix after S seconds")
    stream.add_argument("--gps-lost-for", type=float, metavar="S", help="... for S seconds (default: for good)")
    stream.add_argument("--fps", type=int, default=30)
    stream.add_argument("--help-after", type=float, metavar="S",
                        help="simulate the wearer's long press for help S seconds after streaming starts "
                             "(SIGUSR1 also asks for help at any time)")
    stream.add_argument("--battery", type=float, default=100.0, metavar="PERCENT",
                        help="the simulated battery's charge at start (it drains 12%% an hour)")
    stream.add_argument("--duration", type=float, help="stop after this many seconds")
    stream.add_argument("--insecure", action="store_true", help="accept a self-signed server certificate")
    stream.add_argument("--clock-offset", type=float, default=0.0, help="simulate a camera clock off by this many seconds")
    stream.add_argument("--recordings-dir", type=Path, default=Path("camera-recordings"),
                        help="the camera's own recording of each stream (default ./camera-recordings)")
    stream.add_argument("--troubleshoot", action="store_true",
                        help="print time, network, mode, addresses, name servers and the last server response every 10 s")
    stream.set_defaults(run=camera_stream)


def dock_to_file(docking: Docking, issuer: CredentialIssuer, serial: str, out: Path) -> dict[str, Any]:
    """Dock camera ``serial`` and write what it takes to ``out`` (0600): the system's public
    key, profile, networks and the certificate of its device key by ``issuer`` (the
    system's signing key), which the camera makes beside it the first time
    (``camera.device-key.pem``) and keeps across docks."""
    from ..camera.identity import device_key, device_key_path

    key = device_key(device_key_path(out))
    package = docking.dock(serial, key.public_key(), issuer)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(0o600)
    out.write_text(json.dumps(package, indent=2))
    return package


def camera_dock(args: argparse.Namespace) -> int:
    """The one command that loads the system's private signing key (the dock is at the system)."""
    from ..fleet.credentials import CredentialError, CredentialIssuer

    issuer = CredentialIssuer.load(args.keys_dir)
    with open_services(Settings(data_dir=args.data_dir, keys_dir=args.keys_dir)) as services:
        try:
            package = dock_to_file(services.fleet.docking, issuer, args.serial, args.out)
        except CredentialError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(f"camera {args.serial} docked for {package['camera_user']}: key thumbprint {package['thumbprint']}, "
          f"certified by signing key {package['signing_thumbprint']}, credential valid until "
          f"{package['credential_expires_at']}, {len(package['networks'])} Wi-Fi networks")
    return 0


def dock_phones(docking: Docking, pairings: PhonePairings, issuer: CredentialIssuer) -> tuple[int, int]:
    """Dock every paired phone that waits (PROTOCOL §6): its package goes where the phone
    picks it up. Returns (docked, refused); a refusal is printed and the others go on."""
    from ..crypto.signing import public_from_raw
    from ..fleet.credentials import CredentialError

    docked = refused = 0
    for phone in pairings.waiting():
        try:
            package = docking.dock(phone.serial, public_from_raw(phone.device_key), issuer)
        except CredentialError as exc:
            print(f"phone {phone.serial} not docked: {exc}", file=sys.stderr)
            refused += 1
            continue
        pairings.docked(phone, package)
        print(f"phone {phone.serial} docked for {package['camera_user']}: credential valid until "
              f"{package['credential_expires_at']}")
        docked += 1
    return docked, refused


def camera_dock_phones(args: argparse.Namespace) -> int:
    """Like ``camera dock``, at the system: the phones' certificates are the system's to sign."""
    from ..fleet.credentials import CredentialIssuer

    issuer = CredentialIssuer.load(args.keys_dir)
    with open_services(Settings(data_dir=args.data_dir, keys_dir=args.keys_dir)) as services:
        docked, refused = dock_phones(services.fleet.docking, services.fleet.pairings, issuer)
    print(f"{docked} phones docked, {refused} refused")
    return 1 if refused else 0


async def camera_stream(args: argparse.Namespace) -> int:
    from ..camera.agent import CameraAgent, CameraError, CameraOptions, CameraState
    from ..camera.identity import device_key_path, load_device_key
    from ..crypto.system_key import SystemPublicKey

    try:
        docked = json.loads(args.dock_file.read_text())
        key = SystemPublicKey.from_pem(docked["public_key"].encode())
        name, credential = docked["camera_user"], docked["credential"]
        device_key = load_device_key(device_key_path(args.dock_file))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {args.dock_file} is not a dock file from `bwlive camera dock`: {exc}", file=sys.stderr)
        return 2
    location = bool((docked.get("profile") or {}).get("location", True))
    print(f"[{name}] system key thumbprint: {key.thumbprint}", flush=True)
    print(f"[{name}] credential valid until {docked['credential_expires_at']}", flush=True)

    def show(state: CameraState) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"[{name}] {stamp} {state.mode}{': ' + state.detail if state.detail else ''}", flush=True)

    agent = CameraAgent(
        CameraOptions(
            server=args.server, name=name, public_key=key, credential=credential, device_key=device_key, video_file=args.file,
            audio=not args.no_audio, gps=location and not args.no_gps, fps=args.fps, verify_tls=not args.insecure,
            clock_offset=args.clock_offset, recordings_dir=args.recordings_dir / docked["serial"],
            gpx=args.gpx, gps_lost_after=args.gps_lost_after, gps_lost_for=args.gps_lost_for, battery=args.battery,
        ),
        on_state=show,
    )
    stop = stop_event()
    report = asyncio.ensure_future(_troubleshoot(agent, name, docked.get("networks", []))) if args.troubleshoot else None
    try:
        await agent.start()
    except CameraError:
        return 1
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: asyncio.ensure_future(agent.request_help()))
    pressed = (loop.call_later(args.help_after, lambda: asyncio.ensure_future(agent.request_help()))
               if args.help_after is not None else None)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.duration)
    except TimeoutError:
        pass
    if pressed is not None:
        pressed.cancel()
    loop.remove_signal_handler(signal.SIGUSR1)
    await agent.stop()
    if report is not None:
        report.cancel()
    return 0


async def _troubleshoot(agent: CameraAgent, name: str, networks: list[dict[str, str]]) -> None:
    from ..camera.agent import troubleshooting

    while True:
        for item, value in troubleshooting(agent, networks).items():
            print(f"[{name}] troubleshooting {item}: {value}", flush=True)
        await asyncio.sleep(10)
