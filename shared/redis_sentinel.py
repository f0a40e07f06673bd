"""Which Redis the project talks to: the one at ``redis_url``, or the master the sentinels name.

With ``redis_sentinels`` set, every client of the project (store, effect ledger, audit, limiter, holds,
webhooks) and the Celery broker find the master through Redis Sentinel and find it again after a
failover, so a failover costs the moment it takes, not an operator. Without them, nothing changes:
``get_redis(redis_url)`` and the URL as the broker.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

import redis
from redis.sentinel import Sentinel

from shared.config import Settings
from shared.redis_conn import client_options, get_redis

# Talking to a sentinel is one short question; a sentinel that hangs must not hang the caller.
SENTINEL_TIMEOUT_S = 5.0


def redis_for(settings: Settings) -> redis.Redis:
    """The project's Redis client for ``settings`` (one per process per endpoint, like ``get_redis``)."""
    if not settings.redis_sentinels:
        return get_redis(settings.redis_url)
    return get_sentinel_redis(tuple(settings.sentinel_addresses), settings.redis_sentinel_master, settings.redis_db,
                              settings.redis_password.get_secret_value(),
                              settings.redis_sentinel_password.get_secret_value())


@lru_cache(maxsize=8)
def get_sentinel_redis(sentinels: tuple[tuple[str, int], ...], master: str, db: int = 0, password: str = "",
                       sentinel_password: str = "") -> redis.Redis:
    """A client of the master ``master``: every new connection asks the sentinels where it is, and a
    connection that finds the master gone or demoted (READONLY) is dropped, so the next try reaches the
    new one. Same timeouts and bounded retries as ``get_redis``, which carry the callers over the switch."""
    manager = Sentinel(list(sentinels), sentinel_kwargs=_sentinel_kwargs(sentinel_password))  # type: ignore[no-untyped-call]
    client: redis.Redis = manager.master_for(  # type: ignore[no-untyped-call]
        master,
        db=db,
        password=password or None,
        **client_options(),
    )
    return client


def broker_url(settings: Settings) -> str:
    """Celery's broker: the URL, or kombu's sentinel form ``sentinel://[:password@]host:port/db`` once per
    sentinel, joined by ``;`` (kombu asks them all for the master named in the transport options)."""
    if not settings.redis_sentinels:
        return settings.redis_url
    password = settings.redis_password.get_secret_value()
    auth = f":{quote(password, safe='')}@" if password else ""
    return ";".join(f"sentinel://{auth}{_netloc(host, port)}/{settings.redis_db}"
                    for host, port in settings.sentinel_addresses)


def broker_sentinel_options(settings: Settings) -> dict[str, Any]:
    """What kombu's sentinel transport needs besides the URL (none without sentinels): the master's name,
    and how to talk to the sentinels themselves (their password, timeouts)."""
    if not settings.redis_sentinels:
        return {}
    return {"master_name": settings.redis_sentinel_master,
            "sentinel_kwargs": _sentinel_kwargs(settings.redis_sentinel_password.get_secret_value())}


def _sentinel_kwargs(password: str) -> dict[str, Any]:
    """Connection options for the sentinels (not the master): given explicitly, redis-py uses these alone."""
    kwargs: dict[str, Any] = {"socket_timeout": SENTINEL_TIMEOUT_S, "socket_connect_timeout": SENTINEL_TIMEOUT_S}
    if password:
        kwargs["password"] = password
    return kwargs


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
