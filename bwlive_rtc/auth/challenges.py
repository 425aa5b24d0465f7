"""Sign-ins waiting for their second factor: the password was right, the code is still
to come. A challenge lives 5 minutes and allows 5 codes, is held in memory only (a
restart asks for the password again) and is bounded in number."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.clock import Clock
from ..kernel.tokens import new_token, token_hash
from .accounts import AccountError

VALID_FOR = timedelta(minutes=5)
TRIES = 5
MAX_WAITING = 10_000  # beyond, the oldest challenges are dropped
COOKIE = "bwlive_two_factor"


@dataclass
class Challenge:
    user_id: str
    email: str
    expires_at: datetime
    tries_left: int = TRIES


class Challenges:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._waiting: OrderedDict[str, Challenge] = OrderedDict()

    def create(self, user_id: str, email: str) -> str:
        """The token for the challenge cookie."""
        token = new_token()
        self._waiting[token_hash(token)] = Challenge(user_id, email, self.clock.now() + VALID_FOR)
        while len(self._waiting) > MAX_WAITING:
            self._waiting.popitem(last=False)
        return token

    def take_try(self, token: str | None) -> Challenge:
        """The challenge behind the cookie, one try fewer; refused with a sentence when
        there is none, it expired or its tries are spent."""
        challenge = self._waiting.get(token_hash(token)) if token else None
        if challenge is None or self.clock.now() >= challenge.expires_at or challenge.tries_left <= 0:
            if token:
                self._waiting.pop(token_hash(token), None)
            raise AccountError("sign in with your e-mail address and password first (the code step lasts 5 minutes)")
        challenge.tries_left -= 1
        return challenge

    def end(self, token: str) -> None:
        self._waiting.pop(token_hash(token), None)
