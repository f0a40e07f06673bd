"""Bucket configuration, validated once so the Lua scripts can trust their arguments."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class BucketConfig:
    """The budget of one OAuth client, shared by every worker of every pool.

    ``reserve`` is a fraction of ``burst``: pools outside ``priority_pools`` are refused while
    fewer than ``reserve * burst`` tokens would remain, so polling cannot starve deletion.
    ``pool_shares`` caps a pool at ``share * rate_per_s`` with its own bucket.
    ``bulk_share`` caps bulk-lane callers at ``bulk_share * rate_per_s`` while an interactive caller has
    asked for a token within ``interactive_marker_ms`` (issue 21); 1.0 leaves bulk uncapped.
    """

    rate_per_s: float
    burst: int = 1
    reserve: float = 0.0
    priority_pools: frozenset[str] = frozenset({"deletion"})
    pool_shares: Mapping[str, float] = field(default_factory=dict)
    max_pause_s: float = 120.0
    bulk_share: float = 1.0
    interactive_marker_ms: int = 3000

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_per_s) and self.rate_per_s > 0):
            raise ValueError("rate_per_s must be a positive number")
        if self.rate_per_s > 1_000_000:
            raise ValueError("rate_per_s above 1e6/s cannot be expressed in microseconds")
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        if not (0.0 <= self.reserve < 1.0):
            raise ValueError("reserve must be in [0, 1)")
        if self.burst * (1.0 - self.reserve) < 1.0:
            # Otherwise a non-priority pool could never hold a whole token.
            raise ValueError("burst * (1 - reserve) must leave at least one token for other pools")
        for pool, share in self.pool_shares.items():
            if not (0.0 < share <= 1.0):
                raise ValueError(f"share of pool {pool!r} must be in (0, 1]")
        if not (0.0 < self.bulk_share <= 1.0):
            raise ValueError("bulk_share must be in (0, 1]")
        if self.interactive_marker_ms < 1:
            raise ValueError("interactive_marker_ms must be at least 1")
        if not (math.isfinite(self.max_pause_s) and self.max_pause_s > 0):
            raise ValueError("max_pause_s must be a positive number")
        # Freeze the mapping too: the config is shared between threads and limiters.
        object.__setattr__(self, "priority_pools", frozenset(self.priority_pools))
        object.__setattr__(self, "pool_shares", MappingProxyType(dict(self.pool_shares)))

    @property
    def interval_us(self) -> int:
        """Emission interval in whole microseconds (the rate rounded to 1 µs per request)."""
        return max(1, round(1_000_000 / self.rate_per_s))

    def tolerance_us(self, pool: str) -> int:
        """How far ahead of now the bucket's TAT may run before ``pool`` is refused."""
        tokens = float(self.burst)
        if pool not in self.priority_pools:
            tokens -= self.reserve * self.burst
        return round(tokens * self.interval_us)

    def bulk_limits_us(self) -> tuple[int, int]:
        """(interval, tolerance) of the bulk lane's bucket while interactive work asks, or (0, 0) uncapped."""
        if self.bulk_share >= 1.0:
            return 0, 0
        interval = max(1, round(self.interval_us / self.bulk_share))
        burst = max(1, round(self.bulk_share * self.burst))
        return interval, burst * interval

    def pool_limits_us(self, pool: str) -> tuple[int, int]:
        """(interval, tolerance) of the pool's own bucket, or (0, 0) when it has no share."""
        share = self.pool_shares.get(pool)
        if share is None:
            return 0, 0
        interval = max(1, round(self.interval_us / share))
        burst = max(1, round(share * self.burst))
        return interval, burst * interval
