"""Server settings with embedded defaults (SQLite and local disk under ./bwlive-data)."""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_DATA_DIR = Path("bwlive-data")
DEFAULT_KEYS_DIR = Path("keys")
DATABASE_VARIABLE = "BWLIVE_DATABASE"  # the default database URL of every command (docs/DEPLOYMENT.md)


BUS_VARIABLE = "BWLIVE_BUS"  # the default node bus of `serve` (docs/DEPLOYMENT.md, "A cluster")


def _database_from_environment() -> str:
    return os.environ.get(DATABASE_VARIABLE, "")


def _bus_from_environment() -> str:
    return os.environ.get(BUS_VARIABLE, "")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = DEFAULT_DATA_DIR
    keys_dir: Path = DEFAULT_KEYS_DIR
    # The metadata database: a postgresql://… (or sqlite:///…) URL; empty: the SQLite file
    # in the data directory. Default: $BWLIVE_DATABASE.
    database_url: str = field(default_factory=_database_from_environment)
    # The bus between the nodes of a cluster (redis://…; kernel/bus.py); empty: one server
    # alone. Default: $BWLIVE_BUS.
    bus_url: str = field(default_factory=_bus_from_environment)
    # Where the other nodes of a cluster reach this one (a viewer's session handed over,
    # kernel/node_calls.py); empty: this server's own URL once it listens.
    node_url: str = ""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls: bool | None = None  # None: on unless the host is loopback (browsers need HTTPS)
    consumer_timeout: float = 15.0
    workers: int = 0  # media worker processes running the SFU; 0: the SFU in the server's own process
    clock_tolerance_s: float = 10.0  # how far a browser's (or camera's) clock may be off the server's
    license_issuer_key: Path | None = None  # Ed25519 public key (PEM) that signs license files
    # Reverse proxies whose X-Forwarded-Proto/For are believed (kernel/proxy.py); nobody else's.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # SOC receivers on loopback, private, link-local, … addresses (integrations/targets.py).
    allow_private_integration_targets: bool = False

    @property
    def license_issuer_key_path(self) -> Path | None:
        """The configured issuer key, else ``keys/license-issuer-public.pem`` if present."""
        if self.license_issuer_key is not None:
            return self.license_issuer_key
        default = self.keys_dir / "license-issuer-public.pem"
        return default if default.exists() else None
    recordings_dir: Path | None = None  # evidence on local disk; None: <data_dir>/recordings
    recordings_storage: str = "local"  # "local" or "s3"
    retention_hours: float = 24.0  # recordings are purged this long after they end
    purge_interval: float = 60.0  # seconds between retention checks
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None  # an S3-compatible server (MinIO, …); None: AWS
    s3_region: str | None = None
    # The map's base layer: an OpenStreetMap-style {z}/{x}/{y} URL template; empty: an
    # offline grid. See docs/CONSOLE.md.
    tile_url: str = ""
    tile_attribution: str = ""
    # Deployable networking (docs/DEPLOYMENT.md): the UDP ports of every media socket
    # (None: any), the address put in the server's ICE candidates (1:1 NAT, a cloud VM;
    # None: its own), and the STUN/TURN servers handed to cameras and browsers (WHIP/WHEP
    # Link headers), TURN ones with time-limited credentials from the shared secret.
    media_ports: tuple[int, int] | None = None
    announce_address: str | None = None
    ice_servers: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_credential_ttl_s: float = 24 * 3600.0  # a shift: TURN refreshes need a valid credential

    @property
    def former_signing_key_path(self) -> Path:
        """Where the server used to keep the system's signing key (before issue 11): a key
        there is one the server held, and is no longer used (``serve`` says to delete it)."""
        return self.data_dir / "system-signing-key.pem"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bwlive.sqlite"

    @property
    def database(self) -> str | Path:
        """Where the metadata is: ``database_url``, else the data directory's SQLite file."""
        return self.database_url or self.database_path

    @property
    def recordings_path(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def recordings_spool(self) -> Path:
        """Segments being written, and written ones not yet stored (local disk always)."""
        return self.data_dir / "recording-spool"

    @property
    def use_tls(self) -> bool:
        if self.tls is not None:
            return self.tls
        if self.tls_cert:
            return True
        try:
            return not ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host != "localhost"

    def base_url(self, port: int | None = None) -> str:
        scheme = "https" if self.use_tls else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"{scheme}://{host}:{port or self.port}"
