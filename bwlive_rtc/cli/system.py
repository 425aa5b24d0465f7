"""``bwlive system``: the system's keys (the end-to-end key pair and the signing key, in its
keys directory, never the server's), and joining an organisation."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.config import DEFAULT_KEYS_DIR

if TYPE_CHECKING:
    from ..crypto.system_key import SystemKeyPair, SystemPublicKey


def add_commands(commands: argparse._SubParsersAction) -> None:
    system = commands.add_parser("system", help="the system (manager): keys, joining an organisation").add_subparsers(
        dest="system_command", required=True)
    join = system.add_parser("join", help="join an organisation with the one-time authorization code an admin created")
    join.add_argument("--server", required=True, help="server base URL")
    join.add_argument("--code", required=True, help="the authorization code, e.g. ABCD-EFGH-JKLM")
    join.add_argument("--name", required=True, help="a name for this system")
    join.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    join.add_argument("--insecure", action="store_true", help="accept a self-signed server certificate")
    join.set_defaults(run=system_join)
    keys = system.add_parser("keys", help="the end-to-end key pair and the signing key").add_subparsers(
        dest="keys_command", required=True)
    generate = keys.add_parser("generate", help="create the key pair (and the signing key, if there is none); "
                                                "print thumbprints and link with key")
    generate.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    generate.add_argument("--base-url", default="http://127.0.0.1:8080", help="web client address for the link")
    generate.add_argument("--signing-only", action="store_true",
                          help="create only the signing key that certifies cameras (upgrading a keys directory)")
    generate.add_argument("--force", action="store_true",
                          help="replace an existing key pair (with --signing-only: the signing key; cameras dock again)")
    generate.set_defaults(run=generate_keys)
    show = keys.add_parser("show", help="print the thumbprints (and the link, if the private key is here)")
    show.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    show.add_argument("--base-url", default="http://127.0.0.1:8080")
    show.set_defaults(run=show_keys)
    for command in (generate, show):
        command.add_argument("--passphrase-stdin", action="store_true",
                             help="read a passphrase from standard input; also print a password-protected link")
    key_import = keys.add_parser("import", help="take the key pair from a link with key (systems sharing one key)")
    key_import.add_argument("link", help="the link with key ('#key=...' or password-protected '#pkey=...')")
    key_import.add_argument("--keys-dir", type=Path, default=DEFAULT_KEYS_DIR)
    key_import.add_argument("--passphrase-stdin", action="store_true", help="read the link's passphrase from standard input")
    key_import.add_argument("--force", action="store_true", help="replace a different key pair already there")
    key_import.set_defaults(run=import_keys)


def generate_keys(args: argparse.Namespace) -> int:
    from ..crypto.system_key import PRIVATE_FILE, PUBLIC_FILE, SystemKeyPair, SystemPublicKey
    from ..crypto.system_signing import SIGNING_FILE, SigningKeyPair

    keys_dir: Path = args.keys_dir
    passphrase = _read_passphrase() if args.passphrase_stdin else None
    making_pair = not args.signing_only
    if making_pair and (keys_dir / PRIVATE_FILE).exists() and not args.force:
        print(f"error: a key pair already exists in {keys_dir}; use --force to replace it", file=sys.stderr)
        return 2
    signing_exists = (keys_dir / SIGNING_FILE).exists()
    if args.signing_only and signing_exists and not args.force:
        print(f"error: a signing key already exists in {keys_dir}; use --force to replace it "
              "(every camera must dock again, operators need the new link)", file=sys.stderr)
        return 2
    if making_pair:
        SystemKeyPair.generate().save(keys_dir)
        print(f"key pair written to {keys_dir / PRIVATE_FILE} and {keys_dir / PUBLIC_FILE}")
    if args.signing_only or not signing_exists:
        SigningKeyPair.generate().save(keys_dir)
        print(f"signing key written to {keys_dir / SIGNING_FILE} (keep it on the system host, never the server's)")
        if signing_exists:
            print("register it with `bwlive admin bootstrap` at the system; cameras docked before must dock again")
    pair = SystemKeyPair.load(keys_dir) if (keys_dir / PRIVATE_FILE).exists() else None
    _print_key(SystemPublicKey.load(keys_dir), pair, args.base_url, passphrase, keys_dir)
    return 0


def show_keys(args: argparse.Namespace) -> int:
    from ..crypto.system_key import PRIVATE_FILE, SystemKeyPair, SystemPublicKey

    keys_dir: Path = args.keys_dir
    passphrase = _read_passphrase() if args.passphrase_stdin else None
    public = SystemPublicKey.load(keys_dir)
    pair = SystemKeyPair.load(keys_dir) if (keys_dir / PRIVATE_FILE).exists() else None
    _print_key(public, pair, args.base_url, passphrase, keys_dir)
    return 0


def import_keys(args: argparse.Namespace) -> int:
    """Write the pair from a link, so this system encrypts to the same key as the link's.
    The link carries only the *public* signing key of the system it came from: this system
    certifies its own cameras with its own signing key (made here if there is none)."""
    from ..crypto.link import parse_link
    from ..crypto.system_key import PUBLIC_FILE, SystemKeyPair, SystemPublicKey
    from ..crypto.system_signing import SigningKeyPair, SigningPublicKey

    keys_dir: Path = args.keys_dir
    link = parse_link(args.link)
    pair = SystemKeyPair.from_pkcs8(link.open(_read_passphrase() if args.passphrase_stdin else None))
    if (keys_dir / PUBLIC_FILE).exists():
        existing = SystemPublicKey.load(keys_dir)
        if existing.key_id != pair.public.key_id and not args.force:
            print(f"error: {keys_dir} holds another key pair ({existing.thumbprint}); use --force to replace it",
                  file=sys.stderr)
            return 2
        if existing.key_id == pair.public.key_id:
            print(f"this key pair is already in {keys_dir}")
    pair.save(keys_dir)
    print(f"key pair imported into {keys_dir}")
    print(f"thumbprint: {pair.public.thumbprint}")
    signing = SigningPublicKey.find(keys_dir)
    if signing is None:
        SigningKeyPair.generate().save(keys_dir)
        signing = SigningPublicKey.load(keys_dir)
        print("made this system's own signing key (a link carries only the public half of its system's)")
    print(f"signing key thumbprint: {signing.thumbprint}")
    if link.signing_key != signing.raw:
        print("this system certifies its cameras with its own signing key: give operators this system's link "
              "too (`bwlive system keys show`), so their browsers verify its cameras")
    return 0


def _read_passphrase() -> str:
    passphrase = sys.stdin.readline().rstrip("\n")
    if not passphrase:
        raise ValueError("no passphrase on standard input")
    return passphrase


def _print_key(public: SystemPublicKey, pair: SystemKeyPair | None, base_url: str, passphrase: str | None,
               keys_dir: Path) -> None:
    """Thumbprints, and the links (with the signing public key) where the private key is."""
    from ..crypto.system_signing import SigningPublicKey

    signing = SigningPublicKey.find(keys_dir)
    print(f"thumbprint: {public.thumbprint}")
    if signing is None:
        print("signing key: none yet; run 'bwlive system keys generate --signing-only' (links made without it "
              "let browsers decrypt but not verify cameras)")
    else:
        print(f"signing key thumbprint: {signing.thumbprint}")
    raw = signing.raw if signing else None
    if pair is not None:
        print("link with key (give it only to operators; it contains the private key):")
        print(f"  {pair.link(base_url, raw)}")
        if passphrase is not None:
            print("password-protected link with key (operators type the passphrase once):")
            print(f"  {pair.protected_link(base_url, passphrase, raw)}")
    elif passphrase is not None:
        raise ValueError("the private key is not here: no link can be made")


async def system_join(args: argparse.Namespace) -> int:
    import aiohttp

    from ..crypto.system_key import SystemPublicKey
    from ..crypto.system_signing import SigningPublicKey

    key, signing = SystemPublicKey.load(args.keys_dir), SigningPublicKey.load(args.keys_dir)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=not args.insecure)) as session:
        try:
            async with session.post(
                args.server.rstrip("/") + "/api/systems/join",
                json={"code": args.code, "name": args.name, "public_key": key.pem().decode(),
                      "signing_key": signing.b64u()},
            ) as response:
                body = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            print(f"error: cannot reach {args.server}: {exc}", file=sys.stderr)
            return 1
    if response.status != 201:
        print(f"error: the server refused ({response.status}): {body.get('error')}", file=sys.stderr)
        return 1
    print(f"system {args.name!r} joined; key thumbprint {body['thumbprint']}, "
          f"signing key thumbprint {body['signing_thumbprint']}")
    return 0
