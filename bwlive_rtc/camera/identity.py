"""The camera's own device key (Ed25519): made once, on the camera, kept beside its dock
file and never sent anywhere; docking certifies its public half, and the camera signs
every publish with it (docs/PROTOCOL.md §5)."""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..kernel.files import write_private


def device_key_path(dock_file: Path) -> Path:
    """Where the camera keeps its device key: ``camera.json`` → ``camera.device-key.pem``."""
    return dock_file.with_name(f"{dock_file.stem}.device-key.pem")


def load_device_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise FileNotFoundError(f"no device key at {path}: dock the camera with `bwlive camera dock`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def device_key(path: Path) -> Ed25519PrivateKey:
    """The camera's device key at ``path``, made there (0600) the first time."""
    if path.exists():
        return load_device_key(path)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return key
