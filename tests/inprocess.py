"""The server in the test's own process, on a manual clock, with two organisations and
their admins: the start of the API tests that play organisations against each other."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bwlive_rtc.auth.service import AUTH, AuthService
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server


@dataclass
class Started:
    runner: web.AppRunner
    url: str
    clock: ManualClock
    keys: SystemKeyPair  # the system's pair, in tmp_path / "keys"
    org_a: str  # admin@a.test, "Ann Admin"
    org_b: str  # admin@b.test, "Bo Admin"

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def auth(self) -> AuthService:
        return self.app[AUTH]


async def start_two_organisations(tmp_path: Path, password: str) -> Started:
    keys = SystemKeyPair.generate()
    keys.save(tmp_path / "keys")
    clock = ManualClock()
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"), clock)
    auth = runner.app[AUTH]
    org_a = auth.accounts.create_organisation("Org A", auth.accounts.create_user("admin@a.test", "Ann Admin", password))
    org_b = auth.accounts.create_organisation("Org B", auth.accounts.create_user("admin@b.test", "Bo Admin", password))
    return Started(runner, f"http://127.0.0.1:{port}", clock, keys, org_a, org_b)
