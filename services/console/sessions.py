"""A person's console session: a random cookie, the session itself in Redis, expiring unused.

The cookie holds only a random id (256 bits), never the API key; Redis keeps the session under the
SHA-256 of that id (so reading Redis yields no usable cookie) with the signed-in key's id and the CSRF
token, and a TTL renewed by each page. However much it is used, a session ends once it is older than that
TTL counted from sign-in: the cookie's own max-age, enforced here too since a client may keep a cookie
past it. The principal is read again from the key at every request, so
revoking the key, or taking a scope from it, ends what its sessions can do at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from shared.api_keys import ApiKeyStore, Principal
from shared.keys import Keys
from shared.models import utcnow

COOKIE = "erasure_console"


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str  # the token every form of this session carries


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(self, client: redis.Redis, keys: Keys, ttl_s: int) -> None:
        self._r = client
        self._keys = keys
        self._ttl_s = ttl_s

    def start(self, principal: Principal) -> tuple[str, Session]:
        """A new session for ``principal``: the cookie value (shown to the browser only) and the session."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        key = self._keys.console_session(_hash(session_id))
        with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"key_id": principal.key_id, "csrf": csrf, "started_at": utcnow().isoformat()})
            pipe.expire(key, self._ttl_s)
            pipe.execute()
        return session_id, Session(principal, csrf)

    def load(self, session_id: str | None) -> Session | None:
        """The live session of a cookie (its TTL renewed), with its key's principal as it stands now;
        None for no cookie, an unknown or expired one, one signed in longer ago than the TTL (however
        much used since), or a key revoked or no longer a person's."""
        if not session_id or len(session_id) > 100:
            return None
        key = self._keys.console_session(_hash(session_id))
        with self._r.pipeline(transaction=False) as pipe:
            pipe.hgetall(key)
            pipe.expire(key, self._ttl_s)
            stored, _ = pipe.execute()
        if not stored:
            return None
        if self._too_old(str(stored.get("started_at", ""))):
            self._r.delete(key)
            return None
        principal = ApiKeyStore(self._r, self._keys).principal(str(stored["key_id"]))
        if principal is None or not principal.is_person:
            return None
        return Session(principal, str(stored["csrf"]))

    def _too_old(self, started_at: str) -> bool:
        """Whether a session started at ``started_at`` (ISO) is past its absolute lifetime (or unreadable)."""
        try:
            started = datetime.fromisoformat(started_at)
        except ValueError:
            return True
        return utcnow() - started > timedelta(seconds=self._ttl_s)

    def end(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 100:
            self._r.delete(self._keys.console_session(_hash(session_id)))


def tokens_match(expected: str, submitted: str | None) -> bool:
    """Whether a form carried the token it must (compared in constant time)."""
    return bool(expected) and submitted is not None and hmac.compare_digest(submitted.encode(), expected.encode())


def csrf_ok(session: Session, submitted: str | None) -> bool:
    """Whether a form carried its session's CSRF token."""
    return tokens_match(session.csrf, submitted)
