"""The system signing key (Ed25519), beside the system's encryption key pair in its keys
directory: the private half certifies cameras at docking and never leaves the system;
the public half goes to the server (database) and into links with key (PROTOCOL §1, §5).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..kernel.files import write_private
from .b64 import b64url_decode, b64url_encode
from .signing import SignatureError, public_from_raw, raw_public, signing_key_id
from .system_key import thumbprint_of

SIGNING_FILE = "system-signing.pem"
SIGNING_PUBLIC_FILE = "system-signing-public.pem"


@dataclass(frozen=True)
class SigningPublicKey:
    """The public half, as the server, links and browsers know it."""

    key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        return raw_public(self.key)

    @property
    def key_id(self) -> str:
        return signing_key_id(self.key)

    @property
    def thumbprint(self) -> str:
        return thumbprint_of(self.key_id)

    def b64u(self) -> str:
        return b64url_encode(self.raw)

    @classmethod
    def from_b64u(cls, text: str) -> SigningPublicKey:
        """From b64u of the raw 32 bytes (database, links, the join request)."""
        try:
            raw = b64url_decode(text)
        except ValueError:
            raise SignatureError("the signing key is not base64url") from None
        if len(raw) != 32:
            raise SignatureError("the signing key is not an Ed25519 public key (32 bytes)")
        return cls(public_from_raw(raw))

    @classmethod
    def load(cls, keys_dir: Path) -> SigningPublicKey:
        path = Path(keys_dir) / SIGNING_PUBLIC_FILE
        try:
            return cls.from_pem(path.read_bytes(), str(path))
        except FileNotFoundError:
            raise FileNotFoundError(f"no system signing key at {path}: run "
                                    "'bwlive system keys generate --signing-only' on the system host") from None

    @classmethod
    def from_pem(cls, data: bytes, name: str = "the key") -> SigningPublicKey:
        """From a PEM public key file (``system-signing-public.pem``); ValueError if it is none."""
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            raise ValueError(f"{name} is not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{name} is not an Ed25519 public key")
        return cls(key)

    def pem(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def find(cls, keys_dir: Path) -> SigningPublicKey | None:
        """The keys directory's signing public key, None when it has none (yet)."""
        return cls.load(keys_dir) if (Path(keys_dir) / SIGNING_PUBLIC_FILE).exists() else None


@dataclass(frozen=True)
class SigningKeyPair:
    """Both halves; loaded by the system's docking and key commands only, never the server."""

    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKeyPair:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public(self) -> SigningPublicKey:
        return SigningPublicKey(self.private_key.public_key())

    def save(self, keys_dir: Path) -> None:
        """Write both halves; the private file is created readable by its owner only."""
        keys_dir = Path(keys_dir)
        keys_dir.mkdir(parents=True, exist_ok=True)
        write_private(keys_dir / SIGNING_FILE, self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (keys_dir / SIGNING_PUBLIC_FILE).write_bytes(self.public.pem())

    @classmethod
    def load(cls, keys_dir: Path) -> SigningKeyPair:
        path = Path(keys_dir) / SIGNING_FILE
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise FileNotFoundError(f"no system signing key at {path}: dock cameras on the system host, where "
                                    "'bwlive system keys generate' made it") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key)
