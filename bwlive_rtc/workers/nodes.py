"""The other nodes of a cluster, as a front sees its media workers: a viewer of a stream
another node holds is handed to that node with the worker wire (``wire.py``, under
``/node`` at the node URL its directory entry announces), each call signed for the viewer
and organisation this node checked (``kernel/node_calls.py``). The holder answers with its
own ICE candidates: media flows between the browser and the holder."""
from __future__ import annotations

import logging
from typing import Any

import aiohttp

from ..kernel.errors import NotFound, Unavailable
from ..kernel.node_calls import PREFIX, NodeCaller, NodeKey
from ..sfu.router import UnknownStream
from . import wire
from .link import Link
from .remote import RemoteStream

log = logging.getLogger(__name__)
CALL_TIMEOUT_S = 15.0  # an SDP answer may take the holder a few seconds (ICE gathering) on a loaded machine


class NodeLink(Link):
    """Calls to the node at ``url``, signed for ``who``."""

    def __init__(self, session: aiohttp.ClientSession, key: NodeKey, url: str, who: NodeCaller) -> None:
        super().__init__()
        self.session, self.key, self.url, self.who = session, key, url.rstrip("/"), who
        self.name = "the node holding this stream"  # its URL is the cluster's, never told to browsers

    def _url(self, path: str) -> str:
        return self.url + PREFIX + path

    def _headers(self, method: str, path: str, data: bytes) -> dict[str, str]:
        return self.key.sign(self.url, method, PREFIX + path, self.who, data)

    def _refusal(self, status: int, text: str) -> Exception:
        if status in (401, 403):  # not the viewer's fault: the nodes do not trust each other
            log.error("the node at %s refused this node's call: %s (every node needs the same DATA-DIR/node-key)",
                      self.url, wire.error_of(status, text))
            return Unavailable(f"{self.name} refused this node's call: the nodes of this cluster do not hold the "
                               "same node key (DATA-DIR/node-key); tell the administrator")
        return super()._refusal(status, text)

    def _unreachable(self) -> Exception:  # a node that died: its stream leaves the list within seconds
        log.warning("the node at %s does not answer", self.url)
        return NotFound("the node holding this stream does not answer: the stream has ended with it "
                        "(its camera will publish again, as a new stream)")


class OtherNodes:
    """This node's links to the nodes holding the streams it does not."""

    def __init__(self, key: NodeKey, node: str) -> None:
        self.key, self.node = key, node
        self._session: aiohttp.ClientSession | None = None

    def stream(self, entry: dict[str, Any], who: NodeCaller) -> RemoteStream:
        """The stream of directory ``entry``, held by another node, for ``who``."""
        if entry.get("node") == self.node or not entry.get("node_url"):
            raise UnknownStream(f"no live stream with id {entry['id']!r}")  # it ended here meanwhile
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT_S))
        return RemoteStream(NodeLink(self._session, self.key, str(entry["node_url"]), who), entry)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

