"""One-time links (storage/one_time_links.py) as invitations and password resets use them, on
a real database: stored only hashed, used once, refused after expiry, and an invitation
whose joining fails stays usable (its claim is undone with the failure)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bwlive_rtc.auth.accounts import AccountError, Accounts
from bwlive_rtc.auth.invitations import Invitations
from bwlive_rtc.auth.resets import PasswordResets
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.storage.database import Database
from tests.postgres import fresh_database

PASSWORD = "a long enough password"


class FailingAccounts(Accounts):
    """Accounts whose next membership cannot be written (a database that gives up)."""

    fail = False

    def add_member(self, user_id: str, org_id: str, role: Role) -> None:
        if self.fail:
            raise AccountError("the database gave up")
        super().add_member(user_id, org_id, role)


def test_links_are_hashed_at_rest_used_once_and_expire(tmp_path: Path) -> None:
    clock = ManualClock()
    database = Database(fresh_database(tmp_path / "db.sqlite"))
    accounts = FailingAccounts(database.db, clock)
    admin = accounts.create_user("admin@a.test", "Ann Admin", PASSWORD)
    org = accounts.create_organisation("Org A", admin)
    invitee = accounts.create_user("ivy@a.test", "Ivy Invitee", PASSWORD)
    invitations = Invitations(database.db, clock, accounts)
    resets = PasswordResets(database.db, clock, accounts)
    try:
        token = invitations.create(org, "Ivy@A.test ", Role.OPERATOR, admin)
        stored = database.db.rows("SELECT key FROM invitations")
        assert [row["key"] for row in stored] != [token] and token not in str(stored)  # only its hash

        accounts.fail = True
        with pytest.raises(AccountError, match="gave up"):
            invitations.redeem(token, invitee)
        assert accounts.role(invitee.id, org) is None
        assert invitations.pending(token).email == "ivy@a.test"  # the failed redemption did not use it up

        accounts.fail = False
        assert invitations.redeem(token, invitee).role is Role.OPERATOR
        assert accounts.role(invitee.id, org) is Role.OPERATOR
        with pytest.raises(AccountError, match="^this invitation has already been used; sign in instead$"):
            invitations.redeem(token, invitee)
        with pytest.raises(AccountError, match="^this invitation link is not valid$"):
            invitations.pending(token + "x")

        first = resets.create(org, invitee, admin)
        second = resets.create(org, invitee, admin)
        with pytest.raises(AccountError, match="^this password-reset link is not valid$"):
            resets.pending(first)  # a newer link ends the unused one
        assert resets.use(second).user.id == invitee.id
        with pytest.raises(AccountError, match="already been used"):
            resets.use(second)

        late = resets.create(org, invitee, admin)
        clock.advance(timedelta(hours=1))
        with pytest.raises(AccountError, match="^this password-reset link has expired"):
            resets.use(late)
        expired = invitations.create(org, "max@a.test", Role.VIEWER, admin)
        clock.advance(timedelta(days=7))
        with pytest.raises(AccountError, match="^this invitation has expired"):
            invitations.pending(expired)
    finally:
        database.close()
