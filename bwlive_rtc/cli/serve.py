"""``bwlive serve`` and ``bwlive demo``: the server, alone or with simulated cameras."""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

from ..crypto.system_key import PRIVATE_FILE, PUBLIC_FILE
from ..crypto.system_signing import SIGNING_PUBLIC_FILE, SigningPublicKey
from ..kernel.config import DEFAULT_DATA_DIR, DEFAULT_KEYS_DIR, IPNetwork, Settings
from ..kernel.files import private_by_default
from ..kernel.lock import DataDirectoryLock
from .admin import bootstrap
from .fleet import add_camera_for
from .services import open_services
from .stop import stop_event

log = logging.getLogger(__name__)

DEMO_ORGANISATION = "Demo organisation"
DEMO_NAMES = ["Alex Jansen", "Sam de Vries", "Robin Bakker", "Kim Visser", "Noor Smit", "Jip Mulder"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the server (SFU, signaling, web client)")
    _add_server_options(serve)
    _add_recording_options(serve)
    _add_network_options(serve)
    serve.set_defaults(run=lambda args: run_serve(_settings(args)))
    demo = commands.add_parser("demo", help="server + three simulated cameras, on embedded defaults")
    _add_server_options(demo)
    _add_recording_options(demo)
    _add_network_options(demo)
    demo.add_argument("--cameras", type=int, default=3, help="how many simulated cameras (default 3)")
    demo.set_defaults(run=lambda args: run_demo(_settings(args), args.cameras))


def _add_server_options(parser: argparse.ArgumentParser, default_port: int = 8080) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=default_port,
                        help=f"port (default {default_port}; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="database and local files")
    parser.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR, help="where the system public key is")
    parser.add_argument("--database", metavar="URL", default=None,
                        help="metadata database, postgresql://USER@HOST/NAME (default: $BWLIVE_DATABASE, "
                             "else the SQLite file in --data-dir)")
    parser.add_argument("--bus", metavar="URL", default=None,
                        help="the bus between the nodes of a cluster, redis://HOST:PORT/DB (default: $BWLIVE_BUS, "
                             "else none: one server alone)")
    parser.add_argument("--node-url", default="", metavar="URL",
                        help="where the other nodes of a cluster reach this one, e.g. http://10.0.0.2:8080 "
                             "(default: this server's own URL; needed with --bus and --host 0.0.0.0)")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate (chain) for HTTPS")
    parser.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--tls", dest="tls", action="store_true", default=None,
                     help="force HTTPS (self-signed if no --tls-cert)")
    tls.add_argument("--no-tls", dest="tls", action="store_false", help="plain HTTP even off loopback")
    parser.add_argument("--clock-tolerance", type=float, default=10.0,
                        help="seconds a client's clock may be off the server's before it may not play (default 10)")
    parser.add_argument("--tile-url", default="",
                        help="map tiles URL template, e.g. https://tile.example.org/{z}/{x}/{y}.png (default: offline grid)")
    parser.add_argument("--tile-attribution", default="", help="attribution shown with --tile-url's map")
    parser.add_argument("--trusted-proxy", dest="trusted_proxies", action="append", default=[],
                        type=_network, metavar="ADDRESS",
                        help="a reverse proxy (address or CIDR; repeatable) whose X-Forwarded-Proto/For are believed")
    parser.add_argument("--workers", type=worker_count, default=os.cpu_count() or 1, metavar="N",
                        help="media worker processes running the SFU, each stream in one (default: the number of "
                             f"cores, {os.cpu_count() or 1}); 0: the SFU in the server's own process")
    parser.add_argument("--allow-private-integration-targets", action="store_true",
                        help="let SOC integrations send to loopback, private and link-local addresses (on-premises receivers)")


def port_number(value: str) -> int:
    """An argparse type: a TCP port, 0-65535 (a one-line error otherwise, no traceback)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def worker_count(value: str) -> int:
    """An argparse type: how many media workers, 0-256."""
    if not value.isdigit() or int(value) > 256:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of media workers (0-256)")
    return int(value)


def _network(value: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IP address or network (CIDR)") from None


def _add_network_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("media networking (docs/DEPLOYMENT.md)")
    group.add_argument("--media-ports", type=port_range, metavar="LOW-HIGH",
                       help="UDP ports of every media socket, e.g. 40000-40999 (default: any free port)")
    group.add_argument("--announce-address", type=ip_address, metavar="ADDRESS",
                       help="the address put in the server's ICE candidates: a 1:1 NAT's or cloud VM's public address")
    group.add_argument("--ice-server", dest="ice_servers", action="append", default=[], type=ice_server_url,
                       metavar="URL", help="a STUN or TURN server handed to cameras and browsers (repeatable), "
                       "e.g. turn:turn.example.org:3478?transport=tcp")
    group.add_argument("--turn-secret-file", type=Path, metavar="FILE",
                       help="the TURN server's shared secret (coturn static-auth-secret), for time-limited credentials")


def port_range(value: str) -> tuple[int, int]:
    """An argparse type: ``LOW-HIGH``, two UDP ports, LOW <= HIGH."""
    low, dash, high = value.partition("-")
    if not (dash and low.strip().isdigit() and high.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a port range: give LOW-HIGH, e.g. 40000-40999")
    first, last = int(low), int(high)
    if not 1 <= first <= last <= 65535:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a port range: ports are 1-65535 and the low one comes first")
    return first, last


def ip_address(value: str) -> str:
    """An argparse type: an IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IP address") from None


def ice_server_url(value: str) -> str:
    """An argparse type: a ``stun:``, ``turn:`` or ``turns:`` URL (RFC 7064/7065)."""
    from aiortc.rtcicetransport import parse_stun_turn_uri

    try:
        parse_stun_turn_uri(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a STUN or TURN URL, e.g. turn:turn.example.org:3478?transport=tcp") from None
    return value


def _turn_secret(args: argparse.Namespace) -> str | None:
    turns = [url for url in args.ice_servers if url.startswith(("turn:", "turns:"))]
    if args.turn_secret_file is None:
        if turns:
            raise SystemExit(f"error: {turns[0]} needs --turn-secret-file (the TURN server's shared secret)")
        return None
    try:
        secret = args.turn_secret_file.read_text().strip()
    except OSError as exc:
        raise SystemExit(f"error: cannot read --turn-secret-file: {exc.strerror}: {args.turn_secret_file}") from None
    if not secret:
        raise SystemExit(f"error: --turn-secret-file {args.turn_secret_file} is empty")
    return secret


def _add_recording_options(parser: argparse.ArgumentParser) -> None:
    group = add_store_options(parser)
    group.add_argument("--retention-hours", type=float, default=24.0,
                       help="hours recordings are kept after they end (default 24)")


def add_store_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Where recordings are (``serve``, ``evidence export``)."""
    group = parser.add_argument_group("recordings")
    group.add_argument("--recordings-dir", type=Path, help="evidence directory (default <data-dir>/recordings)")
    group.add_argument("--recordings-storage", choices=("local", "s3"), default="local",
                       help="where evidence goes (default local)")
    group.add_argument("--s3-bucket", help="bucket for --recordings-storage s3 (credentials: the usual AWS variables)")
    group.add_argument("--s3-prefix", default="", help="key prefix inside the bucket")
    group.add_argument("--s3-endpoint-url", help="an S3-compatible server such as MinIO (default AWS)")
    group.add_argument("--s3-region", help="the bucket's region")
    return group


def store_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of ``add_store_options``."""
    if args.recordings_storage == "s3" and not args.s3_bucket:
        raise SystemExit("error: --recordings-storage s3 needs --s3-bucket")
    return {"recordings_dir": args.recordings_dir, "recordings_storage": args.recordings_storage,
            "s3_bucket": args.s3_bucket, "s3_prefix": args.s3_prefix, "s3_endpoint_url": args.s3_endpoint_url,
            "s3_region": args.s3_region}


def _settings(args: argparse.Namespace) -> Settings:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("error: give both --tls-cert and --tls-key, or neither")
    settings = Settings(
        host=args.host, port=args.port, data_dir=args.data_dir, keys_dir=args.keys_dir,
        tls_cert=args.tls_cert, tls_key=args.tls_key, tls=args.tls, retention_hours=args.retention_hours,
        **store_settings(args),
        clock_tolerance_s=args.clock_tolerance,
        tile_url=args.tile_url, tile_attribution=args.tile_attribution,
        trusted_proxies=tuple(args.trusted_proxies),
        allow_private_integration_targets=args.allow_private_integration_targets,
        media_ports=args.media_ports, announce_address=args.announce_address, workers=args.workers,
        ice_servers=tuple(args.ice_servers), turn_secret=_turn_secret(args),
    )
    if args.database is not None:
        settings.database_url = args.database
    if args.bus is not None:
        settings.bus_url = args.bus
    settings.node_url = args.node_url
    if settings.bus_url and not settings.node_url and settings.host in ("0.0.0.0", "::"):
        raise SystemExit("error: in a cluster (--bus) listening on every address, give --node-url: the URL the other "
                         "nodes reach this one at (docs/DEPLOYMENT.md, \"A cluster\")")
    return settings


async def run_serve(settings: Settings) -> int:
    from ..crypto.system_key import SystemPublicKey
    from ..server import start_server

    private_by_default()
    with DataDirectoryLock(settings.data_dir):  # before anything touches the data directory
        _warn_of_private_keys(settings)
        stop = stop_event()
        runner, port = await start_server(settings)
        key = SystemPublicKey.load(settings.keys_dir)
        print(f"bwlive server listening on {settings.base_url(port)}", flush=True)
        print(f"system key thumbprint: {key.thumbprint}", flush=True)
        await stop.wait()
        await runner.cleanup()
    return 0


async def run_demo(settings: Settings, cameras: int) -> int:
    """Server plus simulated cameras (separate processes), on the embedded defaults."""
    private_by_default()
    with DataDirectoryLock(settings.data_dir):  # before anything touches the data directory
        return await _run_demo_locked(settings, cameras)


async def _run_demo_locked(settings: Settings, cameras: int) -> int:
    """The demo's process is a server like any other: it never loads the system's private
    signing key. Keys are made, and cameras docked, by the system's own commands in child
    processes, before the server starts."""
    from ..crypto.system_key import SystemKeyPair
    from ..server import start_server

    if not (settings.keys_dir / PUBLIC_FILE).exists():
        await _bwlive("system", "keys", "generate", "--keys-dir", str(settings.keys_dir))
        print(f"created the demo's keys in {settings.keys_dir}/")
    elif not (settings.keys_dir / SIGNING_PUBLIC_FILE).exists():
        await _bwlive("system", "keys", "generate", "--signing-only", "--keys-dir", str(settings.keys_dir))
        print(f"created the demo's signing key in {settings.keys_dir}/")
    email, password = _demo_admin(settings)
    dock_files = await _demo_cameras(settings, cameras)
    stop = stop_event()
    runner, port = await start_server(settings)
    base = settings.base_url(port)
    agents = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bwlive_rtc", "camera", "stream", "--server", base,
            "--dock-file", str(dock_file), *(["--insecure"] if settings.use_tls else []),
        )
        for dock_file in dock_files
    ]
    print(f"\nbwlive demo: server on {base} with {cameras} simulated cameras", flush=True)
    if (settings.keys_dir / PRIVATE_FILE).exists():
        pair, signing = SystemKeyPair.load(settings.keys_dir), SigningPublicKey.load(settings.keys_dir)
        print(f"thumbprint: {pair.public.thumbprint}; signing key thumbprint: {signing.thumbprint}")
        print("open this link with key in Chromium or Chrome (the key stays in the part after '#'):")
        print(f"\n  {pair.link(base, signing.raw)}\n", flush=True)
        print(f"(the demo keeps the system's private keys in {settings.keys_dir}/ for convenience; "
              "a real server's host must not hold them: docs/SECURITY.md)", flush=True)
    print(f"sign in as {email} with password {password}", flush=True)
    print("press Ctrl+C to stop", flush=True)
    await stop.wait()
    for proc in agents:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    await asyncio.gather(*(proc.wait() for proc in agents))
    await runner.cleanup()
    return 0


async def _bwlive(*args: str) -> None:
    """Run a bwlive command of the system in a child process; its errors end the demo."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bwlive_rtc", *args,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, error = await proc.communicate()
    if proc.returncode != 0:
        raise ValueError(f"'bwlive {' '.join(args[:3])}' failed: {error.decode().strip()}")


def _warn_of_private_keys(settings: Settings) -> None:
    """The system's private keys belong to operators' browsers and the system's host (SPEC
    §2), never the server's: say so loudly, on stderr and in the log."""
    from ..crypto.system_signing import SIGNING_FILE

    private, signing, former = (settings.keys_dir / PRIVATE_FILE, settings.keys_dir / SIGNING_FILE,
                                settings.former_signing_key_path)
    if private.exists():
        _warn(f"the system PRIVATE key is on this server: {private}\n"
              "Whoever reads this host can decrypt every stream and recording. Keep the private key\n"
              "only in operators' browsers (link with key) and with the system CLI; move it off\n"
              f"this host and leave only {settings.keys_dir / PUBLIC_FILE} here.")
        log.warning("the system private key is on the server host (%s): move it off (docs/SECURITY.md)", private)
    if signing.exists():
        _warn(f"the system's PRIVATE signing key is on this server: {signing}\n"
              "Whoever reads this host can certify cameras of their making. Keep it where cameras\n"
              "dock (the system's host, `bwlive camera dock`); the server needs only\n"
              f"{settings.keys_dir / SIGNING_PUBLIC_FILE}.")
        log.warning("the system's private signing key is on the server host (%s): move it off (docs/SECURITY.md)",
                    signing)
    if former.exists():
        _warn(f"{former} is the signing key the server used to hold; it is no longer used.\n"
              "Delete it: the system's signing key now lives in its keys directory.")
        log.warning("a former signing key is in the data directory (%s): delete it", former)


def _warn(text: str) -> None:
    print(f"\n{'!' * 78}\nWARNING: {text}\n{'!' * 78}\n", file=sys.stderr, flush=True)


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
    bootstrap(settings, DEMO_ORGANISATION, email, "Demo Admin", password)
    return email, password


async def _demo_cameras(settings: Settings, count: int) -> list[Path]:
    """``count`` demo cameras (added once, camera users named from ``DEMO_NAMES``), each
    docked now by ``bwlive camera dock`` at the system, in parallel child processes."""
    serials = [f"DEMO-{i + 1:03d}" for i in range(count)]
    with open_services(settings) as services:
        [organisation] = services.auth.accounts.organisations(DEMO_ORGANISATION)
        for i, serial in enumerate(serials):
            name = DEMO_NAMES[i % len(DEMO_NAMES)] + ("" if i < len(DEMO_NAMES) else f" {i // len(DEMO_NAMES) + 1}")
            if services.fleet.fleet.camera_by_serial(serial) is None:
                add_camera_for(services.fleet.fleet, organisation["id"], serial, "bwlive simulated camera", name,
                               "Streaming")
    dock_files = [settings.data_dir / "demo-cameras" / f"{serial}.json" for serial in serials]
    await asyncio.gather(*(
        _bwlive("camera", "dock", "--data-dir", str(settings.data_dir), "--keys-dir", str(settings.keys_dir),
                "--serial", serial, "--out", str(dock_file))
        for serial, dock_file in zip(serials, dock_files, strict=True)))
    return dock_files
