#!/usr/bin/env bash
# The store-level and API tests again on PostgreSQL (tests/postgres.py: a fresh database
# per test, or per module for a module's server), on a throwaway server of Debian's
# PostgreSQL (.ci/postgres); a test's servers take their database by data directory
# (tests/postgres.py database_of). Not the Chromium, media-only and network-lab tests,
# which reach the database only through the stores and servers tested here, nor
# test_cluster, which runs its two nodes on a PostgreSQL of its own in the SQLite pass.
set -euo pipefail
cd "$(dirname "$0")/.."
postgres_dir=$(mktemp -d)
trap '.ci/postgres stop "$postgres_dir"' EXIT
postgres=$(.ci/postgres start "$postgres_dir")
BWLIVE_TEST_DATABASE=$postgres python3 -m pytest -q \
  tests/test_schema.py tests/test_access.py tests/test_account_security.py tests/test_sign_in.py \
  tests/test_authorization.py tests/test_audit_log.py tests/test_groups.py tests/test_console_acknowledge.py \
  tests/test_docking.py tests/test_fleet_admin.py tests/test_licensing.py tests/test_trust_roots.py \
  tests/test_integrations.py tests/test_integrations_process.py tests/test_embedding.py tests/test_api_fuzz.py \
  tests/test_red_team_fleet.py tests/test_red_team_camera.py tests/test_red_team_acknowledge.py \
  tests/test_recording_markers.py tests/test_recordings_log.py tests/test_signed_publish.py \
  tests/test_blindness.py tests/test_hardening.py tests/test_cli.py tests/test_evidence.py tests/test_phone_pairing.py \
  tests/test_delivery_claims.py tests/test_api_errors.py tests/test_help_request.py tests/test_key_links.py \
  tests/test_stream_resume.py tests/test_serve_lifecycle.py tests/test_live_path.py tests/test_recordings.py \
  tests/test_recordings_storage.py
