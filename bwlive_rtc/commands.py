"""What each ``bwlive`` command does, once its arguments are parsed."""
from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
import time
from pathlib import Path

from .crypto.system_key import PRIVATE_FILE, PUBLIC_FILE, SystemKeyPair, SystemPublicKey
from .kernel.config import Settings


def _stop_event() -> asyncio.Event:
    """Set on SIGINT/SIGTERM, for commands that run until stopped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(settings: Settings) -> int:
    from .server import start_server

    stop = _stop_event()
    runner, port = await start_server(settings)
    key = SystemPublicKey.load(settings.keys_dir)
    print(f"bwlive server listening on {settings.base_url(port)}", flush=True)
    print(f"system key thumbprint: {key.thumbprint}", flush=True)
    await stop.wait()
    await runner.cleanup()
    return 0


def system_keys(args: argparse.Namespace) -> int:
    keys_dir: Path = args.keys_dir
    passphrase = _read_passphrase() if args.passphrase_stdin else None
    if args.keys_command == "import":
        return _import_keys(keys_dir, SystemKeyPair.from_link(args.link, passphrase), args.force)
    if args.keys_command == "generate":
        if (keys_dir / PRIVATE_FILE).exists() and not args.force:
            print(f"error: a key pair already exists in {keys_dir}; use --force to replace it", file=sys.stderr)
            return 2
        pair = SystemKeyPair.generate()
        pair.save(keys_dir)
        print(f"key pair written to {keys_dir / PRIVATE_FILE} and {keys_dir / PUBLIC_FILE}")
        _print_key(pair.public, pair, args.base_url, passphrase)
        return 0
    public = SystemPublicKey.load(keys_dir)
    pair = SystemKeyPair.load(keys_dir) if (keys_dir / PRIVATE_FILE).exists() else None
    _print_key(public, pair, args.base_url, passphrase)
    return 0


def _read_passphrase() -> str:
    passphrase = sys.stdin.readline().rstrip("\n")
    if not passphrase:
        raise ValueError("no passphrase on standard input")
    return passphrase


def _import_keys(keys_dir: Path, pair: SystemKeyPair, force: bool) -> int:
    """Write the pair from a link, so this system encrypts to the same key as the link's."""
    if (keys_dir / PUBLIC_FILE).exists():
        existing = SystemPublicKey.load(keys_dir)
        if existing.key_id == pair.public.key_id:
            pair.save(keys_dir)
            print(f"this key pair is already in {keys_dir}; thumbprint: {existing.thumbprint}")
            return 0
        if not force:
            print(f"error: {keys_dir} holds another key pair ({existing.thumbprint}); use --force to replace it",
                  file=sys.stderr)
            return 2
    pair.save(keys_dir)
    print(f"key pair imported into {keys_dir}")
    print(f"thumbprint: {pair.public.thumbprint}")
    return 0


def _print_key(public: SystemPublicKey, pair: SystemKeyPair | None, base_url: str, passphrase: str | None) -> None:
    print(f"thumbprint: {public.thumbprint}")
    if pair is not None:
        print("link with key (give it only to operators; it contains the private key):")
        print(f"  {pair.link(base_url)}")
        if passphrase is not None:
            print("password-protected link with key (operators type the passphrase once):")
            print(f"  {pair.protected_link(base_url, passphrase)}")
    elif passphrase is not None:
        raise ValueError("the private key is not here: no link can be made")


def admin_bootstrap(args: argparse.Namespace) -> int:
    from .auth.accounts import AccountError

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else secrets.token_urlsafe(12)
    try:
        user, created = bootstrap(Settings(data_dir=args.data_dir, keys_dir=args.keys_dir), args.organisation,
                                  args.email, args.name, password)
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"organisation {args.organisation!r} with admin {user.email}")
    if not created:
        print("that account already existed: its password is unchanged")
    elif not args.password_stdin:
        print(f"password: {password}")
    return 0


def bootstrap(settings: Settings, organisation: str, email: str, name: str, password: str):  # type: ignore[no-untyped-def]
    """Create organisation + admin in the data directory; register the local system key."""
    from .auth.service import AuthService
    from .kernel.audit import AuditLog
    from .kernel.clock import SystemClock
    from .kernel.events import EventBus
    from .storage.database import Database
    from .systems.store import Systems

    database, clock = Database(settings.database_path), SystemClock()
    try:
        key = SystemPublicKey.load(settings.keys_dir) if (settings.keys_dir / PUBLIC_FILE).exists() else None
        auth = AuthService.open(database, clock, Systems(database.db, clock), AuditLog(database.db, clock), EventBus())
        return auth.bootstrap(organisation, email, name, password, key)
    finally:
        database.close()


def license_command(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from .licensing.license_file import License, sign

    if args.license_command == "issuer-keys":
        private_path = args.keys_dir / "license-issuer-private.pem"
        if private_path.exists():
            print(f"error: {private_path} exists already", file=sys.stderr)
            return 2
        key = Ed25519PrivateKey.generate()
        args.keys_dir.mkdir(parents=True, exist_ok=True)
        private_path.touch(0o600)
        private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        public_path = args.keys_dir / "license-issuer-public.pem"
        public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
        print(f"issuer keys written: {private_path} (keep it secret) and {public_path} (give it to servers)")
        return 0
    key = serialization.load_pem_private_key(args.issuer_key.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        print(f"error: {args.issuer_key} is not an Ed25519 private key", file=sys.stderr)
        return 2
    start = date.fromisoformat(args.valid_from) if args.valid_from else date.today()
    license = License(secrets.token_urlsafe(9), args.organisation, args.cameras, start,
                      start + timedelta(days=args.days - 1))
    print(sign(license, key))
    return 0


async def system_join(args: argparse.Namespace) -> int:
    import aiohttp

    key = SystemPublicKey.load(args.keys_dir)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False if args.insecure else None)) as session:
        try:
            async with session.post(
                args.server.rstrip("/") + "/api/systems/join",
                json={"code": args.code, "name": args.name, "public_key": key.pem().decode()},
            ) as response:
                body = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            print(f"error: cannot reach {args.server}: {exc}", file=sys.stderr)
            return 1
    if response.status != 201:
        print(f"error: the server refused ({response.status}): {body.get('error')}", file=sys.stderr)
        return 1
    print(f"system {args.name!r} joined; key thumbprint {body['thumbprint']}")
    return 0


def _fleet_service(data_dir: Path):  # type: ignore[no-untyped-def]
    from .fleet.service import FleetService
    from .kernel.clock import SystemClock
    from .storage.database import Database
    from .systems.store import Systems

    settings, clock = Settings(data_dir=data_dir), SystemClock()
    database = Database(settings.database_path)
    return settings, database, FleetService.open(settings, database, clock, Systems(database.db, clock))


def fleet_command(args: argparse.Namespace) -> int:
    """``bwlive fleet ...`` on the system's data directory."""
    from .auth.accounts import AccountError

    _, database, service = _fleet_service(args.data_dir)
    try:
        orgs = list(database.db["organisations"].rows) if database.db["organisations"].exists() else []
        if args.organisation:
            orgs = [o for o in orgs if o["name"] == args.organisation]
        if len(orgs) != 1:
            raise AccountError("name the organisation with --organisation" if orgs else
                               "no such organisation (run `bwlive admin bootstrap` first)")
        return _FLEET_COMMANDS[args.fleet_command](service.fleet, orgs[0]["id"], args)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        database.close()


def _fleet_add_camera(fleet, org: str, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    profile = fleet.profile_by_name(org, args.profile) or fleet.add_profile(org, args.profile, streaming=not args.no_streaming)
    user = fleet.camera_user_by_name(org, args.user)
    camera = fleet.add_camera(org, args.serial, args.model, user["id"] if user else fleet.add_camera_user(org, args.user, profile.id))
    print(f"camera {camera.serial} added for {args.user} (profile {profile.name}, streaming "
          f"{'on' if profile.streaming else 'off'})")
    return 0


def _fleet_list(fleet, org: str, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    listed = fleet.list(org)
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


def _fleet_set_profile(fleet, org: str, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from .fleet.store import FleetError

    profile = fleet.profile_by_name(org, args.profile)
    if profile is None:
        raise FleetError(f"no profile named {args.profile}")
    switch = {"on": True, "off": False, None: None}
    fleet.set_profile_switches(profile.id, streaming=switch[args.streaming], location=switch[args.location])
    profile = fleet.profile(profile.id)
    print(f"profile {profile.name}: streaming {'on' if profile.streaming else 'off'}, "
          f"location {'on' if profile.location else 'off'}")
    return 0


def _fleet_add_network(fleet, org: str, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from .fleet.store import FleetError

    if args.profile:
        profile = fleet.profile_by_name(org, args.profile)
        if profile is None:
            raise FleetError(f"no profile named {args.profile}")
        fleet.add_network(org, args.ssid, args.password, profile_id=profile.id)
    else:
        user = fleet.camera_user_by_name(org, args.user)
        if user is None:
            raise FleetError(f"no camera user named {args.user}")
        fleet.add_network(org, args.ssid, args.password, camera_user_id=user["id"])
    print(f"network {args.ssid} added for {'profile ' + args.profile if args.profile else 'camera user ' + args.user}")
    return 0


_FLEET_COMMANDS = {"add-camera": _fleet_add_camera, "list": _fleet_list, "set-profile": _fleet_set_profile,
                   "add-network": _fleet_add_network}


def camera_dock(args: argparse.Namespace) -> int:
    from .fleet.credentials import CredentialError

    _, database, service = _fleet_service(args.data_dir)
    try:
        package = service.docking.dock(args.serial)
    except CredentialError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        database.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.touch(0o600)
    args.out.write_text(json.dumps(package, indent=2))
    print(f"camera {args.serial} docked for {package['camera_user']}: key thumbprint {package['thumbprint']}, "
          f"credential valid until {package['credential_expires_at']}, {len(package['networks'])} Wi-Fi networks")
    return 0


async def camera_stream(args: argparse.Namespace) -> int:
    from .camera.agent import CameraAgent, CameraError, CameraOptions, CameraState

    try:
        docked = json.loads(args.dock_file.read_text())
        key = SystemPublicKey.from_pem(docked["public_key"].encode())
        name, credential = docked["camera_user"], docked["credential"]
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
            server=args.server, name=name, public_key=key, credential=credential, video_file=args.file,
            audio=not args.no_audio, gps=location and not args.no_gps, fps=args.fps, verify_tls=not args.insecure,
            clock_offset=args.clock_offset, recordings_dir=args.recordings_dir / docked["serial"],
            gpx=args.gpx, gps_lost_after=args.gps_lost_after, gps_lost_for=args.gps_lost_for,
        ),
        on_state=show,
    )
    stop = _stop_event()
    report = asyncio.ensure_future(_troubleshoot(agent, name, docked.get("networks", []))) if args.troubleshoot else None
    try:
        await agent.start()
    except CameraError:
        return 1
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.duration)
    except TimeoutError:
        pass
    await agent.stop()
    if report is not None:
        report.cancel()
    return 0


async def _troubleshoot(agent, name: str, networks: list[dict[str, str]]) -> None:  # type: ignore[no-untyped-def]
    from .camera.agent import troubleshooting

    while True:
        for item, value in troubleshooting(agent, networks).items():
            print(f"[{name}] troubleshooting {item}: {value}", flush=True)
        await asyncio.sleep(10)


def _demo_admin(settings: Settings) -> tuple[str, str]:
    """The demo organisation's admin; the password is made once and kept in the data dir."""
    email = "admin@demo.bwlive"
    saved = settings.data_dir / "demo-admin-password.txt"
    if saved.exists():
        password = saved.read_text().strip()
    else:
        password = secrets.token_urlsafe(9)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        saved.touch(0o600)
        saved.write_text(password + "\n")
    bootstrap(settings, "Demo organisation", email, "Demo Admin", password)
    return email, password


def _demo_dock(service, settings: Settings, serial: str, name: str) -> Path:  # type: ignore[no-untyped-def]
    """A demo camera for camera user ``name`` (added once), docked now."""
    fleet = service.fleet
    if fleet.camera_by_serial(serial) is None:
        org = next(iter(fleet.db["organisations"].rows_where("name = ?", ["Demo organisation"])))["id"]
        profile = fleet.profile_by_name(org, "Streaming") or fleet.add_profile(org, "Streaming")
        user = fleet.camera_user_by_name(org, name)
        fleet.add_camera(org, serial, "bwlive simulated camera", user["id"] if user else fleet.add_camera_user(org, name, profile.id))
    dock_file = settings.data_dir / "demo-cameras" / f"{serial}.json"
    dock_file.parent.mkdir(parents=True, exist_ok=True)
    dock_file.write_text(json.dumps(service.docking.dock(serial)))
    return dock_file


async def demo(settings: Settings, cameras: int) -> int:
    """Server plus simulated cameras (separate processes), on the embedded defaults."""
    from .fleet.service import FLEET
    from .server import start_server

    if not (settings.keys_dir / PUBLIC_FILE).exists():
        SystemKeyPair.generate().save(settings.keys_dir)
        print(f"created a demo key pair in {settings.keys_dir}/")
    email, password = _demo_admin(settings)
    stop = _stop_event()
    runner, port = await start_server(settings)
    base = settings.base_url(port)
    names = ["Alex Jansen", "Sam de Vries", "Robin Bakker", "Kim Visser", "Noor Smit", "Jip Mulder"]
    agents = []
    service = runner.app[FLEET]
    for i in range(cameras):
        name = names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}")
        dock_file = _demo_dock(service, settings, f"DEMO-{i + 1:03d}", name)
        agents.append(
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bwlive_rtc", "camera", "stream", "--server", base,
                "--dock-file", str(dock_file), *(["--insecure"] if settings.use_tls else []),
            )
        )
    print(f"\nbwlive demo: server on {base} with {cameras} simulated cameras", flush=True)
    if (settings.keys_dir / PRIVATE_FILE).exists():
        pair = SystemKeyPair.load(settings.keys_dir)
        print(f"thumbprint: {pair.public.thumbprint}")
        print("open this link with key in Chromium or Chrome (the key stays in the part after '#'):")
        print(f"\n  {pair.link(base)}\n", flush=True)
    print(f"sign in as {email} with password {password}", flush=True)
    print("press Ctrl+C to stop", flush=True)
    await stop.wait()
    for proc in agents:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    await asyncio.gather(*(proc.wait() for proc in agents))
    await runner.cleanup()
    return 0
