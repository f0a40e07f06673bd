"""One GCRA budget per OAuth client, shared by every worker process of every pool."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import redis

from . import keys, metrics
from .config import BucketConfig
from .errors import LimiterUnavailable, RateLimitWait
from .headers import correction_offset_us, read_window

log = logging.getLogger(__name__)

#: The queue lanes a caller may name (``shared.models.Lane``'s values; this package imports nothing of the rest).
_LANES = frozenset({"interactive", "bulk"})


@dataclass(frozen=True)
class Decision:
    """One answer of the bucket: granted now, or the exact wait before this pool is admitted."""

    granted: bool
    wait_s: float
    redis_time_us: int  # Redis's clock at the decision, microseconds since 1970


class RateLimiter:
    """Meters every call of one OAuth client against a single budget held in Redis.

    The decision is taken by one Lua script on Redis's clock, so workers on different hosts
    never disagree about time and a denied caller learns exactly how long to wait.
    """

    def __init__(
        self,
        redis: redis.Redis,
        key: str,
        config: BucketConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._key = key
        self._config = config
        self._sleep = sleep
        self._bucket = keys.bucket(key)
        self._marker = keys.interactive_marker(key)
        self._bulk_bucket = keys.bulk_lane_bucket(key)
        self._gcra = keys.load_script(redis, "gcra.lua")
        self._pause = keys.load_script(redis, "pause.lua")

    @property
    def config(self) -> BucketConfig:
        return self._config

    def try_acquire(self, pool: str = "default", *, lane: str | None = None) -> Decision:
        """Take a token for ``pool`` if one is free now; never blocks. ``lane`` (``interactive``, ``bulk``
        or None) is the caller's queue lane: see ``BucketConfig.bulk_share``."""
        return self._decide(pool, take=True, lane=lane)

    def acquire(self, pool: str = "default", *, max_block_s: float = 5.0, lane: str | None = None) -> float:
        """Block until ``pool`` may send one request; return the seconds slept.

        Sleeps exactly the wait the script reports, then asks again (another worker may have
        taken the token meanwhile). Raises RateLimitWait when the total would exceed
        ``max_block_s`` and LimiterUnavailable when Redis cannot be reached.
        """
        waited = 0.0
        while True:
            decision = self.try_acquire(pool, lane=lane)
            if decision.granted:
                metrics.TOKENS_GRANTED.labels(pool).inc()
                metrics.WAIT_SECONDS.labels(pool).observe(waited)
                if lane in _LANES:
                    metrics.LANE_TOKENS.labels(lane).inc()
                    metrics.LANE_WAIT_SECONDS.labels(lane).inc(waited)
                return waited
            if waited + decision.wait_s > max_block_s:
                metrics.DEFERRED.labels(pool).inc()
                metrics.WAIT_SECONDS.labels(pool).observe(waited)
                raise RateLimitWait(decision.wait_s)
            self._sleep(decision.wait_s)
            waited += decision.wait_s

    def on_rate_limited(self, retry_after_s: float) -> None:
        """Turn a 429 into a pause for every worker: the TAT moves to now + Retry-After + burst.

        After the pause the bucket admits one request per interval, so workers do not stampede.
        Retry-After is capped at ``max_pause_s``; a missing or garbled value counts as 0.
        """
        metrics.RATE_LIMITED.inc()
        retry = retry_after_s if math.isfinite(retry_after_s) and retry_after_s > 0 else 0.0
        retry = min(retry, self._config.max_pause_s)
        offset = round(retry * 1_000_000) + self._config.burst * self._config.interval_us
        if self._push(offset):
            metrics.PAUSES_APPLIED.labels("429").inc()

    def on_response_headers(self, headers: Mapping[str, str]) -> None:
        """Correct the bucket from ``inin-ratelimit-*`` when the platform has less left than we think.

        Best effort: absent or garbled headers are ignored, and so is an unreachable Redis here
        (the next acquire fails closed anyway, and the response in hand must not be lost).
        """
        reading = read_window(headers)
        if reading is None:
            return
        offset = correction_offset_us(
            reading,
            burst=self._config.burst,
            interval_us=self._config.interval_us,
            max_pause_s=self._config.max_pause_s,
        )
        if offset <= 0:
            return  # the bucket is already stricter than the window
        try:
            moved = self._push(offset)
        except LimiterUnavailable:
            log.warning("rate limiter: Redis unreachable, header correction skipped")
            return
        if moved:
            metrics.PAUSES_APPLIED.labels("headers").inc()

    def paused_for(self) -> float:
        """Seconds until the org bucket admits its next request, ignoring reserve and shares."""
        return self._decide(None, take=False).wait_s

    def _decide(self, pool: str | None, *, take: bool, lane: str | None = None) -> Decision:
        cfg = self._config
        if pool is None:  # the whole bucket, as a priority pool without a share sees it
            pool_key, tolerance = self._bucket, cfg.burst * cfg.interval_us
            pool_interval = pool_tolerance = 0
        else:
            pool_key, tolerance = keys.pool_bucket(self._key, pool), cfg.tolerance_us(pool)
            pool_interval, pool_tolerance = cfg.pool_limits_us(pool)
        lane_interval, lane_tolerance = cfg.bulk_limits_us()
        reply = self._call(
            self._gcra,
            [self._bucket, pool_key, self._marker, self._bulk_bucket],
            [
                cfg.interval_us,
                tolerance,
                pool_interval,
                pool_tolerance,
                1 if take else 0,
                keys.EPOCH_S,
                lane or "",
                cfg.interactive_marker_ms,
                lane_interval,
                lane_tolerance,
            ],
        )
        granted, wait_us, now_us = (int(x) for x in cast(Sequence[int], reply))
        return Decision(granted == 1, wait_us / 1_000_000, now_us + keys.EPOCH_S * 1_000_000)

    def _push(self, offset_us: int) -> bool:
        reply = self._call(self._pause, [self._bucket], [offset_us, keys.EPOCH_S])
        return int(cast(Sequence[int], reply)[0]) == 1

    def _call(self, script: Callable[..., object], keys_: list[str], args: list[int | str]) -> object:
        try:
            return script(keys=keys_, args=args)
        except redis.RedisError as exc:
            # Fail closed: without the shared budget no request may go out.
            metrics.UNAVAILABLE.inc()
            raise LimiterUnavailable(f"rate limiter Redis unavailable: {exc}") from exc
