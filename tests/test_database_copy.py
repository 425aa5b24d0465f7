"""``bwlive database copy`` (issue 15): an installation's SQLite file moved into an empty
PostgreSQL database, every table's rows as they were, the audit log's ids going on after
the copied ones; a target that holds anything, the source itself, or a missing file is
refused with a sentence and nothing written."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bwlive_rtc.auth.accounts import Accounts
from bwlive_rtc.cli import main
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.audit import AuditLog
from bwlive_rtc.kernel.clock import SystemClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.storage.database import Database
from bwlive_rtc.storage.sql import create_engine
from tests.postgres import shared_postgresql
from tests.processes import ADMIN_EMAIL, TEST_ORGANISATION, bootstrap_admin, dock_camera


def _bwlive(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command line, in this process: its exit code, what it printed and its errors."""
    code = main(list(args))
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def _everything(location: str | Path) -> dict[str, list[tuple]]:
    engine = create_engine(location)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {name: sorted(map(tuple, connection.execute(sa.select(table))), key=repr)
                    for name, table in metadata.tables.items() if name != "alembic_version"}
    finally:
        engine.dispose()


def test_an_installation_moves_into_an_empty_postgresql_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("BWLIVE_DATABASE", raising=False)  # the installation is a SQLite one
    data_dir, keys_dir = tmp_path / "data", tmp_path / "keys"
    SystemKeyPair.generate().save(keys_dir)
    bootstrap_admin(data_dir, keys_dir)
    dock_camera(data_dir, "Officer Moved", tmp_path / "dock.json", keys_dir=keys_dir)
    source = Settings(data_dir=data_dir).database_path
    before = _everything(source)
    assert before["audit_log"] and before["cameras"] and before["users"]

    with shared_postgresql() as target:
        code, _, errors = _bwlive(capsys, "database", "copy", "--from", str(tmp_path / "nothing.sqlite"), "--to", target)
        assert code == 2 and "no database file" in errors, errors
        code, _, errors = _bwlive(capsys, "database", "copy", "--from", str(source), "--to", f"sqlite:///{source}")
        assert code == 2 and "the same database" in errors, errors

        code, printed, errors = _bwlive(capsys, "database", "copy", "--from", str(source), "--to", target)
        assert code == 0, errors
        assert f"audit_log: {len(before['audit_log'])} rows" in printed
        assert _everything(target) == before

        code, _, errors = _bwlive(capsys, "database", "copy", "--from", str(source), "--to", target)  # again: refused
        assert code == 2 and "not empty" in errors, errors
        assert _everything(target) == before

        database = Database(target)  # the stores work on the copy; new audit entries follow the copied ones
        try:
            accounts = Accounts(database.db, SystemClock())
            user = accounts.user_by_email(ADMIN_EMAIL)
            assert user is not None
            assert [m.organisation_name for m in accounts.memberships(user.id)] == [TEST_ORGANISATION]
            AuditLog(database.db, SystemClock()).record("moved", organisation_id=None)
            ids = [row["id"] for row in database.db.rows("SELECT id FROM audit_log ORDER BY id")]
            assert ids[-1] == max(row[0] for row in before["audit_log"]) + 1 and len(set(ids)) == len(ids)
        finally:
            database.close()
