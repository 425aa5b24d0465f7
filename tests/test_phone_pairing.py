"""Issue 14 part 5: pairing a phone as a camera, attacked over HTTP against the real
server, with the real `bwlive camera dock-phones` at the system: a code works once, for
10 minutes, only for a camera user of the admin's organisation, never for a viewer; what
the phone sends is checked; the package comes only with the phone's pickup secret and
carries a certificate of the phone's own device key, by the system's signing key."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import ClientSession
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.signing import Certificate, raw_public
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from bwlive_rtc.fleet.service import FLEET
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.appkeys import CLOCK
from bwlive_rtc.viewer.session import ApiClient
from tests.test_red_team_fleet import Attack, attack, bwlive, call  # noqa: F401 (attack: the fixture)

VIEWER_EMAIL, VIEWER_PASSWORD = "vic@a.test", "organisation a's viewer password"


def device_key() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    return key, b64url_encode(raw_public(key.public_key()))


async def anonymous(attack: Attack, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    """What a phone sends: no session, no credential."""
    async with ClientSession() as session, session.post(attack.url + path, json=body) as response:
        return response.status, await response.json()


async def code_for(attack: Attack, camera_user_id: str) -> str:
    status, made = await call(attack.admin_a, "POST", "/api/fleet/pairings", {"camera_user_id": camera_user_id})
    assert status == 201, made
    return str(made["code"])


async def test_a_phone_pairs_once_and_takes_its_certificate_from_the_system(attack: Attack) -> None:
    code = await code_for(attack, attack.a.camera_user)
    rows = attack.app[AUTH].accounts.db.rows("SELECT * FROM phone_pairings")
    assert code not in str(rows)  # hashed at rest
    key, public = device_key()
    status, paired = await anonymous(attack, "/api/pairings/redeem", {"code": code, "device_key": public})
    assert status == 201, paired
    assert paired["serial"].startswith("PHONE-") and paired["camera_user"] == "a wearer"
    # reused code, by another phone: refused, no second camera
    status, again = await anonymous(attack, "/api/pairings/redeem", {"code": code, "device_key": device_key()[1]})
    assert (status, again["error"]) == (400, "this pairing code has already been used: ask an admin for a new one")
    assert sum(c.serial.startswith("PHONE-") for c in attack.app[FLEET].fleet.cameras(attack.a.organisation)) == 1
    # the server cannot dock it: the package waits for the system
    status, waiting = await anonymous(attack, "/api/pairings/package", {"pickup": paired["pickup"]})
    assert status == 409 and "waits for its system to dock it" in waiting["error"]
    docked = await bwlive("camera", "dock-phones", "--data-dir", str(attack.data_dir), "--keys-dir", str(attack.keys_dir))
    assert docked.returncode == 0 and f"phone {paired['serial']} docked for a wearer" in docked.stdout, docked.stderr
    status, package = await anonymous(attack, "/api/pairings/package", {"pickup": paired["pickup"]})
    assert status == 200
    certificate = Certificate.read(package["credential"], SigningPublicKey.load(attack.keys_dir).key,
                                   attack.app[CLOCK].now())
    assert certificate.device_key == raw_public(key.public_key()) and certificate.serial == paired["serial"]
    assert certificate.expires_at - certificate.issued_at == timedelta(days=6)
    # docked again at once: nothing is due (renewed only within a day of the end)
    again_docked = await bwlive("camera", "dock-phones", "--data-dir", str(attack.data_dir), "--keys-dir",
                                str(attack.keys_dir))
    assert "0 phones docked, 0 refused" in again_docked.stdout
    # five and a half days later the credential ends within a day: the next dock renews it
    db = attack.app[FLEET].pairings.db
    [row] = db.rows("SELECT id FROM phone_pairings WHERE pickup_hash IS NOT NULL")
    db.update("phone_pairings", {"id": row["id"]},
              {"docked_at": (attack.app[CLOCK].now() - timedelta(days=5, hours=12)).isoformat()})
    renewed = await bwlive("camera", "dock-phones", "--data-dir", str(attack.data_dir), "--keys-dir", str(attack.keys_dir))
    assert "1 phones docked, 0 refused" in renewed.stdout, renewed.stderr
    status, newer = await anonymous(attack, "/api/pairings/package", {"pickup": paired["pickup"]})
    assert status == 200 and newer["credential"] != package["credential"]
    # a revoked phone gets neither a package nor a dock
    status, _ = await call(attack.admin_a, "POST", f"/api/fleet/cameras/{certificate.camera_id}/revoke")
    assert status == 200
    status, revoked = await anonymous(attack, "/api/pairings/package", {"pickup": paired["pickup"]})
    assert (status, revoked["error"]) == (404, "this phone was revoked or removed: pair it again with a new code")
    status, unknown = await anonymous(attack, "/api/pairings/package", {"pickup": "x" * 43})
    assert (status, unknown["error"]) == (404, "no such paired phone: pair it again with a new code")
    actions = [e["action"] for e in attack.app[AUTH].accounts.db.rows(
        "SELECT action FROM audit_log WHERE organisation_id = :organisation", organisation=attack.a.organisation)]
    assert {"phone pairing code created", "phone paired"} <= set(actions)


async def test_pairing_codes_refuse_attackers(attack: Attack) -> None:
    # another organisation's camera user: as if there were none
    status, other = await call(attack.admin_b, "POST", "/api/fleet/pairings", {"camera_user_id": attack.a.camera_user})
    assert (status, other["error"]) == (404, "no such camera user in this organisation")
    # a viewer of the organisation: not an admin
    accounts = attack.app[AUTH].accounts
    viewer = accounts.create_user(VIEWER_EMAIL, "Vic", VIEWER_PASSWORD)
    accounts.add_member(viewer.id, attack.a.organisation, Role.VIEWER)
    client = await ApiClient.signed_in(attack.url, VIEWER_EMAIL, VIEWER_PASSWORD)
    try:
        status, refused = await call(client, "POST", "/api/fleet/pairings", {"camera_user_id": attack.a.camera_user})
    finally:
        await client.close()
    assert status == 403 and refused["error"]
    # nobody signed in
    status, _ = await anonymous(attack, "/api/fleet/pairings", {"camera_user_id": attack.a.camera_user})
    assert status == 401
    # malformed: no code, a code of other characters, a key that is not 32 bytes, unknown fields
    code = await code_for(attack, attack.a.camera_user)
    public = device_key()[1]
    for body, sentence in (
        ({"device_key": public}, "missing code"),
        ({"code": "<script>", "device_key": public}, "code: string should match pattern"),
        ({"code": code, "device_key": b64url_encode(b"\1" * 31)}, "device_key: not an Ed25519 public key"),
        ({"code": code, "device_key": public, "camera_user_id": attack.b.camera_user}, "unknown field 'camera_user_id'"),
        ({"code": "AAAA-BBBB-CCCC", "device_key": public}, "this pairing code is not valid"),
    ):
        status, answer = await anonymous(attack, "/api/pairings/redeem", body)
        assert status == 400 and answer["error"].lower().startswith(sentence.lower()), (body, answer)
    # the malformed tries did not use the code up; past its 10 minutes it is refused
    db = attack.app[FLEET].pairings.db
    made = db.row("SELECT id FROM phone_pairings WHERE redeemed_at IS NULL")
    assert made is not None
    db.update("phone_pairings", {"id": made["id"]},
              {"expires_at": (attack.app[CLOCK].now() - timedelta(seconds=1)).isoformat()})
    status, late = await anonymous(attack, "/api/pairings/redeem", {"code": code, "device_key": public})
    assert (status, late["error"]) == (400, "this pairing code has expired: ask an admin for a new one")


async def test_a_code_whose_camera_user_was_deleted_is_refused_and_not_used_up(attack: Attack) -> None:
    """The code is claimed in the transaction that adds the phone: when the phone cannot be
    added, the claim is undone with it."""
    status, made = await call(attack.admin_a, "POST", "/api/fleet/camera-users", {"name": "short-lived wearer"})
    assert status == 201, made
    code = await code_for(attack, made["id"])
    status, _ = await call(attack.admin_a, "DELETE", f"/api/fleet/camera-users/{made['id']}")
    assert status == 200
    status, refused = await anonymous(attack, "/api/pairings/redeem", {"code": code, "device_key": device_key()[1]})
    assert (status, refused["error"]) == (400, "the camera user of this pairing code was deleted")
    row = attack.app[FLEET].pairings.db.row("SELECT redeemed_at, camera_id FROM phone_pairings WHERE camera_user_id = :id",
                                            id=made["id"])
    assert row == {"redeemed_at": None, "camera_id": None}
