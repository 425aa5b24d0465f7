"""The system key pair (ECDH P-256): generation, storage, thumbprint, link with key.

The public key goes to cameras; the private key only into the link with key that an
admin hands to operators. The server holds the public key alone.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..kernel.files import write_private
from .link import link_with_key, parse_link, protected_link

PRIVATE_FILE = "system-private.pem"
PUBLIC_FILE = "system-public.pem"


def spki_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """Machine key id: the first 16 bytes of SHA-256(SPKI) as lowercase hex."""
    return hashlib.sha256(spki_der(public_key)).digest()[:16].hex()


def thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """Human thumbprint: the key id in upper-case groups of four, e.g. ``3F2A 91C0 ...``."""
    return thumbprint_of(key_id(public_key))


def thumbprint_of(kid: str) -> str:
    """The thumbprint a key id stands for (the key itself is not needed)."""
    kid = kid.upper()
    return " ".join(kid[i : i + 4] for i in range(0, len(kid), 4))


@dataclass(frozen=True)
class SystemPublicKey:
    """The public half, as cameras and the server know it."""

    key: ec.EllipticCurvePublicKey

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    @property
    def thumbprint(self) -> str:
        return thumbprint(self.key)

    def pem(self) -> bytes:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_pem(cls, data: bytes) -> SystemPublicKey:
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("the system public key must be an EC P-256 key")
        return cls(key)

    @classmethod
    def load(cls, keys_dir: Path) -> SystemPublicKey:
        path = Path(keys_dir) / PUBLIC_FILE
        try:
            return cls.from_pem(path.read_bytes())
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no system public key at {path}: run 'bwlive system keys generate' first"
            ) from None


@dataclass(frozen=True)
class SystemKeyPair:
    """Both halves; exists only in the CLI that generates it and in tests."""

    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SystemKeyPair:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public(self) -> SystemPublicKey:
        return SystemPublicKey(self.private_key.public_key())

    def pkcs8_der(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def link(self, base_url: str, signing_key: bytes | None = None) -> str:
        """The link with key: the private key travels in the fragment, never to a server,
        with the system's raw signing public key (without: a link of before, whose
        streams a browser cannot verify)."""
        return link_with_key(base_url, self.pkcs8_der(), signing_key)

    def protected_link(self, base_url: str, passphrase: str, signing_key: bytes | None = None) -> str:
        """The password-protected link with key (PROTOCOL §1, ``#pkey=``), binding the signing key."""
        return protected_link(base_url, self.pkcs8_der(), passphrase, signing_key)

    @classmethod
    def from_link(cls, link: str, passphrase: str | None = None) -> SystemKeyPair:
        """The pair in a link with key; a password-protected link needs its passphrase."""
        return cls.from_pkcs8(parse_link(link).open(passphrase))

    @classmethod
    def from_pkcs8(cls, der: bytes) -> SystemKeyPair:
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the system private key must be an EC P-256 key")
        return cls(key)

    def save(self, keys_dir: Path) -> None:
        """Write both halves; the private file is created readable by its owner only."""
        keys_dir = Path(keys_dir)
        keys_dir.mkdir(parents=True, exist_ok=True)
        private_path = keys_dir / PRIVATE_FILE
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_private(private_path, pem)
        (keys_dir / PUBLIC_FILE).write_bytes(self.public.pem())

    @classmethod
    def load(cls, keys_dir: Path) -> SystemKeyPair:
        data = (Path(keys_dir) / PRIVATE_FILE).read_bytes()
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the system private key must be an EC P-256 key")
        return cls(key)
