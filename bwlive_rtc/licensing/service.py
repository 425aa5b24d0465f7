"""Whether an organisation may stream: its trial, its licenses and its usage."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..auth.accounts import Accounts
from ..kernel.clock import Clock
from ..storage.sql import Sql
from .license_file import License, LicenseError, verify
from .usage import CameraAssignments


@dataclass(frozen=True)
class LicenseState:
    organisation_id: str  # what ``bwlive license issue --organisation`` needs
    issuer_key: bool  # whether this server can check license files at all
    trial_ends_at: datetime
    in_trial: bool
    licensed_cameras: int  # seats of the licenses valid today
    needed: float  # 7-day average of cameras counting
    in_use: int  # cameras counting now
    licenses: list[License]

    @property
    def ok(self) -> bool:
        return self.in_trial or (self.licensed_cameras > 0 and math.ceil(self.needed) <= self.licensed_cameras)

    @property
    def reason(self) -> str:
        if self.in_trial:
            return f"trial until {self.trial_ends_at:%Y-%m-%d}"
        if self.licensed_cameras == 0:
            return (f"no valid license: the trial ended on {self.trial_ends_at:%Y-%m-%d} and no license is valid "
                    "today; an admin can add one in Settings")
        if not self.ok:
            return (f"not enough licenses: {self.needed:.1f} cameras on average over 7 days, "
                    f"{self.licensed_cameras} licensed; an admin can add licenses in Settings")
        return f"{self.licensed_cameras} cameras licensed, {self.needed:.1f} used on average over 7 days"

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok, "reason": self.reason, "in_trial": self.in_trial,
            "trial_ends_at": self.trial_ends_at.isoformat(), "licensed_cameras": self.licensed_cameras,
            "needed": round(self.needed, 2), "in_use": self.in_use, "organisation_id": self.organisation_id,
            "issuer_key": self.issuer_key, "licenses": [lic.to_json() for lic in self.licenses],
        }


class Licensing:
    def __init__(self, db: Sql, clock: Clock, accounts: Accounts, issuer: Ed25519PublicKey | None) -> None:
        self.db = db
        self.clock = clock
        self.accounts = accounts
        self.issuer = issuer
        self.assignments = CameraAssignments(db, clock)

    def add(self, organisation_id: str, text: str) -> License:
        if self.issuer is None:
            raise LicenseError("this server has no license issuer key configured, so it cannot check licenses")
        license = verify(text, self.issuer)
        if license.organisation_id != organisation_id:
            raise LicenseError("this license was issued for another organisation")
        if self.db.row("SELECT id FROM licenses WHERE id = :id", id=license.id) is not None:
            raise LicenseError("this license has already been added")
        self.db.insert(
            "licenses", {**license.to_json(), "text": text.strip(), "added_at": self.clock.now().isoformat()}
        )
        return license

    def state(self, organisation_id: str) -> LicenseState:
        now = self.clock.now()
        today = now.date()
        licenses = [
            verify(row["text"], self.issuer)
            for row in self.db.rows("SELECT text FROM licenses WHERE organisation_id = :organisation ORDER BY valid_from",
                                    organisation=organisation_id)
        ] if self.issuer else []
        trial_ends = self.accounts.trial_ends_at(organisation_id)
        return LicenseState(
            organisation_id=organisation_id,
            issuer_key=self.issuer is not None,
            trial_ends_at=trial_ends,
            in_trial=now < trial_ends,
            licensed_cameras=sum(lic.cameras for lic in licenses if lic.covers(today)),
            needed=self.assignments.needed(organisation_id, today),
            in_use=self.assignments.counting_now(organisation_id),
            licenses=licenses,
        )

    def streaming_organisations(self, organisation_ids: list[str]) -> tuple[list[str], str]:
        """The organisations allowed to receive a stream now, and (if none) why not."""
        states = {org: self.state(org) for org in organisation_ids}
        allowed = [org for org, state in states.items() if state.ok]
        reason = "; ".join(state.reason for state in states.values()) if not allowed else ""
        return allowed, reason


LICENSING = web.AppKey("licensing", Licensing)
