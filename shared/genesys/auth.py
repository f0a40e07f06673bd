"""Client-credentials OAuth on ``login.<region>``, with the token renewed before it expires.

The SDK does not renew client-credentials tokens on its own; we do, ``renew_margin_s`` early,
and again at once when the platform answers 401.
"""

from __future__ import annotations

import threading
import time

import httpx

from shared.genesys.errors import AuthenticationError, TransportError


class TokenProvider:
    def __init__(self, http: httpx.Client, login_base_url: str, client_id: str, client_secret: str,
                 renew_margin_s: float = 300.0) -> None:
        self._http = http
        self._url = login_base_url.rstrip("/") + "/oauth/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._margin = renew_margin_s
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> None:
        try:
            response = self._http.post(
                self._url,
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret),
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise AuthenticationError(
                f"token request refused with {response.status_code}: check ERASURE_GENESYS_CLIENT_ID/SECRET "
                "and that the OAuth client uses the Client Credentials grant",
                status=response.status_code,
            )
        payload = response.json()
        lifetime = float(payload.get("expires_in", 3600))
        self._token = str(payload["access_token"])
        self._expires_at = time.monotonic() + max(lifetime - self._margin, lifetime / 2)
