"""Client-credentials OAuth on ``login.<region>``, one token shared by every worker.

The platform's rate limit is per token, so every process of every pool must use the same one:
the token is cached in Redis (when a Redis client is given), sealed with AES-GCM (``token_seal``: never
in clear there), and fetched by one process at a time.
It is renewed ``renew_margin_s`` before expiry, and at once when the platform answers 401.
The SDK does not renew client-credentials tokens on its own; we do.
"""

from __future__ import annotations

import hashlib
import threading
import time

import httpx
import redis

from shared.genesys.errors import AuthenticationError, TransportError
from shared.genesys.token_seal import seal, unseal


class TokenProvider:
    def __init__(self, http: httpx.Client, login_base_url: str, client_id: str, client_secret: str,
                 renew_margin_s: float = 300.0, cache: redis.Redis | None = None, cache_prefix: str = "erasure",
                 cache_key: bytes | None = None) -> None:
        if cache is not None and (cache_key is None or len(cache_key) != 32):
            raise ValueError("a token shared through Redis is sealed: give a 32-byte cache_key (token_cache_key)")
        self._http = http
        self._url = login_base_url.rstrip("/") + "/oauth/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._margin = renew_margin_s
        self._token: str | None = None
        self._expires_at = 0.0  # wall clock, comparable across processes
        self._lock = threading.Lock()
        self._cache = cache
        self._seal_key = cache_key or b""
        digest = hashlib.sha256(f"{login_base_url}|{client_id}".encode()).hexdigest()[:16]
        self._cache_key = "{" + cache_prefix + "}:oauth:" + digest

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.time() >= self._expires_at:
                self._token, self._expires_at = self._shared_or_fetch()
            return self._token

    def invalidate(self, rejected: str | None = None) -> None:
        """Forget the token the platform refused (and only that one, if another process renewed it)."""
        with self._lock:
            if rejected is None or rejected == self._token:
                self._token = None
            if self._cache is not None:
                cached = self._read_cache()
                if cached is not None and (rejected is None or cached[0] == rejected):
                    self._cache.delete(self._cache_key)

    def _read_cache(self) -> tuple[str, float] | None:
        assert self._cache is not None
        raw = self._cache.get(self._cache_key)
        if raw is None:
            return None
        text = unseal(self._seal_key, raw.decode() if isinstance(raw, bytes) else str(raw), self._cache_key)
        if text is None:
            return None  # sealed with another key (rotated), or not by us: fetch a new one
        token, _, expires = text.rpartition("|")
        return token, float(expires)

    def _shared_or_fetch(self) -> tuple[str, float]:
        if self._cache is None:
            return self._fetch()
        cached = self._read_cache()
        if cached is not None and time.time() < cached[1]:
            return cached
        # One process fetches; the others wait briefly for its result instead of stampeding.
        with self._cache.lock(self._cache_key + ":lock", timeout=30, blocking_timeout=30):
            cached = self._read_cache()
            if cached is not None and time.time() < cached[1]:
                return cached
            token, expires_at = self._fetch()
            ttl_ms = max(1000, int((expires_at - time.time()) * 1000))
            self._cache.set(self._cache_key, seal(self._seal_key, f"{token}|{expires_at}", self._cache_key), px=ttl_ms)
            return token, expires_at

    def _fetch(self) -> tuple[str, float]:
        try:
            response = self._http.post(
                self._url,
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret),
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code == 404:
            # An API host (api.<region>) has no token endpoint: the login host is wrong, not the secret.
            raise AuthenticationError(
                f"no token endpoint at {self._url}: the token comes from the login host (login.<region>); "
                "with ERASURE_GENESYS_BASE_URL on a host not named api.*, set ERASURE_GENESYS_LOGIN_URL",
                status=404,
            )
        if response.status_code != 200:
            raise AuthenticationError(
                f"token request refused with {response.status_code}: check ERASURE_GENESYS_CLIENT_ID/SECRET "
                "and that the OAuth client uses the Client Credentials grant",
                status=response.status_code,
            )
        payload = response.json()
        lifetime = float(payload.get("expires_in", 3600))
        return str(payload["access_token"]), time.time() + max(lifetime - self._margin, lifetime / 2)
