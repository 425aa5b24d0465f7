"""``bwlive`` command line: serve, demo, camera stream, system keys."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from .kernel.config import DEFAULT_DATA_DIR, DEFAULT_KEYS_DIR, Settings


def _add_server_options(parser: argparse.ArgumentParser, default_port: int = 8080) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port, help=f"port (default {default_port}; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="database and local files")
    parser.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR, help="where the system public key is")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate (chain) for HTTPS")
    parser.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--tls", dest="tls", action="store_true", default=None, help="force HTTPS (self-signed if no --tls-cert)")
    tls.add_argument("--no-tls", dest="tls", action="store_false", help="plain HTTP even off loopback")
    parser.add_argument("--clock-tolerance", type=float, default=10.0,
                        help="seconds a client's clock may be off the server's before it may not play (default 10)")
    parser.add_argument("--tile-url", default="",
                        help="map tiles URL template, e.g. https://tile.example.org/{z}/{x}/{y}.png (default: offline grid)")
    parser.add_argument("--tile-attribution", default="", help="attribution shown with --tile-url's map")


def _add_recording_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("recordings")
    group.add_argument("--recordings-dir", type=Path, help="evidence directory (default <data-dir>/recordings)")
    group.add_argument("--retention-hours", type=float, default=24.0, help="hours recordings are kept after they end (default 24)")
    group.add_argument("--recordings-storage", choices=("local", "s3"), default="local", help="where evidence goes (default local)")
    group.add_argument("--s3-bucket", help="bucket for --recordings-storage s3 (credentials: the usual AWS variables)")
    group.add_argument("--s3-prefix", default="", help="key prefix inside the bucket")
    group.add_argument("--s3-endpoint-url", help="an S3-compatible server such as MinIO (default AWS)")
    group.add_argument("--s3-region", help="the bucket's region")


def _settings(args: argparse.Namespace) -> Settings:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("error: give both --tls-cert and --tls-key, or neither")
    if args.recordings_storage == "s3" and not args.s3_bucket:
        raise SystemExit("error: --recordings-storage s3 needs --s3-bucket")
    return Settings(
        host=args.host, port=args.port, data_dir=args.data_dir, keys_dir=args.keys_dir,
        tls_cert=args.tls_cert, tls_key=args.tls_key, tls=args.tls,
        recordings_dir=args.recordings_dir, retention_hours=args.retention_hours,
        recordings_storage=args.recordings_storage, s3_bucket=args.s3_bucket, s3_prefix=args.s3_prefix,
        s3_endpoint_url=args.s3_endpoint_url, s3_region=args.s3_region,
        clock_tolerance_s=args.clock_tolerance,
        tile_url=args.tile_url, tile_attribution=args.tile_attribution,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bwlive", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (SFU, signaling, web client)")
    _add_server_options(serve)
    _add_recording_options(serve)

    demo = commands.add_parser("demo", help="server + three simulated cameras, on embedded defaults")
    _add_server_options(demo)
    _add_recording_options(demo)
    demo.add_argument("--cameras", type=int, default=3, help="how many simulated cameras (default 3)")

    fleet = commands.add_parser("fleet", help="the system's cameras (on the system's data directory)").add_subparsers(
        dest="fleet_command", required=True)
    add_camera = fleet.add_parser("add-camera", help="add a camera for a camera user (made if new, with a streaming profile)")
    add_camera.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    add_camera.add_argument("--serial", required=True)
    add_camera.add_argument("--model", default="bwlive simulated camera")
    add_camera.add_argument("--user", required=True, help="the camera user (wearer) it is assigned to")
    add_camera.add_argument("--profile", default="Streaming", help="the user's profile (made if new)")
    add_camera.add_argument("--no-streaming", action="store_true", help="a new profile has streaming off")
    add_camera.add_argument("--organisation", help="organisation name (needed if there are several)")
    listing = fleet.add_parser("list", help="profiles, camera users, cameras and networks")
    set_profile = fleet.add_parser("set-profile", help="switch a profile's streaming or location on or off")
    set_profile.add_argument("--profile", required=True)
    set_profile.add_argument("--streaming", choices=("on", "off"))
    set_profile.add_argument("--location", choices=("on", "off"))
    network = fleet.add_parser("add-network", help="a Wi-Fi network for a profile, or for one camera user (overrides)")
    network.add_argument("--ssid", required=True)
    network.add_argument("--password", required=True)
    target = network.add_mutually_exclusive_group(required=True)
    target.add_argument("--profile")
    target.add_argument("--user")
    for sub in (listing, set_profile, network):
        sub.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        sub.add_argument("--organisation", help="organisation name (needed if there are several)")

    camera = commands.add_parser("camera", help="the camera agent").add_subparsers(dest="camera_command", required=True)
    dock = camera.add_parser("dock", help="dock at the system: take key, profile, networks and a 6-day credential")
    dock.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the system's data directory")
    dock.add_argument("--serial", required=True)
    dock.add_argument("--out", type=Path, required=True, help="where the camera keeps what it took (JSON)")
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
    stream.add_argument("--duration", type=float, help="stop after this many seconds")
    stream.add_argument("--insecure", action="store_true", help="accept a self-signed server certificate")
    stream.add_argument("--clock-offset", type=float, default=0.0, help="simulate a camera clock off by this many seconds")
    stream.add_argument("--recordings-dir", type=Path, default=Path("camera-recordings"),
                        help="the camera's own recording of each stream (default ./camera-recordings)")
    stream.add_argument("--troubleshoot", action="store_true",
                        help="print time, network, mode, addresses, name servers and the last server response every 10 s")

    license_cmd = commands.add_parser("license", help="license issuing (for whoever issues licenses)").add_subparsers(
        dest="license_command", required=True)
    issuer = license_cmd.add_parser("issuer-keys", help="create an Ed25519 issuer key pair")
    issuer.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    issue = license_cmd.add_parser("issue", help="print a signed license file")
    issue.add_argument("--issuer-key", type=Path, default=DEFAULT_KEYS_DIR / "license-issuer-private.pem")
    issue.add_argument("--organisation", required=True, help="organisation id (Settings shows it)")
    issue.add_argument("--cameras", type=int, required=True, help="cameras covered (7-day average)")
    issue.add_argument("--days", type=int, default=365, help="valid for this many days (default 365)")
    issue.add_argument("--from", dest="valid_from", help="first valid day, YYYY-MM-DD (default today)")

    admin = commands.add_parser("admin", help="administration of a server's data directory").add_subparsers(
        dest="admin_command", required=True)
    bootstrap = admin.add_parser("bootstrap", help="create the first organisation and its admin; register the local system key")
    bootstrap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    bootstrap.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    bootstrap.add_argument("--organisation", required=True, help="organisation name")
    bootstrap.add_argument("--email", required=True, help="the admin's e-mail address (sign-in name)")
    bootstrap.add_argument("--name", default="Administrator", help="the admin's display name")
    bootstrap.add_argument("--password-stdin", action="store_true", help="read the password from standard input (else one is generated and printed)")

    system = commands.add_parser("system", help="the system (manager): keys, joining an organisation").add_subparsers(dest="system_command", required=True)
    join = system.add_parser("join", help="join an organisation with the one-time authorization code an admin created")
    join.add_argument("--server", required=True, help="server base URL")
    join.add_argument("--code", required=True, help="the authorization code, e.g. ABCD-EFGH-JKLM")
    join.add_argument("--name", required=True, help="a name for this system")
    join.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    join.add_argument("--insecure", action="store_true", help="accept a self-signed server certificate")
    keys = system.add_parser("keys", help="the end-to-end key pair").add_subparsers(dest="keys_command", required=True)
    generate = keys.add_parser("generate", help="create the key pair; print thumbprint and link with key")
    generate.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    generate.add_argument("--base-url", default="http://127.0.0.1:8080", help="web client address for the link")
    generate.add_argument("--force", action="store_true", help="replace an existing key pair")
    show = keys.add_parser("show", help="print the thumbprint (and the link, if the private key is here)")
    show.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    show.add_argument("--base-url", default="http://127.0.0.1:8080")
    for command in (generate, show):
        command.add_argument("--passphrase-stdin", action="store_true",
                             help="read a passphrase from standard input; also print a password-protected link")
    key_import = keys.add_parser("import", help="take the key pair from a link with key (systems sharing one key)")
    key_import.add_argument("link", help="the link with key ('#key=...' or password-protected '#pkey=...')")
    key_import.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    key_import.add_argument("--passphrase-stdin", action="store_true", help="read the link's passphrase from standard input")
    key_import.add_argument("--force", action="store_true", help="replace a different key pair already there")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aioice").setLevel(logging.WARNING)
    from . import commands  # imported late: keeps `bwlive --help` fast

    try:
        if args.command == "serve":
            return asyncio.run(commands.serve(_settings(args)))
        if args.command == "demo":
            return asyncio.run(commands.demo(_settings(args), args.cameras))
        if args.command == "camera" and args.camera_command == "stream":
            return asyncio.run(commands.camera_stream(args))
        if args.command == "system":
            if args.system_command == "join":
                return asyncio.run(commands.system_join(args))
            return commands.system_keys(args)
        if args.command == "fleet":
            return commands.fleet_command(args)
        if args.command == "camera" and args.camera_command == "dock":
            return commands.camera_dock(args)
        if args.command == "license":
            return commands.license_command(args)
        if args.command == "admin":
            return commands.admin_bootstrap(args)
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
