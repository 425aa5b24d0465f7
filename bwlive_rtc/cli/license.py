"""``bwlive license``: issuing licenses (for whoever issues them; no data directory)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..kernel.config import DEFAULT_KEYS_DIR
from ..kernel.tokens import new_id


def add_commands(commands: argparse._SubParsersAction) -> None:
    license_cmd = commands.add_parser("license", help="license issuing (for whoever issues licenses)").add_subparsers(
        dest="license_command", required=True)
    issuer = license_cmd.add_parser("issuer-keys", help="create an Ed25519 issuer key pair")
    issuer.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    issuer.set_defaults(run=issuer_keys)
    issue = license_cmd.add_parser("issue", help="print a signed license file")
    issue.add_argument("--issuer-key", type=Path, default=DEFAULT_KEYS_DIR / "license-issuer-private.pem")
    issue.add_argument("--organisation", required=True, help="organisation id (Administration, License card)")
    issue.add_argument("--cameras", type=int, required=True, help="cameras covered (7-day average)")
    issue.add_argument("--days", type=int, default=365, help="valid for this many days (default 365)")
    issue.add_argument("--from", dest="valid_from", help="first valid day, YYYY-MM-DD (default today)")
    issue.set_defaults(run=issue_license)


def issuer_keys(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path = args.keys_dir / "license-issuer-private.pem"
    if private_path.exists():
        print(f"error: {private_path} exists already", file=sys.stderr)
        return 2
    key = Ed25519PrivateKey.generate()
    args.keys_dir.mkdir(parents=True, exist_ok=True)
    private_path.touch(0o600)
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    public_path = args.keys_dir / "license-issuer-public.pem"
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    print(f"issuer keys written: {private_path} (keep it secret) and {public_path} (give it to servers)")
    return 0


def issue_license(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ..licensing.license_file import License, sign

    key = serialization.load_pem_private_key(args.issuer_key.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        print(f"error: {args.issuer_key} is not an Ed25519 private key", file=sys.stderr)
        return 2
    start = date.fromisoformat(args.valid_from) if args.valid_from else date.today()
    license = License(new_id(), args.organisation, args.cameras, start,
                      start + timedelta(days=args.days - 1))
    print(sign(license, key))
    return 0
