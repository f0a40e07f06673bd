"""Redis connections: one client per process per URL, with timeouts that fail fast."""

from __future__ import annotations

from functools import lru_cache

import redis


@lru_cache(maxsize=8)
def get_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=30,
        retry_on_timeout=True,
    )
