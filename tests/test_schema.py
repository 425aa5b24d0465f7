"""The schema's version and migrations: a fresh database ends at the latest version; one
made before versions existed is upgraded in place, its rows kept and its times converted."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlite_utils

from bwlive_rtc.cli import main
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.integrations.store import IntegrationStore
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.storage import schema
from bwlive_rtc.storage.database import Database
from bwlive_rtc.storage.sql import UnsupportedDatabase, create_engine
from tests.postgres import DATABASES, fresh_database

EPOCH = 1767603600.25  # 2026-01-05 09:00:00.25 UTC
INTEGRATION_TIMES = {("integrations", "created_at"), ("integration_deliveries", "created_at"),
                     ("integration_deliveries", "next_attempt_at"), ("integration_attempts", "at")}
CAMERA_SYSTEMS = [("system_id", "TEXT", False, 0), ("key_id", "TEXT", False, 0), ("confirmed_key_id", "TEXT", False, 0)]
STREAM_ORGANISATIONS = [("organisations", "TEXT", False, 0)]
TWO_FACTOR_COLUMNS = {  # 0005
    "users": [("totp_secret", "TEXT", False, 0), ("totp_pending_secret", "TEXT", False, 0),
              ("totp_last_step", "INTEGER", False, 0)],
    "organisations": [("require_two_factor", "INTEGER", True, 0)],
}
NEW_TABLES = ("password_resets", "recovery_codes", "api_keys", "phone_pairings", "console_origins")  # 0005, 0008, 0010, 0011
MANIFEST = [("manifest", "TEXT", False, 0)]
SYSTEM_SIGNING_KEYS = [("signing_key", "TEXT", False, 0), ("signing_key_id", "TEXT", False, 0)]
DELIVERY_ORDER = [("seq", "INTEGER", False, 0), ("claimed_until", "TEXT", False, 0)]  # 0009, 0012
BEARER_SESSIONS = [("origin", "TEXT", False, 0), ("expires_at", "TEXT", False, 0)]


def _create_old_style(path: Path) -> None:
    """The tables as the stores created them before there was a schema version (each store
    its own create-if-missing block, integration times as Unix seconds)."""
    db = sqlite_utils.Database(path)
    db["streams"].create({"id": str, "camera": str, "started_at": str, "ended_at": str, "key_envelope": str},
                         pk="id", not_null={"camera", "started_at"})
    db["organisations"].create({"id": str, "name": str, "created_at": str, "trial_ends_at": str}, pk="id")
    db["users"].create({"id": str, "email": str, "name": str, "password_hash": str, "identity_provider": str,
                        "created_at": str}, pk="id")
    db["users"].create_index(["email"], unique=True)
    db["memberships"].create({"user_id": str, "organisation_id": str, "role": str, "owner": int, "created_at": str},
                             pk=("user_id", "organisation_id"))
    db["sessions"].create({"key": str, "user_id": str, "organisation_id": str, "csrf_token": str, "created_at": str,
                           "last_used_at": str}, pk="key")
    db["invitations"].create({"key": str, "organisation_id": str, "email": str, "role": str, "invited_by": str,
                              "created_at": str, "expires_at": str, "accepted_at": str}, pk="key")
    db["systems"].create({"id": str, "organisation_id": str, "name": str, "key_id": str, "public_key_pem": str,
                          "joined_at": str}, pk="id")
    db["systems"].create_index(["key_id"])
    db["system_key_history"].create({"system_id": str, "organisation_id": str, "key_id": str, "public_key_pem": str,
                                     "replaced_at": str})
    db["system_key_history"].create_index(["key_id"])
    db["join_codes"].create({"key": str, "organisation_id": str, "created_by": str, "created_at": str,
                             "expires_at": str, "used_at": str}, pk="key")
    db["audit_log"].create({"id": int, "time": str, "organisation_id": str, "user_id": str, "user_name": str,
                            "action": str, "details": str}, pk="id")
    db["audit_log"].create_index(["organisation_id", "time"])
    db["camera_assignments"].create({"id": int, "organisation_id": str, "camera_id": str, "start": str, "end": str},
                                    pk="id")
    db["licenses"].create({"id": str, "organisation_id": str, "cameras": int, "valid_from": str, "valid_until": str,
                           "text": str, "added_at": str}, pk="id")
    for name, columns in {
        "profiles": {"id": str, "organisation_id": str, "name": str, "streaming": int, "location": int},
        "camera_users": {"id": str, "organisation_id": str, "name": str, "profile_id": str},
        "wifi_networks": {"id": str, "organisation_id": str, "ssid": str, "password": str, "profile_id": str,
                          "camera_user_id": str},
        "cameras": {"id": str, "organisation_id": str, "serial": str, "model": str, "camera_user_id": str,
                    "revoked_at": str, "last_docked_at": str},
    }.items():
        db[name].create(columns, pk="id")
    db["cameras"].create_index(["serial"], unique=True)
    db["console_groups"].create({"id": str, "organisation_id": str, "name": str, "members": str}, pk="id",
                                not_null={"organisation_id", "name", "members"})
    db["console_groups"].create_index(["organisation_id", "name"], unique=True)
    db["recordings"].create({"id": str, "camera": str, "organisations": str, "started_at": str, "ended_at": str,
                             "duration_ms": int, "size": int, "key_envelope": str, "state": str, "storage": str},
                            pk="id", not_null={"camera", "started_at", "state"})
    db["recordings"].create_index(["camera"])
    db["recordings"].create_index(["ended_at"])
    db["recording_segments"].create({"recording_id": str, "seq": int, "key": str, "start_ms": int, "end_ms": int,
                                     "size": int, "frames": int}, pk=("recording_id", "seq"),
                                    foreign_keys=[("recording_id", "recordings", "id")])
    db["integrations"].create({"id": str, "organisation_id": str, "url": str, "secret": str, "created_at": float},
                              pk="id", not_null={"organisation_id", "url", "created_at"})
    db["integration_deliveries"].create(
        {"id": str, "integration_id": str, "event_id": str, "event_type": str, "body": str, "status": str,
         "created_at": float, "next_attempt_at": float, "attempts": int},
        pk="id", not_null={"integration_id", "event_id", "event_type", "body", "status", "created_at", "attempts"})
    db["integration_deliveries"].create_index(["status", "next_attempt_at"])
    db["integration_attempts"].create({"id": int, "delivery_id": str, "number": int, "at": float, "response_code": int,
                                       "error": str, "duration_ms": int},
                                      pk="id", not_null={"delivery_id", "number", "at"})
    db["integration_attempts"].create_index(["delivery_id"])
    db.close()


def _affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (what decides how values are stored)."""
    declared = declared.upper()
    if "INT" in declared:
        return "INTEGER"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    return "REAL" if any(word in declared for word in ("REAL", "FLOA", "DOUB")) else "NUMERIC"


def _shape(path: Path, *, converted: bool) -> dict[str, object]:
    """Each table's columns (name, affinity, NOT NULL, key position), indexes and foreign
    keys; ``converted``: the changes of the later migrations added to an old-style database
    (integration times as text, 0002; the cameras' system and key columns, 0003; the streams' organisations, 0004;
    the users' and organisations' two-factor columns, 0005;
    the systems' signing keys, 0006;
    the manifests of streams and recordings, 0007; the deliveries' order, 0009, and claims, 0012)."""
    connection = sqlite3.connect(path)
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'alembic%' ORDER BY name")]
    shape: dict[str, object] = {}
    for table in tables:
        columns = [(name, "TEXT" if converted and (table, name) in INTEGRATION_TIMES else _affinity(kind),
                    bool(notnull) and not pk, pk)
                   for _, name, kind, notnull, _, pk in connection.execute(f"PRAGMA table_info('{table}')")]
        if converted and table == "cameras":
            columns += CAMERA_SYSTEMS
        if converted and table == "streams":
            columns += STREAM_ORGANISATIONS
        if converted:
            columns += TWO_FACTOR_COLUMNS.get(table, [])
        if converted and table in ("streams", "recordings"):
            columns += MANIFEST
        if converted and table == "systems":
            columns += SYSTEM_SIGNING_KEYS
        if converted and table == "integration_deliveries":
            columns += DELIVERY_ORDER
        if converted and table == "sessions":
            columns += BEARER_SESSIONS
        indexes = sorted((name, unique, tuple(row[2] for row in connection.execute(f"PRAGMA index_info('{name}')")))
                         for _, name, unique, origin, _ in connection.execute(f"PRAGMA index_list('{table}')")
                         if origin == "c")
        keys = [row[2:5] for row in connection.execute(f"PRAGMA foreign_key_list('{table}')")]
        shape[table] = (columns, indexes, keys)
    connection.close()
    return shape


def test_a_fresh_database_ends_at_the_latest_version_with_the_stores_schema(tmp_path: Path) -> None:
    Database(tmp_path / "fresh.sqlite").close()
    assert schema.version(tmp_path / "fresh.sqlite") == schema.latest()
    _create_old_style(tmp_path / "old.sqlite")
    fresh = _shape(tmp_path / "fresh.sqlite", converted=False)
    assert set(NEW_TABLES) <= set(fresh)
    assert {t: s for t, s in fresh.items() if t not in NEW_TABLES} == _shape(tmp_path / "old.sqlite", converted=True)


def test_an_old_style_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "bwlive.sqlite"
    _create_old_style(path)
    old = sqlite_utils.Database(path)
    old["streams"].insert({"id": "s1", "camera": "Alex", "started_at": "2026-01-05T08:00:00+00:00", "ended_at": None})
    old["users"].insert({"id": "u1", "email": "ada@example.test", "name": "Ada"})
    old["integrations"].insert({"id": "i1", "organisation_id": "o1", "url": "https://soc.example/hook",
                                "secret": None, "created_at": EPOCH})
    old["integration_deliveries"].insert({
        "id": "d1", "integration_id": "i1", "event_id": "e1", "event_type": "stream.started", "body": "{}",
        "status": "retrying", "created_at": EPOCH, "next_attempt_at": EPOCH + 30.5, "attempts": 1})
    old["integration_attempts"].insert({"delivery_id": "d1", "number": 1, "at": EPOCH + 0.5, "response_code": 503,
                                        "error": None, "duration_ms": 12})
    old.close()
    assert schema.version(path) is None

    database = Database(path)
    assert schema.version(path) == schema.latest()
    assert database.stream("s1")["ended_at"] is None  # opening ends no stream
    assert database.db.value("SELECT email FROM users WHERE id = 'u1'") == "ada@example.test"
    created = database.db.value("SELECT created_at FROM integrations WHERE id = 'i1'")
    assert created == datetime.fromtimestamp(EPOCH, UTC).isoformat()
    store = IntegrationStore(database.db)
    assert store.get("o1", "i1").created_at == EPOCH
    assert database.db.value("SELECT seq FROM integration_deliveries WHERE id = 'd1'") == 1  # its rowid
    [delivery] = store.recent_deliveries("o1", 10)
    assert (delivery["created_at"], delivery["next_attempt_at"]) == (EPOCH, EPOCH + 30.5)
    assert delivery["attempts"] == [{"number": 1, "at": EPOCH + 0.5, "response_code": 503, "error": None,
                                     "duration_ms": 12}]
    assert store.next_attempt_at() == EPOCH + 30.5
    assert [due.id for due in store.claim_due(EPOCH + 31, 15, 8)] == ["d1"]
    database.close()
    fresh = tmp_path / "fresh.sqlite"
    Database(fresh).close()
    assert _shape(path, converted=False) == _shape(fresh, converted=False)


def test_existing_cameras_get_their_organisations_first_system(tmp_path: Path) -> None:
    """Migration 0003: a camera belongs to its organisation's oldest system; one that has
    docked is recorded as holding the newest system's key (what docking gave it then), so
    its next dock shows that change to an admin instead of making it silently."""
    path = tmp_path / "bwlive.sqlite"
    _create_old_style(path)
    old = sqlite_utils.Database(path)
    for system, org, joined, kid in (("local", "o1", "2026-01-01T00:00:00+00:00", "k-local"),
                                     ("joined", "o1", "2026-02-01T00:00:00+00:00", "k-joined"),
                                     ("other", "o2", "2026-03-01T00:00:00+00:00", "k-other")):
        old["systems"].insert({"id": system, "organisation_id": org, "name": system, "key_id": kid, "joined_at": joined})
    for camera, org, docked in (("docked", "o1", "2026-02-02T00:00:00+00:00"), ("new", "o1", None),
                                ("elsewhere", "o2", "2026-03-02T00:00:00+00:00"), ("orphan", "o3", None)):
        old["cameras"].insert({"id": camera, "organisation_id": org, "serial": camera, "last_docked_at": docked})
    old.close()
    Database(path).close()
    cameras = {row["id"]: (row["system_id"], row["key_id"], row["confirmed_key_id"])
               for row in sqlite_utils.Database(path)["cameras"].rows}
    assert cameras == {"docked": ("local", "k-joined", None), "new": ("local", None, None),
                       "elsewhere": ("other", "k-other", None), "orphan": (None, None, None)}


def test_a_command_leaves_the_servers_live_streams_open(tmp_path: Path) -> None:
    database = Database(tmp_path / "bwlive.sqlite")
    database.stream_started("s1", "Alex", datetime.now(UTC), {"kid": "k"})  # live on the running server
    assert main(["admin", "bootstrap", "--data-dir", str(tmp_path), "--keys-dir", str(tmp_path / "keys"),
                 "--organisation", "Org", "--email", "ada@example.test"]) == 0
    assert main(["fleet", "list", "--data-dir", str(tmp_path)]) == 0
    assert database.stream("s1")["ended_at"] is None
    database.close()


async def test_the_server_start_closes_streams_left_open_by_a_crash(tmp_path: Path) -> None:
    SystemKeyPair.generate().save(tmp_path / "keys")
    settings = Settings(port=0, data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    database = Database(settings.database)
    database.stream_started("s1", "Alex", datetime.now(UTC), {"kid": "k"})
    runner, _ = await start_server(settings)
    await runner.cleanup()
    assert database.stream("s1")["ended_at"] is not None
    assert database.close_interrupted_streams() == []  # announced once (tests/test_serve_lifecycle.py)
    database.close()


def _columns(location: str | Path) -> dict[str, dict[str, tuple[str, bool, bool]]]:
    """Each table's columns: (type, nullable, in the primary key); a key is never NULL
    (SQLite would let a text key be, PostgreSQL does not: bwlive never makes one)."""
    engine = create_engine(location)
    try:
        inspector = sa.inspect(engine)
        shape = {}
        for table in inspector.get_table_names():
            key = inspector.get_pk_constraint(table)["constrained_columns"]
            shape[table] = {column["name"]: (type(column["type"]).__name__.upper(), column["nullable"] and
                                             column["name"] not in key, column["name"] in key)
                            for column in inspector.get_columns(table)}
        return shape
    finally:
        engine.dispose()


@pytest.mark.skipif(DATABASES is None, reason="runs on PostgreSQL: BWLIVE_TEST_DATABASE (.ci/run sets it)")
def test_the_migrations_build_the_same_schema_on_postgresql(tmp_path: Path) -> None:
    sqlite, postgresql = tmp_path / "bwlive.sqlite", fresh_database(tmp_path / "unused")
    Database(sqlite).close()
    Database(postgresql).close()
    assert schema.version(postgresql) == schema.latest()
    assert _columns(postgresql) == _columns(sqlite)


def test_a_database_of_another_engine_is_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDatabase, match="SQLite or PostgreSQL, not mysql"):
        Database("mysql://bwlive@127.0.0.1/bwlive")
