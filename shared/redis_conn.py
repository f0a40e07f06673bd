"""Redis connections: one client per process per URL, with timeouts that fail fast and retries that ride
out a Redis restart.

A restart (a crash, a deploy, a failover) refuses connections for a few seconds and then answers
``LOADING`` while it reads its AOF. Every command of the store, the audit log, the ledger and the rate
limiter goes through this client, so the client retries connection errors and timeouts with exponential
backoff (``RETRY_WAITS_S`` between attempts, about 15 s in all) instead of failing the task on the first
blip; past that the error is raised and the task's own retry takes over. A command whose reply was lost
may run twice, as it already could with redis-py's default retries: the store's and the audit log's
writes are WATCH transactions that re-read on a retry, the rest are idempotent writes or the limiter's
token count.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

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


def retry_policy() -> Retry:
    """redis-py's retry on ``ConnectionError`` (``BusyLoadingError`` is one), ``TimeoutError`` and socket
    timeouts, with this module's bounded backoff."""
    return Retry(BACKOFF, RETRIES)


def client_options() -> dict[str, Any]:
    """What every client of the project's Redis uses, by URL or through the sentinels: text replies,
    timeouts that fail fast, keepalive, and this module's bounded retries."""
    return {"decode_responses": True, "socket_timeout": SOCKET_TIMEOUT_S,
            "socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_keepalive": True,
            "health_check_interval": 30, "retry": retry_policy()}


@lru_cache(maxsize=8)
def get_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, **client_options())
