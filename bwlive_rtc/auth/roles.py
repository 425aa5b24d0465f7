"""The roles a user holds in an organisation (SPEC §4)."""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    VIEWER = "viewer"  # watch and acknowledge live streams, watch recordings
    OPERATOR = "operator"  # the same, for the operators of a SOC
    ADMIN = "admin"  # also settings, users and roles, systems, integrations, licenses

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @classmethod
    def parse(cls, value: object) -> Role:
        try:
            return cls(str(value))
        except ValueError:
            raise ValueError(f"unknown role {value!r}: use viewer, operator or admin") from None
