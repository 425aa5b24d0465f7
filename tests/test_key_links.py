"""Links with key (PROTOCOL §1): the password-protected form, importing a link into a
second system with the CLI, an admin replacing a system's public key, and the server
time the web client checks its clock against."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.b64 import b64url_decode, b64url_encode
from bwlive_rtc.crypto.link import ITERATIONS, WrongPassphrase, encrypt_pkcs8, parse_link, protected_link
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient

PASSPHRASE = "tulips in the spring"


def bwlive(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwlive_rtc", *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def test_protected_link_records_its_kdf_and_opens_with_the_passphrase_only() -> None:
    pair = SystemKeyPair.generate()
    link = pair.protected_link("https://ops.example", PASSPHRASE)
    assert link.startswith("https://ops.example/#pkey=") and pair.link("x").split("=")[1] not in link
    blob = json.loads(b64url_decode(link.split("#pkey=")[1]))
    assert blob["v"] == 1 and blob["kdf"] == "PBKDF2-SHA256" and blob["iter"] == ITERATIONS >= 600_000
    assert len(b64url_decode(blob["salt"])) == 16 and len(b64url_decode(blob["iv"])) == 12
    assert SystemKeyPair.from_link(link, PASSPHRASE).public.key_id == pair.public.key_id
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        SystemKeyPair.from_link(link, PASSPHRASE + "!")
    with pytest.raises(ValueError, match="password-protected"):
        SystemKeyPair.from_link(link)
    # A link made later with a higher count still opens: the count is read from the link.
    stronger = protected_link("https://ops.example", pair.pkcs8_der(), PASSPHRASE, iterations=ITERATIONS + 1)
    assert SystemKeyPair.from_link(stronger, PASSPHRASE).pkcs8_der() == pair.pkcs8_der()


@pytest.mark.parametrize(
    ("change", "message"),
    [({"iter": 1000}, "iteration count"), ({"iter": 10**9}, "iteration count"), ({"kdf": "MD5"}, "unsupported"),
     ({"v": 3}, "unsupported"), ({"v": 2}, "signing key \\(sig\\) is missing"), ({"ct": None}, "damaged")],
)
def test_protected_link_refuses_weak_or_damaged_parameters(change: dict, message: str) -> None:
    blob = {**encrypt_pkcs8(SystemKeyPair.generate().pkcs8_der(), PASSPHRASE), **change}
    blob = {k: v for k, v in blob.items() if v is not None}
    link = "https://x/#pkey=" + b64url_encode(json.dumps(blob).encode())
    with pytest.raises(ValueError, match=message):
        SystemKeyPair.from_link(link, PASSPHRASE)


def test_links_without_a_usable_key_are_refused() -> None:
    with pytest.raises(ValueError, match="carries no key"):
        parse_link("https://x/#other=1")
    with pytest.raises(ValueError, match="damaged"):
        parse_link("https://x/#pkey=!!!")
    with pytest.raises(ValueError, match="at least 8"):
        SystemKeyPair.generate().protected_link("https://x", "short")


def test_cli_prints_a_protected_link_and_imports_it_into_a_second_system(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    made = bwlive("system", "keys", "generate", "--keys-dir", str(first), "--base-url", "https://a.example",
                  "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert made.returncode == 0, made.stderr
    thumbprint = SystemPublicKey.load(first).thumbprint
    assert f"thumbprint: {thumbprint}" in made.stdout
    link = next(line.strip() for line in made.stdout.splitlines() if "#pkey=" in line)

    wrong = bwlive("system", "keys", "import", link, "--keys-dir", str(second), "--passphrase-stdin", stdin="nope nope nope\n")
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr and not second.exists()
    imported = bwlive("system", "keys", "import", link, "--keys-dir", str(second), "--passphrase-stdin",
                      stdin=PASSPHRASE + "\n")
    assert imported.returncode == 0, imported.stderr
    assert f"thumbprint: {thumbprint}" in imported.stdout
    shown = bwlive("system", "keys", "show", "--keys-dir", str(second))
    assert f"thumbprint: {thumbprint}" in shown.stdout
    assert SystemKeyPair.load(second).pkcs8_der() == SystemKeyPair.load(first).pkcs8_der()

    other = SystemKeyPair.generate()
    refused = bwlive("system", "keys", "import", other.link("https://b.example"), "--keys-dir", str(second))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert SystemPublicKey.load(second).thumbprint == thumbprint  # untouched
    forced = bwlive("system", "keys", "import", other.link("https://b.example"), "--keys-dir", str(second), "--force")
    assert forced.returncode == 0 and SystemPublicKey.load(second).key_id == other.public.key_id


@pytest.fixture
async def app_server(tmp_path: Path):
    SystemKeyPair.generate().save(tmp_path / "keys")
    clock = ManualClock()
    settings = Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data", clock_tolerance_s=4.5)
    runner, port = await start_server(settings, clock)
    auth = runner.app[AUTH]
    admin = auth.accounts.create_user("admin@a.test", "Ann Admin", "a long enough password")
    org = auth.accounts.create_organisation("Org A", admin)
    system_id = auth.systems.add(org, "local system", SystemPublicKey.load(tmp_path / "keys"))
    client = await ApiClient.signed_in(f"http://127.0.0.1:{port}", "admin@a.test", "a long enough password")
    yield client, runner.app, clock, org, system_id
    await client.close()
    await runner.cleanup()


async def test_server_time_follows_the_app_clock_and_tells_the_tolerance(app_server) -> None:
    client, _app, clock, *_ = app_server
    clock.advance(timedelta(days=400, milliseconds=678))
    anonymous = ApiClient(client.server)
    try:
        async with anonymous.request("GET", "/api/time") as response:
            assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
            body = await response.json()
    finally:
        await anonymous.close()
    assert body == {"now_ms": round(clock.now().timestamp() * 1000), "clock_tolerance_s": 4.5}
    assert body["now_ms"] % 1000 == 678  # milliseconds, not rounded to seconds


async def test_admin_replaces_a_system_key_and_old_streams_keep_their_organisation(app_server) -> None:
    client, app, _clock, org, system_id = app_server
    systems = app[AUTH].systems
    old = systems.first(org).key
    old_kid = old.key_id
    new = SystemKeyPair.generate().public
    async with client.request("PUT", f"/api/organisation/systems/{system_id}/public-key",
                              json={"public_key": new.pem().decode()}) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    assert body == {"system_id": system_id, "key_id": new.key_id, "thumbprint": new.thumbprint,
                    "previous_key_id": old_kid, "previous_thumbprint": old.thumbprint}
    assert systems.list(org)[0]["key_id"] == new.key_id
    assert systems.first(org).key.key_id == new.key_id
    assert systems.replaced_at(systems.first(org), old_kid) is not None  # streams started on the old key
    async with client.request("GET", "/api/organisation/audit") as response:
        entry = (await response.json())["entries"][0]
    assert entry["action"] == "system key changed" and entry["details"]["key_id"] == new.key_id

    for path, payload, status, message in [
        (f"/api/organisation/systems/{system_id}/public-key", {"public_key": "not a key"}, 400, "not a P-256"),
        (f"/api/organisation/systems/{system_id}/public-key", {}, 400, "missing public_key"),
        ("/api/organisation/systems/nope/public-key", {"public_key": new.pem().decode()}, 404, "no such system"),
    ]:
        async with client.request("PUT", path, json=payload) as response:
            assert response.status == status and message in (await response.json())["error"]
