"""What front and workers agree on: the worker's settings (handed over on its stdin, never
on its command line: a database URL may hold a password), the request bodies, the events,
and the errors that cross back as the kernel's."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import StrictBool, StrictStr

from ..kernel.config import Settings
from ..kernel.errors import BadRequest, Conflict, NotFound, ServerFault, Unavailable
from ..kernel.requests import RequestModel
from ..sfu.port import ConsumerPort

READY = "ready"  # the worker's first line on stdout, once its socket listens
STATUS_INTERVAL_S = 0.25  # how often a worker reports its streams' media arrival
EVENTS_PATH = "/events"

# events a worker sends on its event socket
PRODUCER_REMOVED, CONSUMER_REMOVED, STATUS = "producer_removed", "consumer_removed", "status"

ERRORS: dict[int, type[Exception]] = {400: BadRequest, 404: NotFound, 409: Conflict, 503: Unavailable}


class Publish(RequestModel):
    offer: StrictStr
    camera: StrictStr
    key_envelope: dict[str, Any]
    organisation_ids: list[StrictStr]
    manifest: StrictStr | None = None


class Offer(RequestModel):
    offer: StrictStr


class Subscribe(RequestModel):
    offer: StrictStr
    viewer: StrictStr | None = None


class Keepalive(RequestModel):
    decrypting: StrictBool | None = None
    touch: StrictBool = True


def keep_alive(consumer: ConsumerPort, asked: Keepalive) -> None:
    """A viewer's keepalive, and whether it decrypts, where its subscription is held."""
    if asked.decrypting is not None:
        consumer.decrypting = asked.decrypting
    if asked.touch:
        consumer.touch()


class Reachable(RequestModel):
    seconds: float


class Data(RequestModel):
    message: StrictStr
    binary: StrictBool = False  # message is hex of the bytes


class DropViewer(RequestModel):
    viewer: StrictStr
    organisation_id: StrictStr


class Close(RequestModel):
    within: float = 3.0


def error_of(status: int, body: str) -> Exception:
    """The kernel error a worker's refusal stands for (its sentence kept)."""
    try:
        sentence = str(json.loads(body).get("error", body))
    except (ValueError, AttributeError):
        sentence = body
    return ERRORS.get(status, ServerFault)(sentence)


def port_share(ports: tuple[int, int] | None, index: int, count: int) -> tuple[int, int] | None:
    """Worker ``index``'s part of the ``--media-ports`` range (None: any port)."""
    if ports is None:
        return None
    low, high = ports
    size = (high - low + 1) // count
    if size < 1:
        raise ValueError(f"--media-ports {low}-{high} has fewer ports than the {count} media workers: "
                         "widen the range or run fewer workers")
    return low + index * size, low + (index + 1) * size - 1


def worker_settings(settings: Settings, index: int, count: int, socket: Path) -> dict[str, Any]:
    """What worker ``index`` of ``count`` needs of the server's settings."""
    share = port_share(settings.media_ports, index, count)
    return {
        "index": index, "socket": str(socket), "log_level": logging.getLogger().getEffectiveLevel(),
        "data_dir": str(settings.data_dir), "database_url": settings.database_url,
        "recordings_dir": None if settings.recordings_dir is None else str(settings.recordings_dir),
        "recordings_storage": settings.recordings_storage, "s3_bucket": settings.s3_bucket,
        "s3_prefix": settings.s3_prefix, "s3_endpoint_url": settings.s3_endpoint_url, "s3_region": settings.s3_region,
        "consumer_timeout": settings.consumer_timeout,
        "media_ports": list(share) if share else None, "announce_address": settings.announce_address,
    }


def settings_of(config: dict[str, Any]) -> Settings:
    """The worker's Settings from what ``worker_settings`` handed over."""
    ports = config["media_ports"]
    return Settings(
        data_dir=Path(config["data_dir"]), database_url=config["database_url"],
        recordings_dir=None if config["recordings_dir"] is None else Path(config["recordings_dir"]),
        recordings_storage=config["recordings_storage"], s3_bucket=config["s3_bucket"],
        s3_prefix=config["s3_prefix"], s3_endpoint_url=config["s3_endpoint_url"], s3_region=config["s3_region"],
        consumer_timeout=config["consumer_timeout"],
        media_ports=(ports[0], ports[1]) if ports else None, announce_address=config["announce_address"],
    )
