"""Calls between the nodes of a cluster (docs/PROTOCOL.md, "Node to node"): HMAC-SHA256
under a secret every node holds (``DATA-DIR/node-key``, copied by the operator like
``token-signing-key``) over the node called (its node URL), the method, path, time, a nonce, the viewer
and organisation the calling node already checked, and the body's SHA-256. The receiving node refuses a call
without a signature, with a wrong one, outside ``WINDOW_S`` of its clock, or whose nonce it
has seen (a replay)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import Unauthorized
from .files import secret_in

KEY_FILE = "node-key"
PREFIX = "/node"  # every node-to-node route is under it
WINDOW_S = 30.0  # a call signed further from the receiver's clock is refused (nodes keep NTP time)
TIME, NONCE, VIEWER, ORGANISATION, SIGNATURE = (
    "Bwlive-Node-Time", "Bwlive-Node-Nonce", "Bwlive-Node-Viewer", "Bwlive-Node-Organisation", "Bwlive-Node-Signature")


@dataclass(frozen=True)
class NodeCaller:
    """Who a node call is for: the viewer and organisation the calling node checked."""

    viewer: str
    organisation_id: str


class NodeKey:
    """Signs this node's calls and checks other nodes' (remembering nonces for ``WINDOW_S``)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._seen: dict[str, float] = {}  # nonce -> when it may be forgotten (monotonic)

    @classmethod
    def in_directory(cls, data_dir: Path) -> NodeKey:
        """The data directory's node key, made on first use (copy it to every node)."""
        return cls(secret_in(data_dir / KEY_FILE))

    def _mac(self, node: str, method: str, path: str, stamp: str, nonce: str, who: NodeCaller, body: bytes) -> str:
        text = "\n".join((node.rstrip("/"), method.upper(), path, stamp, nonce, who.viewer, who.organisation_id,
                          hashlib.sha256(body).hexdigest()))
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def sign(self, node: str, method: str, path: str, who: NodeCaller, body: bytes) -> dict[str, str]:
        """The headers of a call to the node at URL ``node``."""
        stamp, nonce = str(int(time.time() * 1000)), secrets.token_urlsafe(16)
        return {TIME: stamp, NONCE: nonce, VIEWER: who.viewer, ORGANISATION: who.organisation_id,
                SIGNATURE: self._mac(node, method, path, stamp, nonce, who, body)}

    def verify(self, node: str, method: str, path: str, headers: Mapping[str, str], body: bytes) -> NodeCaller:
        """Who a call from another node to this one (at URL ``node``) is for;
        ``Unauthorized`` with a sentence if it is unsigned, tampered with, for another
        node, stale or replayed."""
        missing = [name for name in (TIME, NONCE, VIEWER, ORGANISATION, SIGNATURE) if not headers.get(name)]
        if missing:
            raise Unauthorized(f"a node-to-node call needs the headers {', '.join(missing)}: only the nodes of "
                               "this cluster may call it")
        stamp, nonce = headers[TIME], headers[NONCE]
        who = NodeCaller(headers[VIEWER], headers[ORGANISATION])
        if not hmac.compare_digest(self._mac(node, method, path, stamp, nonce, who, body), headers[SIGNATURE]):
            raise Unauthorized("the node signature does not match this call: it was not signed with this "
                               "cluster's node key, or for another node, or it was changed on the way")
        if not stamp.isdigit() or abs(time.time() - int(stamp) / 1000) > WINDOW_S:
            raise Unauthorized(f"this node call is signed more than {WINDOW_S:.0f} s from this node's clock: "
                               "replayed, or a node's clock is wrong")
        now = time.monotonic()
        if len(self._seen) > 4096:  # forget what is past its window
            self._seen = {seen: until for seen, until in self._seen.items() if until > now}
        if self._seen.get(nonce, 0) > now:
            raise Unauthorized("this node call was made once already: a replay is refused")
        self._seen[nonce] = now + 2 * WINDOW_S
        return who
