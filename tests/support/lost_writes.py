"""Test setup: a Redis that lost its last writes, as one killed with ``appendfsync everysec`` does.

Such a Redis comes back with a *prefix* of what it acknowledged: everything written after some moment is
gone, everything before it is there. ``snapshot`` is that moment; ``restore`` is the restart. Values only
(no TTLs): enough for a store on fakeredis.
"""

from __future__ import annotations

from typing import Any

import redis

Snapshot = dict[str, tuple[str, Any]]


def snapshot(client: redis.Redis) -> Snapshot:
    """Every key's type and value now (a client with ``decode_responses=True``)."""
    readers = {
        "string": client.get,
        "hash": client.hgetall,
        "list": lambda key: client.lrange(key, 0, -1),
        "set": client.smembers,
        "zset": lambda key: client.zrange(key, 0, -1, withscores=True),
    }
    return {key: (kind, readers[kind](key)) for key in client.keys("*") for kind in [client.type(key)]}


def restore(client: redis.Redis, saved: Snapshot) -> None:
    """Put the store back as it was at ``saved``: later writes are lost, earlier ones kept."""
    client.flushall()
    for key, (kind, value) in saved.items():
        if kind == "string":
            client.set(key, value)
        elif kind == "hash":
            client.hset(key, mapping=value)
        elif kind == "list":
            client.rpush(key, *value)
        elif kind == "set":
            client.sadd(key, *value)
        elif kind == "zset":
            client.zadd(key, dict(value))
