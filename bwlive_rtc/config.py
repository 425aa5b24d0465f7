"""Server settings with embedded defaults (SQLite and local disk under ./bwlive-data)."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("bwlive-data")
DEFAULT_KEYS_DIR = Path("keys")


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = DEFAULT_DATA_DIR
    keys_dir: Path = DEFAULT_KEYS_DIR
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls: bool | None = None  # None: on unless the host is loopback (browsers need HTTPS)
    consumer_timeout: float = 15.0

    @property
    def database_path(self) -> Path:
        return self.data_dir / "bwlive.sqlite"

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
