"""Start the bwlive server for benchmarking: ICE host candidates on one address (default
127.0.0.1, which aioice would otherwise skip) and a configurable viewer timeout.

    python bench/serve_for_bench.py --keys-dir DIR --data-dir DIR [--ice-ip 127.0.0.1]
        [--port 0] [--consumer-timeout 15]

Prints "bwlive server listening on http://127.0.0.1:PORT" like ``bwlive serve``.

The data directory gets an organisation whose admin is BENCH_EMAIL / BENCH_PASSWORD
(viewers sign in as it), the keys' system key, and one docked camera whose package is
<data dir>/bench-camera.json (publishers use its credential). ``--open-viewing`` is for tools that
cannot sign in (../shared/sfu-bench): requests without a session act as that admin. It
patches this benchmark process only; the product has no such switch.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from common import BENCH_EMAIL, BENCH_PASSWORD, force_ice_host


async def serve(args: argparse.Namespace) -> None:
    from bwlive_rtc.cli.admin import bootstrap
    from bwlive_rtc.kernel.config import Settings
    from bwlive_rtc.server import start_server

    settings = Settings(
        host="127.0.0.1", port=args.port, data_dir=args.data_dir, keys_dir=args.keys_dir,
        tls=False, consumer_timeout=args.consumer_timeout,
    )
    bootstrap(settings, "Bench", BENCH_EMAIL, "Bench Admin", BENCH_PASSWORD)
    _dock_bench_camera(settings)
    if args.open_viewing:
        _act_as_bench_admin_without_session()
    if args.no_recording:  # to measure what recording costs; the product always records
        from bwlive_rtc import app as app_module

        app_module.FEATURES = tuple(f for f in app_module.FEATURES if f.name != "recordings")
    runner, port = await start_server(settings)
    print(f"bwlive server listening on {settings.base_url(port)}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def _dock_bench_camera(settings) -> None:  # type: ignore[no-untyped-def]
    """One docked camera for the load generators: its package in <data dir>/bench-camera.json
    (every bench publisher streams with its credential)."""
    import json

    from bwlive_rtc.fleet.service import FleetService
    from bwlive_rtc.kernel.clock import SystemClock
    from bwlive_rtc.storage.database import Database
    from bwlive_rtc.systems.store import Systems

    database, clock = Database(settings.database_path), SystemClock()
    try:
        service = FleetService.open(settings, database, clock, Systems(database.db, clock))
        fleet = service.fleet
        if fleet.camera_by_serial("BENCH-1") is None:
            org = next(iter(database.db["organisations"].rows))["id"]
            profile = fleet.add_profile(org, "Bench")
            fleet.add_camera(org, "BENCH-1", "load generator", fleet.add_camera_user(org, "bench", profile.id).id)
        (settings.data_dir / "bench-camera.json").write_text(json.dumps(service.docking.dock("BENCH-1")))
    finally:
        database.close()


def _act_as_bench_admin_without_session() -> None:
    from bwlive_rtc.auth import middleware
    from bwlive_rtc.auth.service import AUTH

    signed_in = middleware._signed_in_caller

    def caller_or_bench_admin(request):  # type: ignore[no-untyped-def]
        if request.cookies.get(middleware.COOKIE_NAME):
            return signed_in(request)
        auth = request.app[AUTH]
        user = auth.accounts.user_by_email(BENCH_EMAIL)
        membership = auth.accounts.memberships(user.id)[0]
        return middleware.Caller(user, None, membership.organisation_id, membership.role)

    middleware._signed_in_caller = caller_or_bench_admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys-dir", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ice-ip", default="127.0.0.1", help="the only ICE host candidate address")
    parser.add_argument("--consumer-timeout", type=float, default=15.0, help="drop viewers silent this long (s)")
    parser.add_argument("--open-viewing", action="store_true", help="sessionless requests act as the bench admin")
    parser.add_argument("--no-recording", action="store_true", help="leave recording out (to measure its cost)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    force_ice_host(args.ice_ip)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
