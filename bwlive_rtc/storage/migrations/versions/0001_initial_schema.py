"""The schema as the stores created it before migrations existed.

Every table and index is created only if missing, so a database made before there was a
schema version (the same tables, no ``alembic_version``) passes through this migration
untouched and is recorded as version 0001.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

Text, Integer, Float = sa.Text, sa.Integer, sa.Float


def _table(name: str, *columns: sa.Column | sa.Constraint) -> None:
    op.create_table(name, *columns, if_not_exists=True)


def _index(table: str, *columns: str, unique: bool = False) -> None:
    op.create_index(f"idx_{table}_{'_'.join(columns)}", table, list(columns), unique=unique, if_not_exists=True)


def _columns(pk: str | tuple[str, ...], types: dict[str, type[sa.types.TypeEngine]],
             not_null: tuple[str, ...] = ()) -> list[sa.Column]:
    keys = (pk,) if isinstance(pk, str) else pk
    return [sa.Column(name, kind, primary_key=name in keys, nullable=name in keys or name not in not_null)
            for name, kind in types.items()]


def upgrade() -> None:
    _table("streams", *_columns("id", {"id": Text, "camera": Text, "started_at": Text, "ended_at": Text,
                                       "key_envelope": Text}, not_null=("camera", "started_at")))
    # accounts
    _table("organisations", *_columns("id", {"id": Text, "name": Text, "created_at": Text, "trial_ends_at": Text}))
    _table("users", *_columns("id", {"id": Text, "email": Text, "name": Text, "password_hash": Text,
                                     "identity_provider": Text, "created_at": Text}))
    _index("users", "email", unique=True)
    _table("memberships", *_columns(("user_id", "organisation_id"), {
        "user_id": Text, "organisation_id": Text, "role": Text, "owner": Integer, "created_at": Text}))
    _table("sessions", *_columns("key", {"key": Text, "user_id": Text, "organisation_id": Text, "csrf_token": Text,
                                         "created_at": Text, "last_used_at": Text}))
    _table("invitations", *_columns("key", {"key": Text, "organisation_id": Text, "email": Text, "role": Text,
                                            "invited_by": Text, "created_at": Text, "expires_at": Text,
                                            "accepted_at": Text}))
    # systems
    _table("systems", *_columns("id", {"id": Text, "organisation_id": Text, "name": Text, "key_id": Text,
                                       "public_key_pem": Text, "joined_at": Text}))
    _index("systems", "key_id")
    _table("system_key_history", *_columns((), {"system_id": Text, "organisation_id": Text, "key_id": Text,
                                                "public_key_pem": Text, "replaced_at": Text}))
    _index("system_key_history", "key_id")
    _table("join_codes", *_columns("key", {"key": Text, "organisation_id": Text, "created_by": Text,
                                           "created_at": Text, "expires_at": Text, "used_at": Text}))
    _table("audit_log", *_columns("id", {"id": Integer, "time": Text, "organisation_id": Text, "user_id": Text,
                                         "user_name": Text, "action": Text, "details": Text}))
    _index("audit_log", "organisation_id", "time")
    # licensing
    _table("camera_assignments", *_columns("id", {"id": Integer, "organisation_id": Text, "camera_id": Text,
                                                  "start": Text, "end": Text}))
    _table("licenses", *_columns("id", {"id": Text, "organisation_id": Text, "cameras": Integer, "valid_from": Text,
                                        "valid_until": Text, "text": Text, "added_at": Text}))
    # fleet
    _table("profiles", *_columns("id", {"id": Text, "organisation_id": Text, "name": Text, "streaming": Integer,
                                        "location": Integer}))
    _table("camera_users", *_columns("id", {"id": Text, "organisation_id": Text, "name": Text, "profile_id": Text}))
    _table("wifi_networks", *_columns("id", {"id": Text, "organisation_id": Text, "ssid": Text, "password": Text,
                                             "profile_id": Text, "camera_user_id": Text}))
    _table("cameras", *_columns("id", {"id": Text, "organisation_id": Text, "serial": Text, "model": Text,
                                       "camera_user_id": Text, "revoked_at": Text, "last_docked_at": Text}))
    _index("cameras", "serial", unique=True)
    # console
    _table("console_groups", *_columns("id", {"id": Text, "organisation_id": Text, "name": Text, "members": Text},
                                       not_null=("organisation_id", "name", "members")))
    _index("console_groups", "organisation_id", "name", unique=True)
    # recordings
    _table("recordings", *_columns("id", {
        "id": Text, "camera": Text, "organisations": Text, "started_at": Text, "ended_at": Text,
        "duration_ms": Integer, "size": Integer, "key_envelope": Text, "state": Text, "storage": Text,
    }, not_null=("camera", "started_at", "state")))
    _index("recordings", "camera")
    _index("recordings", "ended_at")
    _table("recording_segments", *_columns(("recording_id", "seq"), {
        "recording_id": Text, "seq": Integer, "key": Text, "start_ms": Integer, "end_ms": Integer, "size": Integer,
        "frames": Integer,
    }), sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"]))
    # integrations (times in Unix seconds until 0002)
    _table("integrations", *_columns("id", {"id": Text, "organisation_id": Text, "url": Text, "secret": Text,
                                            "created_at": Float}, not_null=("organisation_id", "url", "created_at")))
    _table("integration_deliveries", *_columns("id", {
        "id": Text, "integration_id": Text, "event_id": Text, "event_type": Text, "body": Text, "status": Text,
        "created_at": Float, "next_attempt_at": Float, "attempts": Integer,
    }, not_null=("integration_id", "event_id", "event_type", "body", "status", "created_at", "attempts")))
    _index("integration_deliveries", "status", "next_attempt_at")
    _table("integration_attempts", *_columns("id", {
        "id": Integer, "delivery_id": Text, "number": Integer, "at": Float, "response_code": Integer, "error": Text,
        "duration_ms": Integer,
    }, not_null=("delivery_id", "number", "at")))
    _index("integration_attempts", "delivery_id")
