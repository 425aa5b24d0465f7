"""Starting the real server and camera agents as separate processes for tests."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bwlive_rtc.kernel.clock import Clock, SystemClock
from tests.postgres import database_of

if TYPE_CHECKING:
    from bwlive_rtc.fleet.credentials import CredentialIssuer

LISTENING = re.compile(r"listening on (http\S+)")


class Process:
    """A child process whose output lines are collected in the background."""

    def __init__(self, args: list[str], cwd: Path, python: str = sys.executable, prefix: Sequence[str] = ()) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [*prefix, python, "-m", "bwlive_rtc", *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 20.0) -> re.Match[str]:
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = regex.search(line)
                if match:
                    return match
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {regex.pattern!r}; output:\n{self.output}")

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=2)
        return self.proc.returncode


ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "correct horse battery"
TEST_ORGANISATION = "Test organisation"
# The organisation cameras of the tests dock in: the bootstrapped one, else the first made
# with a system (SQL has no insertion order; organisations made at one moment tie).
TEST_ORGANISATION_ID = f"""SELECT id FROM organisations o ORDER BY name = '{TEST_ORGANISATION}' DESC,
    EXISTS (SELECT 1 FROM systems s WHERE s.organisation_id = o.id) DESC, created_at, id LIMIT 1"""


def bootstrap_admin(data_dir: Path, keys_dir: Path) -> None:
    """An organisation with an admin, and the local system key registered to it."""
    from bwlive_rtc.cli.admin import bootstrap
    from bwlive_rtc.kernel.config import Settings

    bootstrap(Settings(data_dir=data_dir, keys_dir=keys_dir, database_url=database_of(data_dir)), TEST_ORGANISATION,
              ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD)


def sign_in_cookie(url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
    """Sign in over HTTP; returns the Cookie header value."""
    request = urllib.request.Request(
        url + "/api/session", data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Set-Cookie"].split(";")[0]


def admin_call(url: str, method: str, path: str, body: object = None, email: str = ADMIN_EMAIL,
               password: str = ADMIN_PASSWORD) -> tuple[int, dict]:
    """A call as the test admin (or ``email``) signed in on the server's own pages (cookie and CSRF token)."""
    request = urllib.request.Request(url + "/api/session", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"email": email, "password": password}).encode())
    with urllib.request.urlopen(request, timeout=10) as answer:
        cookie, csrf = answer.headers["Set-Cookie"].split(";")[0], json.loads(answer.read())["csrf_token"]
    request = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": csrf})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def _direct(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


class Server(Process):
    """``bwlive serve`` on a free port. ``prefix``: run it inside a network namespace, and
    ``call``: how the test process reaches it there (tests/netlab.py's ``Lab.call``)."""

    def __init__(self, workdir: Path, keys_dir: Path, *extra: str, prefix: Sequence[str] = (),
                 call: Callable[..., Any] = _direct) -> None:
        self.data_dir = workdir / "data"
        self._workdir, self._keys_dir, self._extra, self._prefix, self.call = workdir, keys_dir, extra, prefix, call
        bootstrap_admin(self.data_dir, keys_dir)
        self._serve("0")

    def _serve(self, port: str) -> None:
        database = database_of(self.data_dir)
        workers = () if "--workers" in self._extra else ("--workers", "0")  # the SFU in process unless asked
        super().__init__(
            ["serve", "--port", port, "--keys-dir", str(self._keys_dir), "--data-dir", str(self.data_dir), *workers,
             *(("--database", database) if database else ()), *self._extra],
            cwd=self._workdir, prefix=self._prefix,
        )
        self.url = self.wait_for(LISTENING, timeout=60).group(1)  # a loaded shared machine starts slowly
        self.cookie = self.call(sign_in_cookie, self.url)

    def restart(self) -> None:
        """Stop the server and start it again on the same port with the same data."""
        self.stop()
        self._serve(self.url.rsplit(":", 1)[1])

    def get_json(self, path: str) -> dict:
        return self.call(_get_json, self.url + path, self.cookie)

    def wait_for_stream(self, camera: str, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for stream in self.get_json("/api/streams")["streams"]:
                if stream["camera"] == camera:
                    return stream
            time.sleep(0.1)
        raise AssertionError(f"camera {camera!r} never appeared; server output:\n{self.output}")


def _get_json(url: str, cookie: str) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=5) as response:
        return json.load(response)


def system_issuer(keys_dir: Path) -> CredentialIssuer:
    """The system's signing key in ``keys_dir``, made there first if the test made only the
    end-to-end pair (as ``bwlive system keys generate --signing-only`` would)."""
    from bwlive_rtc.crypto.system_signing import SIGNING_FILE, SigningKeyPair
    from bwlive_rtc.fleet.credentials import CredentialIssuer

    if not (keys_dir / SIGNING_FILE).exists():
        SigningKeyPair.generate().save(keys_dir)
    return CredentialIssuer.load(keys_dir)


def dock_camera(data_dir: Path, name: str, out: Path, clock: Clock | None = None, streaming: bool = True,
                keys_dir: Path | None = None) -> Path:
    """Add a camera for camera user ``name`` to the system (if new) and dock it with the
    signing key of ``keys_dir`` (default: ``keys`` beside ``data_dir``); returns the dock
    file. ``clock``: the server's clock, when a test runs it on a ManualClock."""
    from bwlive_rtc.cli.camera import dock_to_file
    from bwlive_rtc.fleet.service import FleetService
    from bwlive_rtc.kernel.config import Settings
    from bwlive_rtc.storage.database import Database
    from bwlive_rtc.systems.store import Systems

    settings, clock = Settings(data_dir=data_dir, database_url=database_of(data_dir)), clock or SystemClock()
    issuer = system_issuer(keys_dir or data_dir.parent / "keys")
    database = Database(settings.database)
    try:
        service = FleetService.open(database, clock, Systems(database.db, clock))
        fleet = service.fleet
        # the organisation of the system whose keys dock it (a test may make others with other keys)
        org = (database.db.value(
            "SELECT o.id FROM systems s JOIN organisations o ON o.id = s.organisation_id WHERE s.key_id = :key_id "
            "ORDER BY o.name = :test DESC, o.created_at, o.id LIMIT 1", key_id=issuer.system_key.key_id,
            test=TEST_ORGANISATION) or database.db.value(TEST_ORGANISATION_ID))
        serial = "SN-" + re.sub(r"\W+", "-", name).upper()
        if fleet.camera_by_serial(serial) is None:
            profile_name = "Streaming" if streaming else "No streaming"
            profile = fleet.profile_by_name(org, profile_name) or fleet.add_profile(org, profile_name, streaming=streaming)
            user = fleet.camera_user_by_name(org, name) or fleet.add_camera_user(org, name, profile.id)
            fleet.add_camera(org, serial, "test camera", user.id)
        dock_to_file(service.docking, issuer, serial, out)
    finally:
        database.close()
    return out


class Camera(Process):
    """A camera agent process, docked at the server's system first (data dir: ``data_dir``,
    or the ``data`` folder beside ``keys_dir``)."""

    def __init__(self, workdir: Path, server_url: str, keys_dir: Path, name: str, *extra: str,
                 data_dir: Path | None = None, clock: Clock | None = None, prefix: Sequence[str] = ()) -> None:
        slug = re.sub(r"\W+", "-", name)
        dock_file = dock_camera(data_dir or keys_dir.parent / "data", name, workdir / f"dock-{slug}.json", clock,
                                keys_dir=keys_dir)
        offset = (clock.now() - SystemClock().now()).total_seconds() if clock else 0.0
        super().__init__(
            ["camera", "stream", "--server", server_url, "--dock-file", str(dock_file),
             "--clock-offset", str(offset), *extra],
            cwd=workdir, prefix=prefix,
        )
        self.name = name
        self.dock_file = dock_file
