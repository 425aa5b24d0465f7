"""What the console API reads: one model per body and per path."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from ..crypto.acknowledgement import MAX_SEALED_CHARS
from ..kernel.requests import Id, Name, RequestModel
from .groups import MAX_MEMBERS


class NewGroup(RequestModel):
    name: Name
    members: Annotated[list[Name], Field(max_length=MAX_MEMBERS)] = Field(default_factory=list)  # camera user names


class GroupName(RequestModel):
    name: Name


class GroupPath(RequestModel):
    group_id: Id


class GroupMemberPath(RequestModel):
    group_id: Id
    member: Name  # a camera user's name


class AcknowledgeRequest(RequestModel):
    """``sealed``: the browser's sealed press (base64url of an operator-data SFrame frame)."""

    sealed: Annotated[str, StringConstraints(min_length=16, max_length=MAX_SEALED_CHARS, pattern=r"^[A-Za-z0-9_-]+$")]
