"""Ed25519 signatures for what outlives Redis: certificates and audit checkpoints.

Why Ed25519 and not the HMAC key: a regulator, an auditor or the data subject must be able to check a
certificate holding only a *public* key, with no access to Redis, the platform or any secret. Whoever can
write to Redis cannot forge one either: the private key comes from the environment
(``ERASURE_SIGNING_KEY``, a PEM) or a mounted file (``ERASURE_SIGNING_KEY_FILE``) and is never stored there.

What is signed is the canonical JSON of a document (``canonical``: sorted keys, no whitespace, UTF-8)
without its ``signature`` field, so a verifier recomputes the same bytes from the file it holds.
The key id is a short digest of the public key: a verifier can tell which key to use, and a rotated key
gets a new id.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: Prefix of every key id: says which algorithm the id and signature belong to.
ALGORITHM = "ed25519"


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: ``document`` as canonical JSON, its ``signature`` field left out."""
    body = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise ValueError(f"duplicate key {name!r}")
        document[name] = value
    return document


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses an object with a key twice (``ValueError``). Why: ``json.loads`` keeps
    the last value and other tools the first, so a signed document with ``"outcome"`` twice would verify
    here while a reader elsewhere sees the other value. Every verifier of a signed document reads with this."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def key_id(public_key: Ed25519PublicKey) -> str:
    """``ed25519:<16 hex>``: the first 64 bits of SHA-256 over the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{ALGORITHM}:{hashlib.sha256(raw).hexdigest()[:16]}"


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ``ValueError`` with a one-line reason for anything else."""
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def generate_private_pem() -> str:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM (``erasure keys generate``, the demo)."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


@dataclass(frozen=True)
class Signer:
    """The deployment's signing key. Its ``repr`` shows the key id only."""

    private_key: Ed25519PrivateKey

    @classmethod
    def from_pem(cls, pem: str | bytes, source: str) -> Signer:
        """``source`` names where the PEM came from (a variable or a file), for the ``ValueError`` only
        (never the PEM itself)."""
        try:
            key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{source} is not an unencrypted PEM private key (erasure keys generate "
                             "makes one)") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{source} must be an Ed25519 private key (erasure keys generate makes one)")
        return cls(key)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def public_pem(self) -> str:
        return public_pem(self.public_key)

    def sign(self, document: Mapping[str, Any]) -> str:
        """Base64url signature of ``canonical(document)``."""
        return base64.urlsafe_b64encode(self.private_key.sign(canonical(document))).decode()

    def __repr__(self) -> str:
        return f"Signer({self.key_id})"


def signature_valid(public_key: Ed25519PublicKey, document: Mapping[str, Any], signature: str) -> bool:
    """Whether ``signature`` (base64url) is ``public_key``'s over ``canonical(document)``."""
    try:
        public_key.verify(base64.urlsafe_b64decode(signature.encode()), canonical(document))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
