"""``bwlive evidence``: a recording as an evidence package (on the server's data
directory, audited as the command line), and checking a package anywhere, offline."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.config import DEFAULT_DATA_DIR, Settings
from .fleet import in_organisation
from .serve import add_store_options, store_settings

if TYPE_CHECKING:
    from .services import Services

WHO = "command line"


def add_commands(commands: argparse._SubParsersAction) -> None:
    evidence = commands.add_parser("evidence", help="recordings as evidence packages, and their verification")
    actions = evidence.add_subparsers(dest="evidence_command", required=True)
    export = actions.add_parser("export", help="write one recording as an evidence package (zip)")
    export.add_argument("recording", help="the recording's id")
    export.add_argument("--out", type=Path, required=True, help="the package file to write")
    export.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    export.add_argument("--organisation", help="organisation name (needed if there are several)")
    add_store_options(export)
    export.set_defaults(run=_export_command, action=_export)
    verify = actions.add_parser("verify", help="check a package offline against the system's signing key")
    verify.add_argument("package", type=Path)
    key = verify.add_mutually_exclusive_group(required=True)
    key.add_argument("--signing-key", type=Path, help="the system's public signing key (system-signing-public.pem)")
    key.add_argument("--thumbprint", help="the system signing key's thumbprint (bwlive system keys show)")
    verify.set_defaults(run=_verify)


def _export_command(args: argparse.Namespace) -> int:
    return in_organisation(Settings(data_dir=args.data_dir, **store_settings(args)), args)


def _export(services: Services, org: str, args: argparse.Namespace) -> int:
    recording = services.evidence.catalog.get(args.recording, org)
    if recording is None:
        print(f"error: there is no recording {args.recording!r} in this organisation (it may have been purged)",
              file=sys.stderr)
        return 2
    services.auth.audit.record("evidence exported", organisation_id=org, user_name=WHO, recording=recording["id"],
                               camera=recording["camera"])
    with open(args.out, "wb") as out:
        services.evidence.exporter(recording, org, WHO)(out)
    print(f"wrote {args.out}: recording {recording['id']} of {recording['camera']}, "
          f"{len(recording['segments'])} segments")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ..crypto.system_signing import SigningPublicKey
    from ..evidence.package import Package, system_key_by_thumbprint, verify_package
    from ..evidence.verify import EvidenceError

    try:
        package = Package.open(args.package)
        if args.signing_key is not None:
            key = SigningPublicKey.from_pem(args.signing_key.read_bytes())
        else:
            key = system_key_by_thumbprint(package, args.thumbprint)
        print(verify_package(package, key).sentence())
        return 0
    except EvidenceError as exc:
        print(f"NOT VERIFIED: {exc}")
        return 1
