"""The limiter's Prometheus metrics move exactly when the limiter grants, waits, defers or is paused.

Read from prometheus_client's default registry as deltas (other tests share the process-wide counters).
"""

from __future__ import annotations

import fakeredis
import pytest
from prometheus_client import REGISTRY

from shared.ratelimit import BucketConfig, RateLimiter, RateLimitWait
from shared.ratelimit.keys import bucket
from tests.support.ratelimit_clock import FakeClock

KEY = "client-metrics"
SPENT_30S = {"inin-ratelimit-count": "299", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "30"}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Snapshot:
    """Metric values at creation; ``delta`` says how far each moved since."""

    def __init__(self, pool: str) -> None:
        self.pool = pool
        self.before = self.read()

    def read(self) -> dict[str, float]:
        p = self.pool
        return {
            "granted": value("erasure_ratelimit_tokens_granted_total", pool=p),
            "deferred": value("erasure_ratelimit_deferred_total", pool=p),
            "waits": value("erasure_ratelimit_wait_seconds_count", pool=p),
            "waited_s": value("erasure_ratelimit_wait_seconds_sum", pool=p),
            "429": value("erasure_ratelimit_429_total"),
            "paused_429": value("erasure_ratelimit_pauses_total", reason="429"),
            "paused_headers": value("erasure_ratelimit_pauses_total", reason="headers"),
        }

    def delta(self) -> dict[str, float]:
        now = self.read()
        return {k: round(now[k] - self.before[k], 9) for k in now}


NOTHING = {"granted": 0, "deferred": 0, "waits": 0, "waited_s": 0, "429": 0, "paused_429": 0, "paused_headers": 0}


def make(fake: fakeredis.FakeRedis, clock: FakeClock, **cfg: object) -> RateLimiter:
    return RateLimiter(fake, KEY, BucketConfig(**cfg), sleep=clock.advance)  # type: ignore[arg-type]


def test_a_grant_after_waiting_is_counted_with_its_wait(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=4, burst=1)
    snap = Snapshot("m-grant")
    limiter.acquire("m-grant")
    limiter.acquire("m-grant")  # sleeps 0.25 s
    assert snap.delta() == {**NOTHING, "granted": 2, "waits": 2, "waited_s": 0.25}


def test_a_deferral_is_counted_with_what_was_waited_before_it(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    rival = make(fake, clock, rate_per_s=4, burst=1)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
        rival.on_rate_limited(10)  # while we slept, someone else got a 429

    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=4, burst=1), sleep=sleep)
    limiter.acquire("m-defer")
    snap = Snapshot("m-defer")
    with pytest.raises(RateLimitWait):
        limiter.acquire("m-defer", max_block_s=5)
    assert slept == [0.25]
    assert snap.delta() == {**NOTHING, "deferred": 1, "waits": 1, "waited_s": 0.25, "429": 1, "paused_429": 1}


def test_every_429_is_counted_and_a_pause_only_when_it_moves_the_bucket(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=5, burst=1)
    snap = Snapshot("m-429")
    limiter.on_rate_limited(1)
    assert snap.delta() == {**NOTHING, "429": 1, "paused_429": 1}
    limiter.on_rate_limited(0.5)  # already paused longer: seen, not applied
    assert snap.delta() == {**NOTHING, "429": 2, "paused_429": 1}
    limiter.on_rate_limited(3)
    assert snap.delta() == {**NOTHING, "429": 3, "paused_429": 2}


def test_a_header_correction_is_counted_only_when_it_moves_the_bucket(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=5, burst=10)
    snap = Snapshot("m-headers")
    # 299 left for 30 s: more than the bucket can grant meanwhile (10 + 30 s x 5/s = 160): no correction.
    limiter.on_response_headers({"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "30"})
    assert snap.delta() == NOTHING
    limiter.on_response_headers(SPENT_30S)
    assert snap.delta() == {**NOTHING, "paused_headers": 1}
    limiter.on_response_headers(SPENT_30S)  # the same reading again asks for nothing new
    assert snap.delta() == {**NOTHING, "paused_headers": 1}


def test_a_reading_that_asks_for_nothing_is_not_a_correction(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=3, burst=1)
    assert limiter.try_acquire().granted
    clock.advance(0.333_5)  # past the TAT, before its key's last millisecond: a stale TAT is still stored
    stale = fake.get(bucket(KEY))
    assert stale is not None
    snap = Snapshot("m-nothing")
    # The whole window left and no reset to wait for: exactly what a full bucket allows already.
    limiter.on_response_headers({"inin-ratelimit-count": "0", "inin-ratelimit-allowed": "1", "inin-ratelimit-reset": "0"})
    assert snap.delta() == NOTHING
    assert fake.get(bucket(KEY)) == stale
