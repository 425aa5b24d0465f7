"""One row per camera of an organisation: whom it belongs to, whether it is online (has a
live stream) and streaming (media within the last 2 s), when it last docked, when the
credential it took then expires. Not its battery: that is in the camera's end-to-end
encrypted status, which the admin's browser opens (web/admin-status.js)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..crypto.signing import CERTIFICATE_VALIDITY
from ..fleet.store import Fleet
from ..signaling.sessions import QUIET_S, WhipSessions


def camera_status(fleet: Fleet, sessions: WhipSessions, organisation_id: str, now: datetime) -> list[dict[str, Any]]:
    users = {row["id"]: row["name"] for row in fleet.list(organisation_id)["camera_users"]}
    rows = []
    for camera in fleet.cameras(organisation_id):
        docked = camera.last_docked_at
        expires = docked + CERTIFICATE_VALIDITY if docked else None
        stream = sessions.stream_of(camera.id)
        rows.append({
            "id": camera.id, "serial": camera.serial, "camera_user": users.get(camera.camera_user_id or ""),
            "online": stream is not None, "streaming": stream is not None and stream.quiet_for() < QUIET_S,
            "stream_id": stream.id if stream else None,
            "last_docked_at": docked.isoformat() if docked else None,
            "credential_expires_at": expires.isoformat() if expires else None,
            "credential_expired": expires is not None and expires <= now,
            "revoked": camera.revoked_at is not None,
        })
    return rows
