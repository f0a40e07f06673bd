"""Leases on scarce slots that are not rates, e.g. at most 2 recording jobs per organisation.

A counter with INCR/DECR leaks a slot whenever a holder dies; a lease expires instead.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import cast

import redis

from . import keys, metrics
from .errors import LimiterUnavailable


class LeasePool:
    """Named semaphores with expiring leases, kept in Redis for one OAuth client / organisation.

    Holders renew before ``ttl_s`` runs out; a killed holder's lease is reclaimed by the next
    call once its expiry (on Redis's clock) has passed.
    """

    def __init__(self, redis: redis.Redis, key: str) -> None:
        self._key = key
        self._redis = redis
        keys.base(key)  # validate early
        self._script = keys.load_script(redis, "lease.lua")

    def try_acquire(self, name: str, limit: int, ttl_s: float) -> str | None:
        """A new lease id when fewer than ``limit`` live leases exist, else None."""
        lease_id = uuid.uuid4().hex
        ok = self._call(name, ["acquire", keys.EPOCH_S, lease_id, _ttl_us(ttl_s), int(limit)])
        return lease_id if ok == 1 else None

    def renew(self, name: str, lease_id: str, ttl_s: float) -> bool:
        """Extend a live lease to now + ``ttl_s``; False if it already expired (the slot is lost)."""
        return self._call(name, ["renew", keys.EPOCH_S, lease_id, _ttl_us(ttl_s)]) == 1

    def release(self, name: str, lease_id: str) -> None:
        """Give the slot back. Releasing an unknown or expired lease is a no-op."""
        try:
            self._redis.zrem(keys.lease_set(self._key, name), lease_id)
        except redis.RedisError as exc:
            metrics.UNAVAILABLE.inc()
            raise LimiterUnavailable(f"lease Redis unavailable: {exc}") from exc

    def held(self, name: str) -> int:
        """Number of live leases."""
        return self._call(name, ["held", keys.EPOCH_S])

    def _call(self, name: str, args: list[str | int]) -> int:
        script = cast(Callable[..., object], self._script)
        try:
            reply = script(keys=[keys.lease_set(self._key, name)], args=args)
        except redis.RedisError as exc:
            metrics.UNAVAILABLE.inc()
            raise LimiterUnavailable(f"lease Redis unavailable: {exc}") from exc
        return int(cast(int, reply))


def _ttl_us(ttl_s: float) -> int:
    if not (math.isfinite(ttl_s) and ttl_s > 0):
        raise ValueError("ttl_s must be a positive number")
    return max(1, round(ttl_s * 1_000_000))
