"""``bwlive admin``: administration of a server's data directory."""
from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.config import DEFAULT_DATA_DIR, DEFAULT_KEYS_DIR, Settings
from .services import open_services

if TYPE_CHECKING:
    from ..auth.accounts import User


def add_commands(commands: argparse._SubParsersAction) -> None:
    admin = commands.add_parser("admin", help="administration of a server's data directory").add_subparsers(
        dest="admin_command", required=True)
    bootstrap = admin.add_parser("bootstrap",
                                 help="create the first organisation and its admin; register the local system's "
                                      "public keys (run again: a new signing key)")
    bootstrap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    bootstrap.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    bootstrap.add_argument("--organisation", required=True, help="organisation name")
    bootstrap.add_argument("--email", required=True, help="the admin's e-mail address (sign-in name)")
    bootstrap.add_argument("--name", default="Administrator", help="the admin's display name")
    bootstrap.add_argument("--password-stdin", action="store_true",
                           help="read the password from standard input (else one is generated and printed)")
    bootstrap.set_defaults(run=admin_bootstrap)


def admin_bootstrap(args: argparse.Namespace) -> int:
    from ..auth.accounts import AccountError
    from ..crypto.system_signing import SigningPublicKey

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else secrets.token_urlsafe(12)
    try:
        user, created = bootstrap(Settings(data_dir=args.data_dir, keys_dir=args.keys_dir), args.organisation,
                                  args.email, args.name, password)
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"organisation {args.organisation!r} with admin {user.email}")
    signing = SigningPublicKey.find(args.keys_dir)
    if signing is not None:
        print(f"the local system certifies cameras with signing key {signing.thumbprint}")
    if not created:
        print("that account already existed: its password is unchanged")
    elif not args.password_stdin:
        print(f"password: {password}")
    return 0


def bootstrap(settings: Settings, organisation: str, email: str, name: str, password: str) -> tuple[User, bool]:
    """Create organisation + admin in the data directory; register the local system's
    public keys (its end-to-end key and signing key)."""
    from ..crypto.system_key import PUBLIC_FILE, SystemPublicKey
    from ..crypto.system_signing import SigningPublicKey

    key = SystemPublicKey.load(settings.keys_dir) if (settings.keys_dir / PUBLIC_FILE).exists() else None
    with open_services(settings) as services:
        return services.auth.bootstrap(organisation, email, name, password, key, SigningPublicKey.find(settings.keys_dir))
