"""``bwlive apikeys``: an organisation's API keys, which integrators' backends exchange for
viewer tokens (docs/EMBEDDING.md). Audited as the command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..kernel.config import DEFAULT_DATA_DIR
from .fleet import fleet_command as in_organisation  # the data directory's one organisation (or the named one)

if TYPE_CHECKING:
    from .services import Services

WHO = "command line"


def add_commands(commands: argparse._SubParsersAction) -> None:
    apikeys = commands.add_parser("apikeys", help="API keys for integrators (on the server's data directory)")
    actions = apikeys.add_subparsers(dest="apikeys_command", required=True)
    create = actions.add_parser("create", help="a new key; its secret is printed once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=("viewer", "operator"), default="viewer",
                        help="the most its tokens may do (operators also acknowledge)")
    create.add_argument("--origin", action="append", required=True, dest="origins",
                        help="an origin whose pages may use its tokens, e.g. https://vms.example (repeatable)")
    create.add_argument("--expires-in-days", type=int, help="default: until revoked")
    create.set_defaults(action=_create)
    listing = actions.add_parser("list", help="id, name, prefix, role, origins, created by, last used")
    listing.set_defaults(action=_list)
    revoke = actions.add_parser("revoke", help="its tokens stop working at their next request")
    revoke.add_argument("--id", required=True)
    revoke.set_defaults(action=_revoke)
    for sub in (create, listing, revoke):
        sub.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        sub.add_argument("--organisation", help="organisation name (needed if there are several)")
        sub.set_defaults(run=in_organisation)


def _create(services: Services, org: str, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ..embedding.requests import NewApiKey
    from ..kernel.access import Role
    from ..kernel.requests import sentence

    try:
        new = NewApiKey(name=args.name, role=args.role, origins=args.origins, expires_in_days=args.expires_in_days)
    except ValidationError as exc:
        print(f"error: {sentence(exc)}", file=sys.stderr)
        return 2
    key, secret = services.api_keys.create(org, new.name, Role(new.role), tuple(dict.fromkeys(new.origins)),
                                           new.expires_in_days, WHO)
    services.auth.audit.record("API key created", organisation_id=org, user_name=WHO, key=key.prefix, name=key.name,
                               role=key.role.value, origins=list(key.origins))
    print(f"API key {key.name} ({key.id}), role {key.role.value}, for {', '.join(key.origins)}")
    print(f"secret (shown once; keep it in your backend): {secret}")
    return 0


def _list(services: Services, org: str, args: argparse.Namespace) -> int:
    for key in services.api_keys.list(org):
        state = f"revoked {key.revoked_at}" if key.revoked_at else f"last used {key.last_used_at or 'never'}"
        print(f"{key.id}  {key.name}  {key.prefix}  {key.role.value}  {','.join(key.origins)}  "
              f"by {key.created_by}  {state}")
    return 0


def _revoke(services: Services, org: str, args: argparse.Namespace) -> int:
    key = services.api_keys.revoke(org, args.id)
    services.auth.audit.record("API key revoked", organisation_id=org, user_name=WHO, key=key.prefix, name=key.name)
    print(f"revoked {key.name} ({key.prefix}); its tokens are refused from their next request")
    return 0
