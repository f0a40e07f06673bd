"""The rate budget's two lanes (issue 21): bulk callers get at most ``bulk_share`` of it while interactive
callers ask for tokens, and all of it otherwise; decided in the same Lua call as every other limit."""

from __future__ import annotations

import fakeredis
import pytest

from shared.config import Settings
from shared.ratelimit import BucketConfig, RateLimiter
from shared.ratelimit.keys import interactive_marker
from tests.support.ratelimit_clock import FakeClock

KEY = "client-lanes"


def race(limiter: RateLimiter, clock: FakeClock, steps: int, *, interactive: bool = True) -> dict[str, int]:
    """Both lanes ask at every tick of the rate (bulk first, as a saturating bulk run would): tokens won."""
    won = {"bulk": 0, "interactive": 0}
    for _ in range(steps):
        clock.advance(0.1)
        won["bulk"] += limiter.try_acquire("deletion", lane="bulk").granted
        if interactive:
            won["interactive"] += limiter.try_acquire("deletion", lane="interactive").granted
    return won


def test_while_interactive_work_asks_bulk_gets_only_its_share(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=10, burst=1, bulk_share=0.5))
    won = race(limiter, clock, 40)
    assert won["bulk"] + won["interactive"] == 40  # the budget is used in full
    assert 19 <= won["bulk"] <= 21 and won["interactive"] >= 19


def test_without_a_share_bulk_asking_first_takes_everything(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    """What the lanes fix: a saturating bulk run starves a single request that asks after it."""
    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=10, burst=1, bulk_share=1.0))
    assert race(limiter, clock, 40) == {"bulk": 40, "interactive": 0}


def test_bulk_gets_the_whole_budget_once_interactive_work_stops_asking(fake: fakeredis.FakeRedis,
                                                                        clock: FakeClock) -> None:
    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=10, burst=1, bulk_share=0.5, interactive_marker_ms=1000))
    race(limiter, clock, 10)
    assert fake.exists(interactive_marker(KEY))
    clock.advance(1.001)  # past the marker's lifetime: no interactive caller asked since
    assert not fake.exists(interactive_marker(KEY))
    assert race(limiter, clock, 20, interactive=False) == {"bulk": 20, "interactive": 0}


def test_callers_without_a_lane_are_not_capped_and_set_no_marker(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=10, burst=1, bulk_share=0.5))
    for _ in range(10):
        clock.advance(0.1)
        assert limiter.try_acquire("polling").granted  # a polling pass serves both lanes
    assert not fake.exists(interactive_marker(KEY))


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="bulk_share"):
        BucketConfig(rate_per_s=10, bulk_share=share)
    with pytest.raises(ValueError, match="bulk_rate_share"):
        Settings(hmac_key="k" * 32, bulk_rate_share=share)


def test_the_setting_reaches_the_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERASURE_BULK_RATE_SHARE", "0.6")
    assert Settings(hmac_key="k" * 32).bulk_rate_share == 0.6
    assert Settings.model_fields["bulk_rate_share"].default == 0.8


def test_tokens_and_waits_are_counted_per_lane(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str, lane: str) -> float:
        return REGISTRY.get_sample_value(name, {"lane": lane}) or 0.0

    before = {lane: sample("erasure_ratelimit_lane_tokens_granted_total", lane) for lane in ("bulk", "interactive")}
    slept = sample("erasure_ratelimit_lane_wait_seconds_total", "bulk")
    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=10, burst=1), sleep=clock.advance)
    limiter.acquire("deletion", lane="bulk")
    limiter.acquire("deletion", lane="bulk")  # waits one interval
    limiter.acquire("polling")  # no lane: not counted per lane
    assert sample("erasure_ratelimit_lane_tokens_granted_total", "bulk") == before["bulk"] + 2
    assert sample("erasure_ratelimit_lane_tokens_granted_total", "interactive") == before["interactive"]
    assert sample("erasure_ratelimit_lane_wait_seconds_total", "bulk") == pytest.approx(slept + 0.1)
