"""Shared fixtures: a key pair, the real server and camera agents as processes, Chromium."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.viewer.session import ApiClient
from tests.chromium import launch
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bwlive")


@pytest.fixture(scope="module")
def system_keys(workdir: Path) -> SystemKeyPair:
    pair = SystemKeyPair.generate()
    pair.save(workdir / "keys")
    return pair


@pytest.fixture(scope="module")
def server(workdir: Path, system_keys: SystemKeyPair) -> Iterator[Server]:
    srv = Server(workdir, workdir / "keys")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def start_camera(workdir: Path, server: Server) -> Iterator[Callable[..., Camera]]:
    cameras: list[Camera] = []

    def start(name: str, *extra: str) -> Camera:
        camera = Camera(workdir, server.url, workdir / "keys", name, *extra)
        cameras.append(camera)
        camera.wait_for("streaming")
        return camera

    yield start
    for camera in cameras:
        camera.stop()


@pytest.fixture
async def api(server: Server):
    """An API client signed in as the test organisation's admin."""
    client = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    yield client
    await client.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium for the browser tests of a module."""
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
