"""Trust roots the server does not hold (issue 11, part 1): the system's signing key lives
in its keys directory, its public half in the database and in links with key; the server
verifies certificates with public keys only, and refuses every certificate that is not
signed by the camera's own system, with a sentence the camera prints."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, expect

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.cli.serve import _warn_of_private_keys
from bwlive_rtc.crypto.b64 import b64url_decode
from bwlive_rtc.crypto.link import DamagedSigningKey, WrongPassphrase, parse_link
from bwlive_rtc.crypto.signing import Certificate
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from bwlive_rtc.crypto.system_signing import SIGNING_FILE, SigningKeyPair, SigningPublicKey
from bwlive_rtc.fleet.credentials import CredentialError, CredentialIssuer
from bwlive_rtc.fleet.service import FLEET
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.systems.store import SYSTEMS
from bwlive_rtc.viewer.session import ApiClient
from tests.fleets import make_fleet
from tests.make_link_vectors import OUT as VECTORS_FILE
from tests.make_link_vectors import build as build_vectors
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Server, bootstrap_admin, dock_camera
from tests.test_browser_keys import signed_in

PASSPHRASE = "a passphrase for the links"


def bwlive(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwlive_rtc", *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


# --- the link format (PROTOCOL §1) -------------------------------------------------------

def test_link_vectors_are_what_python_makes_and_reads() -> None:
    """tests/link_vectors.json, the format's cross-implementation vectors: Python makes them
    byte for byte and reads each as the vectors say."""
    vectors = json.loads(VECTORS_FILE.read_text())
    assert vectors == build_vectors()
    pkcs8, signing = b64url_decode(vectors["pkcs8"]), b64url_decode(vectors["signing_key"])
    plain = parse_link(vectors["link"])
    assert (plain.open(None), plain.signing_key) == (pkcs8, signing)
    protected = parse_link(vectors["protected_link"])
    assert protected.signing_key == signing and protected.open(vectors["passphrase"]) == pkcs8
    assert json.loads(b64url_decode(vectors["protected_link"].split("#pkey=")[1]))["v"] == 2
    # The signing key is the AAD: another one swapped into the blob does not open, not even
    # with the right passphrase, so nobody can redirect a protected link's trust.
    swapped = parse_link(vectors["swapped_signing_key_link"])
    assert swapped.signing_key != signing
    with pytest.raises(WrongPassphrase):
        swapped.open(vectors["passphrase"])
    # Links of before stay readable; their streams cannot be verified (no signing key).
    for old in (parse_link(vectors["v1_link"]), parse_link(vectors["v1_protected_link"])):
        assert old.signing_key is None and old.open(vectors["passphrase"]) == pkcs8
    assert SigningPublicKey.from_b64u(vectors["signing_key"]).thumbprint == vectors["signing_thumbprint"]


@pytest.mark.parametrize("fragment", ["#key=AAAA&sig=AAAA", "#key=AAAA&sig=" + "A" * 44])
def test_a_damaged_signing_key_in_a_link_is_refused(fragment: str) -> None:
    with pytest.raises(DamagedSigningKey, match="the link's signing key is damaged"):
        parse_link("https://x/" + fragment)


# --- the CLI keeps the signing key with the system --------------------------------------

def test_cli_makes_shows_and_replaces_the_signing_key_in_the_keys_directory(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    made = bwlive("system", "keys", "generate", "--keys-dir", str(keys), "--base-url", "https://soc.example",
                  "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert made.returncode == 0, made.stderr
    signing = SigningPublicKey.load(keys)
    assert (keys / SIGNING_FILE).stat().st_mode & 0o777 == 0o600
    assert f"signing key thumbprint: {signing.thumbprint}" in made.stdout
    links = [word for word in made.stdout.split() if word.startswith("https://soc.example/#")]
    assert len(links) == 2 and all(parse_link(link).signing_key == signing.raw for link in links)
    assert parse_link(links[1]).open(PASSPHRASE) == SystemKeyPair.load(keys).pkcs8_der()

    shown = bwlive("system", "keys", "show", "--keys-dir", str(keys))
    assert f"signing key thumbprint: {signing.thumbprint}" in shown.stdout
    refused = bwlive("system", "keys", "generate", "--signing-only", "--keys-dir", str(keys))
    assert refused.returncode == 2 and "a signing key already exists" in refused.stderr
    replaced = bwlive("system", "keys", "generate", "--signing-only", "--force", "--keys-dir", str(keys))
    assert replaced.returncode == 0 and "cameras docked before must dock again" in replaced.stdout
    assert SigningPublicKey.load(keys) != signing

    upgrading = tmp_path / "old-keys"  # a keys directory of before: the end-to-end pair alone
    SystemKeyPair.generate().save(upgrading)
    assert "signing key: none yet" in bwlive("system", "keys", "show", "--keys-dir", str(upgrading)).stdout
    assert bwlive("system", "keys", "generate", "--signing-only", "--keys-dir", str(upgrading)).returncode == 0
    assert SigningPublicKey.find(upgrading) is not None

    second = tmp_path / "second"  # a link names its system's signing key; a second system keeps its own
    imported = bwlive("system", "keys", "import", links[0], "--keys-dir", str(second))
    assert imported.returncode == 0, imported.stderr
    assert SigningPublicKey.load(second) != SigningPublicKey.load(keys)
    assert "give operators this system's link too" in imported.stdout


def test_serve_warns_of_a_private_signing_key_it_could_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(keys_dir=tmp_path / "keys", data_dir=tmp_path / "data")
    SigningKeyPair.generate().save(settings.keys_dir)
    _warn_of_private_keys(settings)
    warned = capsys.readouterr().err
    assert "WARNING: the system's PRIVATE signing key is on this server" in warned
    assert "Whoever reads this host can certify cameras of their making" in warned
    (settings.keys_dir / SIGNING_FILE).unlink()  # moved to the system host: the public half stays
    settings.data_dir.mkdir()
    settings.former_signing_key_path.write_text("the key the server used to hold")
    _warn_of_private_keys(settings)
    warned = capsys.readouterr().err
    assert "PRIVATE signing key" not in warned and "it is no longer used" in warned


# --- the server: public keys in, certificates checked against them ------------------------

@dataclass
class Site:
    app: web.Application
    url: str
    tmp: Path
    keys: Path
    admin: ApiClient

    @property
    def data(self) -> Path:
        return self.tmp / "data"

    def credential(self, name: str) -> tuple[str, dict[str, Any]]:
        docked = json.loads(dock_camera(self.data, name, self.tmp / f"{name}.json", keys_dir=self.keys).read_text())
        return docked["credential"], docked

    def forged(self, genuine: str, key: Ed25519PrivateKey, **claims: str) -> str:
        """A certificate with ``genuine``'s claims (its device key too), signed by ``key``."""
        cert = Certificate.read(genuine, SigningPublicKey.load(self.keys).key, datetime.now(UTC))
        fields = {"camera_id": cert.camera_id, "serial": cert.serial, "camera_user": cert.camera_user,
                  "organisation_id": cert.organisation_id, **claims}
        token, _ = Certificate.issue(key, device_key=cert.device_public_key, now=datetime.now(UTC), **fields)
        return token

    async def publish(self, credential: str) -> tuple[int, str]:
        """POST /whip with only the credential: 403 is the credential's refusal; a credential
        that passes gets as far as the missing camera clock (400)."""
        async with self.admin.request("POST", "/whip", data="v=0\r\n", headers={
                "Content-Type": "application/sdp", "Authorization": f"Bearer {credential}"}) as response:
            return response.status, (await response.json())["error"]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    keys = tmp_path / "keys"
    SystemKeyPair.generate().save(keys)
    SigningKeyPair.generate().save(keys)
    bootstrap_admin(tmp_path / "data", keys)
    runner, port = await start_server(Settings(port=0, keys_dir=keys, data_dir=tmp_path / "data"))
    admin = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    yield Site(runner.app, f"http://127.0.0.1:{port}", tmp_path, keys, admin)
    await admin.close()
    await runner.cleanup()


CAMERA_CLOCK_MISSING = "send the camera's clock in the Bwlive-Camera-Time header"


async def test_the_server_publishes_the_systems_public_signing_keys(site: Site) -> None:
    signing = SigningPublicKey.load(site.keys)
    async with site.admin.request("GET", "/api/system") as response:
        system = await response.json()
    assert (system["signing_key"], system["signing_key_id"], system["signing_thumbprint"]) == (
        signing.b64u(), signing.key_id, signing.thumbprint)
    async with site.admin.request("GET", "/api/organisation/systems") as response:
        [listed] = (await response.json())["systems"]
    assert (listed["signing_key"], listed["signing_key_id"]) == (signing.b64u(), signing.key_id)


async def test_a_joining_system_brings_a_well_formed_signing_key(site: Site) -> None:
    async with site.admin.request("POST", "/api/organisation/join-codes") as response:
        code = (await response.json())["code"]
    body = {"code": code, "name": "Second", "public_key": SystemKeyPair.generate().public.pem().decode()}
    anonymous = ApiClient(site.url)
    try:
        for extra, message in (({}, "missing signing_key"),
                               ({"signing_key": "A" * 42}, "signing_key: string should match pattern"),
                               ({"signing_key": 7}, "signing_key: input should be a valid string")):
            async with anonymous.request("POST", "/api/systems/join", json={**body, **extra}) as response:
                assert response.status == 400 and (await response.json())["error"].startswith(message)
        joining = SigningKeyPair.generate().public
        async with anonymous.request("POST", "/api/systems/join", json={**body, "signing_key": joining.b64u()}) as response:
            joined = await response.json()
            assert response.status == 201 and joined["signing_thumbprint"] == joining.thumbprint
    finally:
        await anonymous.close()
    [organisation] = site.app[AUTH].accounts.organisations("Test organisation")
    assert site.app[SYSTEMS].by_signing_key(organisation["id"], joining.key_id).name == "Second"


async def test_certificates_not_signed_by_the_cameras_own_system_are_refused(site: Site) -> None:
    genuine, _ = site.credential("Gil Genuine")
    assert await site.publish(genuine) == (400, CAMERA_CLOCK_MISSING + ", in milliseconds since 1970")
    [organisation] = site.app[AUTH].accounts.organisations("Test organisation")

    # A key the server (or a thief of its disk) made: it is no system's of the organisation.
    server_made = Ed25519PrivateKey.generate()
    stranger = SigningPublicKey(server_made.public_key()).thumbprint
    assert await site.publish(site.forged(genuine, server_made)) == (
        403, f"the certificate of camera SN-GIL-GENUINE is signed by key {stranger}, which is not the signing key "
             "of any system of its organisation: dock the camera at its system")

    # Another organisation's system, with a signing key registered in the database.
    other_key = Ed25519PrivateKey.generate()
    other = site.app[AUTH].accounts.create_organisation(
        "Other Ltd", site.app[AUTH].accounts.create_user("olga@other.test", "Olga", "olga's long password"))
    other_system = site.app[SYSTEMS].add(other, "Other system", SystemKeyPair.generate().public,
                                        SigningPublicKey(other_key.public_key()))
    status, refusal = await site.publish(site.forged(genuine, other_key))
    assert status == 403 and "which is not the signing key of any system of its organisation" in refusal
    # ... nor by claiming the other organisation for our camera: it is no camera of theirs.
    assert await site.publish(site.forged(genuine, other_key, organisation_id=other)) == (
        403, "unknown camera SN-GIL-GENUINE: it was removed from the system")
    # ... and the other organisation's system cannot certify our camera at the dock either.
    with pytest.raises(CredentialError, match=r"camera SN-DORA-DOCK belongs to system local system, whose signing "
                                              r"key is .*: dock the camera at its own system"):
        dock_camera(site.data, "Dora Dock", site.tmp / "dora.json", keys_dir=_keys_of(site.tmp / "other", other_key))
    assert site.app[SYSTEMS].system(other, other_system) is not None

    # A second system of our own organisation: its key certifies its cameras, not ours.
    second_key = Ed25519PrivateKey.generate()
    site.app[SYSTEMS].add(organisation["id"], "Second system", SystemKeyPair.generate().public,
                          SigningPublicKey(second_key.public_key()))
    assert await site.publish(site.forged(genuine, second_key)) == (
        403, "camera SN-GIL-GENUINE belongs to system local system, but its certificate is signed by system "
             "Second system: dock the camera at its own system")
    assert await site.publish(genuine) == (400, CAMERA_CLOCK_MISSING + ", in milliseconds since 1970")


def _keys_of(keys_dir: Path, key: Ed25519PrivateKey) -> Path:
    """A keys directory of another system: its own end-to-end pair and signing ``key``."""
    SystemKeyPair.generate().save(keys_dir)
    SigningKeyPair(key).save(keys_dir)
    return keys_dir


async def test_a_camera_docked_before_a_signing_key_change_must_dock_again(site: Site) -> None:
    before, _ = site.credential("Cas Change")
    old = SigningPublicKey.load(site.keys)
    changed = bwlive("system", "keys", "generate", "--signing-only", "--force", "--keys-dir", str(site.keys))
    assert changed.returncode == 0, changed.stderr
    bootstrap_admin(site.data, site.keys)  # registers the new signing key of the local system
    new = SigningPublicKey.load(site.keys)
    assert await site.publish(before) == (
        403, f"the certificate of camera SN-CAS-CHANGE is signed by key {old.thumbprint}, which is not the signing "
             "key of any system of its organisation: dock the camera at its system")
    audit = site.app[AUTH].audit.db.rows("SELECT * FROM audit_log WHERE action = 'system signing key changed'")
    assert len(audit) == 1 and new.key_id in audit[0]["details"] and old.key_id in audit[0]["details"]
    again, docked = site.credential("Cas Change")
    assert docked["signing_thumbprint"] == new.thumbprint
    assert await site.publish(again) == (400, CAMERA_CLOCK_MISSING + ", in milliseconds since 1970")


async def test_a_system_of_before_takes_its_signing_key_at_the_next_dock(tmp_path: Path) -> None:
    """An upgraded data directory: the system has no signing key in the database until the
    system docks a camera with the one `bwlive system keys generate --signing-only` made."""
    keys, data = tmp_path / "keys", tmp_path / "data"
    SystemKeyPair.generate().save(keys)
    bootstrap_admin(data, keys)  # no signing key in the keys directory yet
    runner, _ = await start_server(Settings(port=0, keys_dir=keys, data_dir=data))
    try:
        [organisation] = runner.app[AUTH].accounts.organisations("Test organisation")
        local = runner.app[SYSTEMS].first(organisation["id"])
        assert local is not None and local.signing_key is None
        docked = bwlive("camera", "dock", "--data-dir", str(data), "--keys-dir", str(keys), "--serial", "NONE",
                        "--out", str(tmp_path / "none.json"))
        assert docked.returncode == 2 and "no system signing key at" in docked.stderr
        assert bwlive("system", "keys", "generate", "--signing-only", "--keys-dir", str(keys)).returncode == 0
        ids = make_fleet(runner.app, organisation["id"], "up", local.key)
        docked = bwlive("camera", "dock", "--data-dir", str(data), "--keys-dir", str(keys), "--serial", ids.serial,
                        "--out", str(tmp_path / "up.json"))
        assert docked.returncode == 0, docked.stderr
        registered = runner.app[SYSTEMS].first(organisation["id"])
        assert registered is not None and registered.signing_key == SigningPublicKey.load(keys)
        # Another organisation's system of before is not this keys directory's to claim.
        other = runner.app[AUTH].accounts.create_organisation(
            "Other Ltd", runner.app[AUTH].accounts.create_user("olga@other.test", "Olga", "olga's long password"))
        theirs = make_fleet(runner.app, other, "theirs", SystemKeyPair.generate().public)
        claimed = bwlive("camera", "dock", "--data-dir", str(data), "--keys-dir", str(keys), "--serial", theirs.serial,
                         "--out", str(tmp_path / "theirs.json"))
        assert claimed.returncode == 1 and (
            f"camera {theirs.serial} belongs to system theirs system, which has no signing key registered yet: "
            "dock the camera at its own system") in claimed.stderr
        assert runner.app[SYSTEMS].system(other, theirs.system).signing_key is None
        credential = json.loads((tmp_path / "up.json").read_text())["credential"]
        found, _ = runner.app[FLEET].docking.identify(credential, datetime.now(UTC))
        assert found.serial == ids.serial
    finally:
        await runner.cleanup()


def test_an_issuer_is_the_only_holder_of_the_private_key(tmp_path: Path) -> None:
    """The issuer loads the private key from the keys directory (nothing else in the fleet
    does): missing, it says where the key belongs."""
    SystemKeyPair.generate().save(tmp_path)
    with pytest.raises(FileNotFoundError, match="dock cameras on the system host"):
        CredentialIssuer.load(tmp_path)
    SigningKeyPair.generate().save(tmp_path)
    issuer = CredentialIssuer.load(tmp_path)
    assert (issuer.public, issuer.system_key) == (SigningPublicKey.load(tmp_path), SystemPublicKey.load(tmp_path))


# --- the admin page's link ---------------------------------------------------------------

def test_the_admin_pages_link_carries_the_systems_signing_key(server: Server, workdir: Path,
                                                              browser: Browser) -> None:
    signing = SigningPublicKey.load(workdir / "keys")
    context, page = signed_in(browser, server.url)
    try:
        page.goto(server.url + "/web/admin.html")
        card = page.locator("#e2e-keys")
        expect(card.locator(".e2e-system .signing-thumbprint")).to_have_text(signing.thumbprint)
        card.locator("input[name=passphrase]").fill(PASSPHRASE)
        card.locator("input[name=again]").fill(PASSPHRASE)
        card.locator("#e2e-form button[type=submit]").click()
        expect(card.locator("#e2e-message.ok")).to_have_text("The system now encrypts new streams to this key.",
                                                             timeout=15_000)
        expect(card.locator("#e2e-signing-thumbprint")).to_have_text(signing.thumbprint)
        expect(card.locator("#e2e-signed")).to_contain_text("compare it with bwlive system keys show on the system host")
        assert card.locator("#e2e-unsigned").is_hidden()
        plain, protected = card.locator("#e2e-link").inner_text(), card.locator("#e2e-protected-link").inner_text()
    finally:
        context.close()
    new_key = SystemPublicKey.from_pem(_current_key_pem(server))  # what the page registered
    for link, passphrase in ((plain, None), (protected, PASSPHRASE)):
        parsed = parse_link(link)
        assert parsed.signing_key == signing.raw
        assert SystemKeyPair.from_pkcs8(parsed.open(passphrase)).public.key_id == new_key.key_id
    blob = json.loads(b64url_decode(protected.split("#pkey=")[1]))
    assert blob["v"] == 2 and list(blob) == ["v", "kdf", "iter", "salt", "iv", "ct", "sig"]


def _current_key_pem(server: Server) -> bytes:
    from bwlive_rtc.storage.database import Database

    database = Database(Settings(data_dir=server.data_dir).database)
    try:
        [row] = database.db.rows("SELECT * FROM systems")
        return row["public_key_pem"].encode()
    finally:
        database.close()



def test_the_admin_pages_link_maker_makes_the_vectors_byte_for_byte(server: Server, browser: Browser) -> None:
    """web/link-make.js, given the vectors' key, passphrase, salt and IV, makes the very
    links Python made (tests/link_vectors.json), and the same thumbprint."""
    vectors = json.loads(VECTORS_FILE.read_text())
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url + "/web/signin.html")
        made = page.evaluate("""async (v) => {
            const make = await import('/web/link-make.js');
            const { protectedLink } = await import('/web/link-key.js');
            const { b64uDecode } = await import('/web/e2ee.js');
            const [pkcs8, sig] = [b64uDecode(v.pkcs8), b64uDecode(v.signing_key)];
            const blob = await make.sealSigned(pkcs8, v.passphrase, sig,
                                               { salt: b64uDecode(v.salt), iv: b64uDecode(v.iv) });
            return { link: make.signedKeyLink(v.link_base, pkcs8, sig), protected: protectedLink(v.link_base, blob),
                     thumbprint: await make.signingThumbprint(sig) };
        }""", vectors)
    finally:
        context.close()
    assert made == {"link": vectors["link"], "protected": vectors["protected_link"],
                    "thumbprint": vectors["signing_thumbprint"]}
