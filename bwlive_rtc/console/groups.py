"""Named groups of up to four camera users, per organisation, in the metadata database."""
from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..kernel.errors import BadRequest, NotFound
from ..storage.sql import Sql

MAX_MEMBERS = 4
MAX_NAME_LENGTH = 60


class GroupError(BadRequest, ValueError):
    """The change is not allowed; the message says why."""


class GroupNotFound(NotFound, LookupError):
    """No group with that id in the organisation."""


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    members: list[str]

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class Groups:
    """The ``console_groups`` table, one set of groups per organisation; members are
    camera user names, in the order added."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    def list(self, organisation_id: str) -> list[Group]:
        rows = self.db.rows("SELECT * FROM console_groups WHERE organisation_id = :organisation ORDER BY lower(name)",
                            organisation=organisation_id)
        return [_group(row) for row in rows]

    def get(self, organisation_id: str, group_id: str) -> Group:
        row = self.db.row("SELECT * FROM console_groups WHERE organisation_id = :organisation AND id = :id",
                          organisation=organisation_id, id=group_id)
        if row is None:
            raise GroupNotFound(f"no group with id {group_id!r}")
        return _group(row)

    def create(self, organisation_id: str, name: str, members: Sequence[str] | None = None) -> Group:
        name = self._free_name(organisation_id, _clean_name(name))
        cleaned = [_clean_member(member) for member in members or []]
        group = Group(uuid.uuid4().hex[:12], name, [])
        for member in cleaned:
            group = _with_member(group, member)
        self.db.insert("console_groups", {"id": group.id, "organisation_id": organisation_id, "name": group.name,
                           "members": json.dumps(group.members)})
        return group

    def rename(self, organisation_id: str, group_id: str, name: str) -> Group:
        group = self.get(organisation_id, group_id)
        name = _clean_name(name)
        if name.casefold() != group.name.casefold():
            name = self._free_name(organisation_id, name)
        self.db.update("console_groups", {"id": group_id}, {"name": name})
        return Group(group.id, name, group.members)

    def delete(self, organisation_id: str, group_id: str) -> None:
        self.get(organisation_id, group_id)
        self.db.delete("console_groups", id=group_id)

    def add_member(self, organisation_id: str, group_id: str, member: str) -> Group:
        group = _with_member(self.get(organisation_id, group_id), _clean_member(member))
        self.db.update("console_groups", {"id": group_id}, {"members": json.dumps(group.members)})
        return group

    def remove_member(self, organisation_id: str, group_id: str, member: str) -> Group:
        group = self.get(organisation_id, group_id)
        if member not in group.members:
            raise GroupNotFound(f"{member!r} is not in the group {group.name!r}")
        members = [m for m in group.members if m != member]
        self.db.update("console_groups", {"id": group_id}, {"members": json.dumps(members)})
        return Group(group.id, group.name, members)

    def _free_name(self, organisation_id: str, name: str) -> str:
        if any(g.name.casefold() == name.casefold() for g in self.list(organisation_id)):
            raise GroupError(f"a group called {name!r} already exists")
        return name


def _group(row: dict[str, object]) -> Group:
    return Group(str(row["id"]), str(row["name"]), json.loads(str(row["members"])))


def _with_member(group: Group, member: str) -> Group:
    if member in group.members:
        return group
    if len(group.members) >= MAX_MEMBERS:
        raise GroupError(
            f"the group {group.name!r} already has {MAX_MEMBERS} camera users; remove one before adding {member!r}"
        )
    return Group(group.id, group.name, [*group.members, member])


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise GroupError("give the group a name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise GroupError(f"a group name has at most {MAX_NAME_LENGTH} characters")
    return name


def _clean_member(member: object) -> str:
    if not isinstance(member, str) or not member.strip():
        raise GroupError("a member is a camera user's name")
    return member.strip()
