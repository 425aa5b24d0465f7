"""Organisations, users, roles, sessions, invitations, systems joining, the audit log."""
