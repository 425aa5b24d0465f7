"""TOTP two-factor sign-in (RFC 6238, via pyotp) and its recovery codes.

Enrolment has two steps: ``start`` makes a secret (kept as pending) and its QR code
(segno, an SVG data URI); ``confirm`` takes a code from the authenticator app, makes the
secret the user's and returns ten recovery codes, shown once and stored as SHA-256.
``verify`` accepts a code of the current time step or the one either side of it, once:
the step of the last code accepted is kept, and a code of that step or an earlier one is
refused (no replay within its window). A recovery code works once.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno

from ..kernel.clock import Clock
from ..kernel.tokens import token_hash
from ..storage.sql import Sql
from .accounts import AccountError, User

ISSUER = "bwlive"
RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a code of the step before or after the current one is accepted too


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an app by hand
    uri: str  # otpauth://
    qr: str  # data:image/svg+xml URI of the QR code of ``uri``


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


class TwoFactor:
    def __init__(self, db: Sql, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _user_row(self, user_id: str) -> dict:
        row = self.db.row("SELECT * FROM users WHERE id = :id", id=user_id)
        if row is None:
            raise AccountError("no such user")
        return row

    def enabled(self, user_id: str) -> bool:
        return bool(self._user_row(user_id)["totp_secret"])

    def start(self, user: User) -> Enrolment:
        """A new pending secret for ``user`` (replacing any earlier pending one)."""
        if self.enabled(user.id):
            raise AccountError("two-factor sign-in is already set up for your account")
        secret = pyotp.random_base32()
        self.db.update("users", {"id": user.id}, {"totp_pending_secret": secret})
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
        return Enrolment(secret, uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=2))

    def confirm(self, user: User, code: str) -> list[str]:
        """Make the pending secret the user's if ``code`` is from it; returns the recovery codes."""
        pending = self._user_row(user.id)["totp_pending_secret"]
        if not pending:
            raise AccountError("start setting up two-factor sign-in first")
        step = self._matching_step(pending, code, after=None)
        if step is None:
            raise AccountError("that code is not right: enter the 6 digits your authenticator app shows now")
        self.db.update("users", {"id": user.id}, {"totp_secret": pending, "totp_pending_secret": None,
                                                  "totp_last_step": step})
        return self._new_recovery_codes(user.id)

    def verify(self, user_id: str, code: str) -> bool:
        """Whether ``code`` is a fresh TOTP code or an unused recovery code of the user
        (either is used up by this)."""
        row = self._user_row(user_id)
        if not row["totp_secret"]:
            return False
        step = self._matching_step(row["totp_secret"], code, after=row["totp_last_step"])
        if step is not None:
            self.db.update("users", {"id": user_id}, {"totp_last_step": step})
            return True
        return self._use_recovery_code(user_id, code)

    def disable(self, user_id: str) -> None:
        with self.db.transaction():
            self.db.update("users", {"id": user_id}, {"totp_secret": None, "totp_pending_secret": None,
                                                      "totp_last_step": None})
            self.db.delete("recovery_codes", user_id=user_id)

    def recovery_codes_left(self, user_id: str) -> int:
        return int(self.db.value("SELECT count(*) FROM recovery_codes WHERE user_id = :user AND used_at IS NULL",
                                 user=user_id))

    def _matching_step(self, secret: str, code: str, after: int | None) -> int | None:
        """The time step near now whose code is ``code`` and which comes after ``after``."""
        code = _normalised(code)
        if len(code) != 6 or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        now = totp.timecode(self.clock.now())
        for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
            if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    def _new_recovery_codes(self, user_id: str) -> list[str]:
        codes = [f"{secrets.token_hex(5)}-{secrets.token_hex(5)}" for _ in range(RECOVERY_CODES)]
        with self.db.transaction():
            self.db.delete("recovery_codes", user_id=user_id)
            self.db.insert("recovery_codes", *({"code_hash": token_hash(_normalised(code)), "user_id": user_id,
                                                "used_at": None} for code in codes))
        return codes

    def _use_recovery_code(self, user_id: str, code: str) -> bool:
        key = token_hash(_normalised(code))
        used = self.db.run(
            "UPDATE recovery_codes SET used_at = :now WHERE code_hash = :key AND user_id = :user AND used_at IS NULL",
            now=self.clock.now().isoformat(), key=key, user=user_id)
        return used == 1
