"""Redis connections: one client per process per URL, with timeouts that fail fast and retries that ride
out a Redis restart.

A restart (a crash, a deploy, a failover) refuses connections for a few seconds and then answers
``LOADING`` while it reads its AOF. Every command of the store, the audit log, the ledger and the rate
limiter goes through this client, so the client retries connection errors and timeouts with exponential
backoff (``RETRY_WAITS_S`` between attempts, about 15 s in all) instead of failing the task on the first
blip; past that the error is raised and the task's own retry takes over. A command whose reply was lost
may run twice, as it already could with redis-py's default retries: the store's writes are WATCH
transactions that re-read on a retry, the audit log's append script marks each entry it wrote and answers
"written" when run again for it (``shared.audit``), the rest are idempotent writes or the limiter's token
count.

A refused password is not an outage: redis-py raises it as a ``ConnectionError`` (``AuthenticationError``),
which a plain ``Retry`` would retry for minutes. ``retry_policy`` raises it at once, so a wrong
``ERASURE_REDIS_PASSWORD`` fails the process fast (``shared.redis_sentinel.check_credentials``) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

#: Attempts after the first one, and the backoff between them: 0.5, 1, 2, 4, 4, 4 s.
RETRIES = 6
BACKOFF = ExponentialBackoff(cap=4.0, base=0.25)
#: Seconds a client waits between attempts before it gives up (plus up to ``CONNECT_TIMEOUT_S`` per
#: attempt where the host does not answer at all).
RETRY_WAITS_S = tuple(BACKOFF.compute(failure) for failure in range(1, RETRIES + 1))
CONNECT_TIMEOUT_S = 5.0
SOCKET_TIMEOUT_S = 10.0


T = TypeVar("T")


def is_auth_error(exc: BaseException) -> bool:
    """Redis refused the credentials (WRONGPASS, NOAUTH, a disabled ACL user): retrying cannot help."""
    if isinstance(exc, redis.exceptions.AuthenticationError | redis.exceptions.AuthenticationWrongNumberOfArgsError):
        return True
    return isinstance(exc, redis.exceptions.ResponseError) and str(exc).startswith(("NOAUTH", "WRONGPASS"))


class _OutageRetry(Retry):
    """redis-py's retry for outages, minus refused credentials (a subclass of ``ConnectionError``)."""

    def call_with_retry(self, do: Callable[[], T], fail: Callable[..., Any],
                        is_retryable: Callable[[Exception], bool] | None = None,
                        with_failure_count: bool = False) -> T:
        def retryable(exc: Exception) -> bool:
            return not is_auth_error(exc) and (is_retryable is None or is_retryable(exc))

        return super().call_with_retry(do, fail, retryable, with_failure_count)


def retry_policy() -> Retry:
    """redis-py's retry on ``ConnectionError`` (``BusyLoadingError`` is one), ``TimeoutError`` and socket
    timeouts, with this module's bounded backoff; never on refused credentials."""
    return _OutageRetry(BACKOFF, RETRIES)


@dataclass(frozen=True)
class Access:
    """How to reach one Redis besides its address: ACL user and password (where the URL has none), and TLS
    (checked against ``ca_file``, or the system's CAs)."""

    username: str = ""
    password: str = field(default="", repr=False)  # never in a repr, a traceback's locals or a log line
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def url_options(self, url: str) -> dict[str, Any]:
        """redis-py's connection arguments for ``url`` (its own user and password win over these); the TLS
        files only for ``rediss://``, the one scheme whose connections take them."""
        options: dict[str, Any] = {}
        if self.username:
            options["username"] = self.username
        if self.password:
            options["password"] = self.password
        if url.startswith("rediss://"):
            options.update(self.tls_options())
        return options

    def tls_options(self) -> dict[str, Any]:
        """The server's certificate is always checked (``required``); hostname too, by redis-py's default."""
        options: dict[str, Any] = {"ssl_cert_reqs": "required"}
        if self.ca_file:
            options["ssl_ca_certs"] = self.ca_file
        if self.cert_file:
            options["ssl_certfile"] = self.cert_file
        if self.key_file:
            options["ssl_keyfile"] = self.key_file
        return options


#: No credentials, no TLS files: a URL that carries all it needs.
NO_ACCESS = Access()


def client_options() -> dict[str, Any]:
    """What every client of the project's Redis uses, by URL or through the sentinels: text replies,
    timeouts that fail fast, keepalive, and this module's bounded retries."""
    return {"decode_responses": True, "socket_timeout": SOCKET_TIMEOUT_S,
            "socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_keepalive": True,
            "health_check_interval": 30, "retry": retry_policy()}


def get_redis(url: str, access: Access = NO_ACCESS) -> redis.Redis:
    """The process's client of ``url`` (``rediss://`` for TLS), with ``access``'s credentials and TLS files."""
    return _client(url, access)


@lru_cache(maxsize=8)
def _client(url: str, access: Access) -> redis.Redis:
    return redis.Redis.from_url(url, **client_options(), **access.url_options(url))
