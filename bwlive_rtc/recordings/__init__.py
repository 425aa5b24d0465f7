"""Recordings: every stream's ciphertext kept as it is forwarded (SPEC §4, §6)."""
