"""Password hashing with Argon2id (argon2-cffi), a memory-hard KDF."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
_hasher = PasswordHasher()
_dummy: list[str] = []


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(_hasher.hash("not a password of anyone"))
    return _dummy[0]


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"choose a password of at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and say no (no user probing)."""
    if password_hash is None:
        password_hash = _dummy_hash()
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
