"""Regenerate tests/link_vectors.json: ``python tests/make_link_vectors.py``.

Links with key as PROTOCOL §1 defines them, from fixed keys, salt and IV, so any reader
(Python's ``crypto/link.py``, the browser's ``web/link-key.js``) can check exact bytes:
the link with key and signing key, the password-protected v2 link binding the signing key
(AES-GCM AAD), the same blob with another signing key swapped in (must not open), and the
links of before (no signing key), which stay readable.
"""
from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.crypto.b64 import b64url_decode, b64url_encode
from bwlive_rtc.crypto.link import protected_link
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningPublicKey

OUT = Path(__file__).with_name("link_vectors.json")
BASE = "http://127.0.0.1:8080"
PASSPHRASE = "correct horse battery staple ✓"
SALT, IV = bytes(range(100, 116)), bytes(range(200, 212))


def build() -> dict[str, object]:
    system = SystemKeyPair(ec.derive_private_key(0x5EED_0001_BEEF, ec.SECP256R1()))
    signing = SigningPublicKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key())
    other = SigningPublicKey(Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))).public_key())
    pkcs8 = system.pkcs8_der()
    protected = protected_link(BASE, pkcs8, PASSPHRASE, signing.raw, salt=SALT, iv=IV)
    blob = json.loads(b64url_decode(protected.split("#pkey=")[1]))
    swapped = {**blob, "sig": other.b64u()}
    return {
        "link_base": BASE,
        "pkcs8": b64url_encode(pkcs8),
        "key_id": system.public.key_id,
        "signing_key": signing.b64u(),
        "signing_key_id": signing.key_id,
        "signing_thumbprint": signing.thumbprint,
        "passphrase": PASSPHRASE,
        "salt": b64url_encode(SALT),
        "iv": b64url_encode(IV),
        "link": system.link(BASE, signing.raw),
        "protected_link": protected,
        "swapped_signing_key_link": f"{BASE}/#pkey={b64url_encode(json.dumps(swapped, separators=(',', ':')).encode())}",
        "v1_link": system.link(BASE),
        "v1_protected_link": protected_link(BASE, pkcs8, PASSPHRASE, salt=SALT, iv=IV),
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")
