"""Everything a Redis holds, as text: every key's name and value whatever its type, for tests that look
for data that must not be there (identifiers, tokens) across the whole server."""

from __future__ import annotations

from collections.abc import Iterator

import redis


def every_value(client: redis.Redis) -> Iterator[tuple[str, str]]:
    """(key, its whole value as text) for every key of the current database."""
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == "string":
            value: object = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = client.smembers(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = client.xrange(key)
        else:
            value = kind
        yield key, f"{key} {value}"


def found_in(client: redis.Redis, needles: list[str]) -> list[tuple[str, str]]:
    """(key, needle) for every needle some key's name or value holds (case-insensitive)."""
    hits: list[tuple[str, str]] = []
    for key, text in every_value(client):
        lowered = text.lower()
        hits += [(key, needle) for needle in needles if needle.lower() in lowered]
    return hits
