"""The access token as it is shared through Redis: sealed with AES-256-GCM, never in clear.

Every process of every pool must use one token (the platform's rate limit is per token), so the token
is shared through Redis rather than held per process. Whoever reads Redis (a replica, a backup, a dump,
an operator with ``GET``) would otherwise hold a live bearer credential for the whole Genesys org for up
to its lifetime. Sealed, Redis holds ciphertext; the key is derived (HKDF, with a label of its own) from
``ERASURE_HMAC_KEY``, which every process already has and Redis never holds. The trade-off: a process
that can read the environment can still unseal it (as it could fetch a token itself with the client
secret), and rotating ``ERASURE_HMAC_KEY`` only costs one token fetch (an unreadable value is a miss).
Not sharing it at all would have cost one token per process and split the rate budget per token.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Domain separation: this key is for the token cache only, whatever else ``ERASURE_HMAC_KEY`` keys.
_LABEL = b"genesys-erasure/oauth-token-cache/v1"
_PREFIX = "v1:"
_NONCE_BYTES = 12


def token_cache_key(secret: bytes) -> bytes:
    """The 256-bit AES key of the token cache, derived from a process secret (``ERASURE_HMAC_KEY``)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(secret)


def seal(key: bytes, value: str, context: str) -> str:
    """``value`` encrypted and authenticated; ``context`` (the Redis key) binds it to where it is stored."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), context.encode())
    return _PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes, stored: str, context: str) -> str | None:
    """The value ``seal`` sealed, or None when it cannot be (another key, edited, moved, not sealed)."""
    if not stored.startswith(_PREFIX):
        return None
    try:
        raw = base64.b64decode(stored[len(_PREFIX):], validate=True)
        return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, ValueError, binascii.Error):
        return None
