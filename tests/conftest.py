"""Shared fixtures: a key pair, the real server and camera agents as processes, Chromium."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningKeyPair
from bwlive_rtc.viewer.session import ApiClient
from tests.chromium import chromium_path, launch
from tests.netlab import Lab, LabError
from tests.postgres import DATABASE_VARIABLE, DATABASES
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server

# Module-scoped fixtures that hold no database; a test using any other (a module's server,
# its data directory) shares the module's database, as it shares its data directory.
STATELESS_FIXTURES = {"browser", "lab", "lab_playwright", "lab_chromium", "lab_browser", "lab_server_options",
                      "tiles", "turn_secret_file", "coturn", "module_database", "postgresql_databases"}


def _use_database(url: str | None) -> str | None:
    """Make ``url`` the database of every command and server (``$BWLIVE_DATABASE``); the one before."""
    before = os.environ.get(DATABASE_VARIABLE)
    if url is None:
        os.environ.pop(DATABASE_VARIABLE, None)
    else:
        os.environ[DATABASE_VARIABLE] = url
    return before


@pytest.fixture(scope="session", autouse=True)
def postgresql_databases() -> Iterator[None]:
    """On PostgreSQL (tests/postgres.py), drop what the session made at its end."""
    yield
    if DATABASES:
        DATABASES.drop_all()


@pytest.fixture(scope="module", autouse=True)
def module_database() -> Iterator[str | None]:
    """On PostgreSQL, a database for the module's servers and data directories."""
    if DATABASES is None:
        yield None
        return
    url = DATABASES.create()
    before = _use_database(url)
    yield url
    _use_database(before)
    DATABASES.drop(url)


@pytest.fixture(autouse=True)
def test_database(request: pytest.FixtureRequest, module_database: str | None) -> Iterator[None]:
    """On PostgreSQL, a database of the test's own, unless it uses the module's state."""
    definitions = request.node._fixtureinfo.name2fixturedefs
    shared = any(definition.scope != "function" and definition.baseid.startswith("tests")
                 and name not in STATELESS_FIXTURES for name, defs in definitions.items() for definition in defs)
    if DATABASES is None or shared:
        yield
        return
    url = DATABASES.create()
    before = _use_database(url)
    yield
    _use_database(before)
    DATABASES.drop(url)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bwlive")


@pytest.fixture(scope="module")
def system_keys(workdir: Path) -> SystemKeyPair:
    """The system's end-to-end pair, and its signing key beside it (as `bwlive system keys generate`)."""
    pair = SystemKeyPair.generate()
    pair.save(workdir / "keys")
    SigningKeyPair.generate().save(workdir / "keys")
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


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A network lab (tests/netlab.py) for the module; removed at its end, also after a
    failure. A lab that cannot be made fails the test with the reason (never skips)."""
    try:
        made = Lab.create()
    except LabError as exc:
        pytest.fail(f"cannot make the network lab: {exc}")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def lab_server_options() -> tuple[str, ...]:
    """More ``bwlive serve`` options for ``lab_server`` (a test module overrides this)."""
    return ()


@pytest.fixture(scope="module")
def lab_server(workdir: Path, system_keys: SystemKeyPair, lab: Lab, lab_server_options: tuple[str, ...]) -> Iterator[Server]:
    """The server on the lab's server host (plain HTTP: Chromium is told the origin is
    secure); the test process reaches it from the viewer host."""
    srv = Server(workdir, workdir / "keys", "--host", lab.address("server"), "--no-tls", *lab_server_options,
                 prefix=lab.prefix("server"), call=lambda function, *args: lab.call("viewer", function, *args))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def lab_playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def lab_chromium(lab: Lab, lab_server: Server, lab_playwright: Playwright,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Browser]]:
    """Starts headless Chromium on a lab host (``"viewer"``, ``"viewer2"``)."""
    browsers: list[Browser] = []

    def start(host: str) -> Browser:
        script = lab.wrapper(host, chromium_path(), tmp_path_factory.mktemp("chromium") / f"chromium-on-{host}")
        browsers.append(launch(lab_playwright, script, (f"--unsafely-treat-insecure-origin-as-secure={lab_server.url}",)))
        return browsers[-1]

    yield start
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="module")
def lab_browser(lab_chromium: Callable[[str], Browser]) -> Browser:
    """Headless Chromium on the lab's viewer host."""
    return lab_chromium("viewer")
