"""Start the bwlive server for benchmarking: ICE host candidates on one address (default
127.0.0.1, which aioice would otherwise skip) and a configurable viewer timeout.

    python bench/serve_for_bench.py --keys-dir DIR --data-dir DIR [--ice-ip 127.0.0.1]
        [--port 0] [--consumer-timeout 15] [--workers N]

Prints "bwlive server listening on http://127.0.0.1:PORT" like ``bwlive serve``.

The data directory gets an organisation whose admin is BENCH_EMAIL / BENCH_PASSWORD
(viewers sign in as it), the keys' system key, and ``--cameras`` docked cameras whose
packages are <data dir>/bench-cameras.json (a camera has one live stream at a time, so
each publisher streams with its own credential). For tools that can neither sign in nor
set headers (../shared/sfu-bench): ``--open-viewing`` makes requests without a session act
as that admin, ``--query-credentials`` moves a bench camera's credential into the
``Authorization`` header of ``POST /whip?camera=NAME&key=ENVELOPE``. Both patch this
benchmark process only; the product has no such switches and takes credentials from the
header only.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from common import BENCH_EMAIL, BENCH_PASSWORD, BenchCamera, force_ice_host


async def serve(args: argparse.Namespace) -> None:
    from bwlive_rtc import server as server_module
    from bwlive_rtc.cli.admin import bootstrap
    from bwlive_rtc.kernel.config import Settings

    settings = Settings(
        host="127.0.0.1", port=args.port, data_dir=args.data_dir, keys_dir=args.keys_dir,
        tls=False, consumer_timeout=args.consumer_timeout, workers=args.workers,
    )
    from bwlive_rtc.crypto.system_signing import SIGNING_FILE, SigningKeyPair

    if not (settings.keys_dir / SIGNING_FILE).exists():  # a tool may make only the end-to-end pair:
        SigningKeyPair.generate().save(settings.keys_dir)  # the system's signing key, before the system is made
    bootstrap(settings, "Bench", BENCH_EMAIL, "Bench Admin", BENCH_PASSWORD)
    credentials = _dock_bench_cameras(settings, args.cameras)
    if args.no_recording:  # to measure what recording costs; the product always records
        from bwlive_rtc import app as app_module

        app_module.FEATURES = tuple(f for f in app_module.FEATURES if f.name not in ("recordings", "evidence"))
    make_app = server_module.create_app

    def bench_app(*given):  # type: ignore[no-untyped-def]
        app = make_app(*given)
        if args.query_credentials:
            app.middlewares.insert(0, _query_credentials(credentials))
        if args.open_viewing:
            app.on_startup.append(_act_as_bench_admin_without_session)  # after auth has installed its check
        return app

    server_module.create_app = bench_app
    runner, port = await server_module.start_server(settings)
    print(f"bwlive server listening on {settings.base_url(port)}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def _dock_bench_cameras(settings, count: int) -> list[BenchCamera]:  # type: ignore[no-untyped-def]
    """``count`` docked cameras for the load generators (one live stream per camera): their
    packages in <data dir>/bench-cameras.json; returns them."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bwlive_rtc.fleet.credentials import CredentialIssuer
    from bwlive_rtc.fleet.service import FleetService
    from bwlive_rtc.kernel.clock import SystemClock
    from bwlive_rtc.storage.database import Database
    from bwlive_rtc.systems.store import Systems

    issuer = CredentialIssuer.load(settings.keys_dir)  # docked at the system before the server starts
    database, clock = Database(settings.database), SystemClock()
    try:
        service = FleetService.open(database, clock, Systems(database.db, clock))
        fleet = service.fleet
        org = database.db.value("SELECT id FROM organisations WHERE name = 'Bench'")
        profile = fleet.profile_by_name(org, "Bench") or fleet.add_profile(org, "Bench")
        packages = []
        for number in range(1, count + 1):
            serial = f"BENCH-{number}"
            if fleet.camera_by_serial(serial) is None:
                fleet.add_camera(org, serial, "load generator", fleet.add_camera_user(org, f"bench {number}", profile.id).id)
            device_key = Ed25519PrivateKey.generate()  # what the camera would make and keep
            package = service.docking.dock(serial, device_key.public_key(), issuer)
            package["device_key"] = device_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
            packages.append(package)
        (settings.data_dir / "bench-cameras.json").write_text(json.dumps(packages))
    finally:
        database.close()
    return [BenchCamera.from_package(package) for package in packages]


def _query_credentials(credentials: list[BenchCamera]):  # type: ignore[no-untyped-def]
    """For tools that can set no header (../shared/sfu-bench's http-sdp adapter): a
    ``POST /whip?camera=NAME&key=ENVELOPE`` gets the credential of the bench camera given
    to NAME (one each, in order of first use) in ``Authorization``, the envelope in
    ``Bwlive-Content-Key`` and the server's time in ``Bwlive-Camera-Time``, with the
    query removed; the answer names the stream in ``X-Stream-Id`` (the tool's fallback,
    the last segment of ``Location``, is the session secret)."""
    from aiohttp import web
    from aiohttp.streams import StreamReader

    given: dict[str, BenchCamera] = {}

    @web.middleware
    async def middleware(request, handler):  # type: ignore[no-untyped-def]
        name = request.query.get("camera")
        if request.method != "POST" or request.path != "/whip" or name is None:
            return await handler(request)
        if name not in given:
            given[name] = credentials[len(given)]
        offer = await request.content.read()
        headers = {**request.headers, **given[name].whip_headers(offer, request.query.get("key", ""))}
        cloned = request.clone(headers=headers, rel_url=request.path)
        body = StreamReader(request.protocol, 2**16, loop=asyncio.get_running_loop())
        body.feed_data(offer)  # the body was read once, to sign it: the handler reads it again
        body.feed_eof()
        cloned._payload = body
        response = await handler(cloned)
        if "Location" in response.headers:
            response.headers["X-Stream-Id"] = response.headers["Location"].split("/")[2]
        return response

    return middleware


async def _act_as_bench_admin_without_session(app) -> None:  # type: ignore[no-untyped-def]
    """``--open-viewing``: a request without a session cookie acts as the bench admin."""
    from bwlive_rtc.auth.service import AUTH
    from bwlive_rtc.auth.sessions import COOKIE_NAME
    from bwlive_rtc.kernel.access import SIGNED_IN, Caller

    signed_in = app[SIGNED_IN]

    async def caller_or_bench_admin(request):  # type: ignore[no-untyped-def]
        if request.cookies.get(COOKIE_NAME):
            return await signed_in(request)
        accounts = request.app[AUTH].accounts
        user = accounts.user_by_email(BENCH_EMAIL)
        membership = accounts.memberships(user.id)[0]
        return Caller(user.id, user.name, membership.organisation_id, membership.role)

    app[SIGNED_IN] = caller_or_bench_admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys-dir", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ice-ip", default="127.0.0.1", help="the only ICE host candidate address")
    parser.add_argument("--consumer-timeout", type=float, default=15.0, help="drop viewers silent this long (s)")
    parser.add_argument("--open-viewing", action="store_true", help="sessionless requests act as the bench admin")
    parser.add_argument("--query-credentials", action="store_true",
                        help="POST /whip?camera=NAME&key=ENVELOPE publishes as a bench camera (tools without headers)")
    parser.add_argument("--cameras", type=int, default=64, help="bench cameras to dock (one live stream each)")
    parser.add_argument("--no-recording", action="store_true", help="leave recording out (to measure its cost)")
    parser.add_argument("--workers", type=int, default=0,
                        help="media worker processes (bwlive serve --workers; default 0: the SFU in this process)")
    args = parser.parse_args()
    if args.workers and args.no_recording:
        parser.error("--no-recording leaves recording out of this process only; media workers always record")
    logging.basicConfig(level=logging.WARNING)
    force_ice_host(args.ice_ip)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
