"""Bucket math on fakeredis, with Redis's TIME driven by a fake clock so waits are exact."""

from __future__ import annotations

import fakeredis
import pytest
from prometheus_client import REGISTRY

from shared.errors import RunLater
from shared.ratelimit import BucketConfig, LeasePool, RateLimiter, RateLimitWait
from shared.ratelimit.keys import EPOCH_S, bucket
from tests.support.ratelimit_clock import FakeClock

KEY = "client-a"


def make(fake: fakeredis.FakeRedis, clock: FakeClock | None = None, **cfg: object) -> RateLimiter:
    config = BucketConfig(**cfg)  # type: ignore[arg-type]
    if clock is None:
        return RateLimiter(fake, KEY, config)
    return RateLimiter(fake, KEY, config, sleep=clock.advance)


def grants(limiter: RateLimiter, pool: str = "default") -> int:
    n = 0
    while limiter.try_acquire(pool).granted:
        n += 1
    return n


def test_lua_time_works_on_fakeredis() -> None:
    # The embedded mode depends on this: fakeredis (lupa) serves redis.call('TIME') to scripts.
    seconds, micros = fakeredis.FakeRedis().eval("return redis.call('TIME')", 0)
    assert int(seconds) > EPOCH_S and 0 <= int(micros) < 1_000_000


def test_burst_then_exact_wait(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=10, burst=3)
    assert grants(limiter) == 3
    denied = limiter.try_acquire()
    assert not denied.granted and denied.wait_s == 0.1
    clock.advance(0.099_999)
    assert limiter.try_acquire().wait_s == pytest.approx(0.000_001)
    clock.advance(0.000_001)
    assert limiter.try_acquire().granted


def test_idle_refills_up_to_burst_only(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=10, burst=3)
    assert grants(limiter) == 3
    clock.advance(3600)
    assert grants(limiter) == 3


def test_fractional_rate_and_far_clock_stay_exact(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    clock.now = 4_000_000_000.123456  # year 2096
    limiter = make(fake, rate_per_s=3, burst=1)
    first = limiter.try_acquire()
    assert first.granted
    assert first.redis_time_us == 4_000_000_000_123_456
    assert limiter.try_acquire().wait_s == 0.333_333
    assert fake.get(bucket(KEY)) == str((4_000_000_000 - EPOCH_S) * 10**6 + 123_456 + 333_333).encode()


def test_denied_request_spends_nothing(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=10, burst=1)
    assert limiter.try_acquire().granted
    before = fake.get(bucket(KEY))
    for _ in range(5):
        assert limiter.try_acquire().wait_s == 0.1
    assert fake.get(bucket(KEY)) == before


def test_acquire_sleeps_the_exact_wait(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=4, burst=1)
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 0.25
    assert limiter.acquire() == 0.25


def test_acquire_rechecks_after_sleeping(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    rival = make(fake, rate_per_s=4, burst=1)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
        if len(slept) == 1:
            assert rival.try_acquire().granted  # another worker takes the token meanwhile

    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=4), sleep=sleep)
    limiter.acquire()
    assert limiter.acquire() == 0.5
    assert slept == [0.25, 0.25]


def test_long_wait_hands_the_worker_back(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=1, burst=1)
    limiter.acquire()
    with pytest.raises(RateLimitWait) as info:
        limiter.acquire(max_block_s=0.5)
    assert info.value.wait_s == 1.0


def test_429_pauses_then_resumes_one_interval_apart(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=5, burst=4)
    limiter.on_rate_limited(2.0)
    assert limiter.paused_for() == 2.2
    assert limiter.try_acquire("deletion").wait_s == 2.2
    clock.advance(2.2)
    assert grants(limiter) == 1  # no burst after a pause
    clock.advance(0.2)
    assert grants(limiter) == 1


def test_429_is_capped_and_never_moves_backward(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=5, burst=1, max_pause_s=30)
    limiter.on_rate_limited(1e9)
    assert limiter.paused_for() == 30.2
    limiter.on_rate_limited(1.0)
    limiter.on_rate_limited(float("nan"))
    assert limiter.paused_for() == 30.2


def test_headers_push_the_bucket_when_the_window_is_nearly_spent(
    fake: fakeredis.FakeRedis, clock: FakeClock
) -> None:
    limiter = make(fake, rate_per_s=5, burst=10)
    limiter.on_response_headers(
        {"inin-ratelimit-count": "299", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "30"}
    )
    assert limiter.paused_for() == 30.0
    # An older answer with more left never loosens the bucket.
    limiter.on_response_headers(
        {"inin-ratelimit-count": "10", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "58"}
    )
    assert limiter.paused_for() == 30.0


def test_headers_with_room_left_or_garbled_change_nothing(
    fake: fakeredis.FakeRedis, clock: FakeClock
) -> None:
    limiter = make(fake, rate_per_s=4, burst=5)
    limiter.on_response_headers(
        {"inin-ratelimit-count": "1", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "60"}
    )
    limiter.on_response_headers({"inin-ratelimit-count": "300", "inin-ratelimit-allowed": "oops"})
    assert fake.get(bucket(KEY)) is None
    assert grants(limiter) == 5


def test_reserve_refuses_non_priority_pools_near_empty(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=10, burst=10, reserve=0.3)
    assert grants(limiter, "polling") == 7
    assert limiter.try_acquire("polling").wait_s == 0.1
    assert grants(limiter, "deletion") == 3
    assert limiter.try_acquire("deletion").wait_s == 0.1
    assert limiter.try_acquire("polling").wait_s == 0.4  # must wait for the reserve to refill too


def test_pool_share_caps_one_pool_inside_the_org_budget(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=10, burst=10, pool_shares={"polling": 0.2})
    assert grants(limiter, "polling") == 2  # share burst: 0.2 * 10
    assert limiter.try_acquire("polling").wait_s == 0.5  # share rate: 2/s
    assert grants(limiter, "discovery") == 8  # polling's tokens came out of the org budget
    clock.advance(0.5)
    assert grants(limiter, "discovery") == 5  # the org bucket is empty again
    assert limiter.try_acquire("polling").wait_s == 0.1  # polling's share has room, the org has not
    clock.advance(0.1)
    assert limiter.try_acquire("polling").granted


def test_metrics_count_grants_and_pauses(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    granted = value("erasure_ratelimit_tokens_granted_total", pool="metrics-pool")
    seen = value("erasure_ratelimit_429_total")
    paused = value("erasure_ratelimit_pauses_total", reason="429")
    limiter = make(fake, clock, rate_per_s=10)
    limiter.acquire("metrics-pool")
    limiter.on_rate_limited(1)
    limiter.on_rate_limited(0.5)  # already paused longer: seen, not applied
    assert value("erasure_ratelimit_tokens_granted_total", pool="metrics-pool") == granted + 1
    assert value("erasure_ratelimit_429_total") == seen + 2
    assert value("erasure_ratelimit_pauses_total", reason="429") == paused + 1


@pytest.mark.parametrize("bad", ["a{b", "a}b", "", "a b"])
def test_keys_keep_the_hash_tag_intact(fake: fakeredis.FakeRedis, bad: str) -> None:
    with pytest.raises(ValueError):
        RateLimiter(fake, bad, BucketConfig(rate_per_s=1))


def test_scripts_run_on_the_embedded_tcp_server(clock: FakeClock) -> None:
    import socket
    import threading

    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = fakeredis.TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = redis.Redis(port=port)
        limiter = RateLimiter(client, KEY, BucketConfig(rate_per_s=1, burst=2))
        assert grants(limiter) == 2
        # The server thread answers TIME from the same fake clock: exactly one interval, however slow the calls.
        assert limiter.paused_for() == 1.0
        clock.advance(1.0)
        assert limiter.try_acquire().granted
        client.close()
    finally:
        server.shutdown()
        server.server_close()


def test_works_with_decoded_responses(clock: FakeClock) -> None:
    # The project's clients use decode_responses=True.
    client = fakeredis.FakeRedis(decode_responses=True)
    limiter = RateLimiter(client, "erasure:0123abcd", BucketConfig(rate_per_s=10, burst=2))
    assert grants(limiter) == 2
    assert limiter.paused_for() == 0.1
    pool = LeasePool(client, "erasure:0123abcd")
    lease = pool.try_acquire("recording", 1, 5)
    assert lease is not None and pool.renew("recording", lease, 5) and pool.held("recording") == 1


# --- blocking, defaults, garbled inputs --------------------------------------------------------


def test_acquire_blocks_up_to_max_block_inclusive(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=0.5, burst=1)  # one token per 2 s
    limiter.acquire()
    assert limiter.acquire(max_block_s=2.0) == 2.0  # a wait of exactly the limit is still waited
    with pytest.raises(RateLimitWait) as info:
        limiter.acquire(max_block_s=1.999_999)
    assert info.value.wait_s == 2.0
    assert "next token in 2.000 s" in str(info.value)  # the log of a deferred task says how long


def test_acquire_blocks_five_seconds_by_default(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=0.2, burst=1)  # one token per 5 s
    limiter.acquire()
    assert limiter.acquire() == 5.0
    limiter.on_rate_limited(0.5)  # next token in 5.5 s: more than the default will block
    with pytest.raises(RateLimitWait) as info:
        limiter.acquire()
    assert info.value.wait_s == 5.5


def test_acquire_keeps_the_pools_reserve_and_share(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, clock, rate_per_s=10, burst=10, reserve=0.3)
    for _ in range(7):
        assert limiter.acquire("polling", max_block_s=0) == 0.0
    with pytest.raises(RateLimitWait) as info:
        limiter.acquire("polling", max_block_s=0)  # the last three tokens are deletion's reserve
    assert info.value.wait_s == 0.1
    assert limiter.acquire("deletion", max_block_s=0) == 0.0


def test_default_pool_is_named_default(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    # A config may name the pool that callers without a pool use.
    limiter = make(fake, clock, rate_per_s=10, burst=4, reserve=0.5, priority_pools={"default"})
    for _ in range(4):
        assert limiter.try_acquire().granted  # the reserve is open to "default"
    clock.advance(0.4)
    for _ in range(4):
        assert limiter.acquire(max_block_s=0) == 0.0


def test_paused_for_only_looks(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=10, burst=3)
    for _ in range(5):
        assert limiter.paused_for() == 0.0
    assert grants(limiter) == 3
    assert limiter.paused_for() == 0.1
    assert limiter.paused_for() == 0.1


def test_paused_for_ignores_reserve_and_shares(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=10, burst=10, reserve=0.3, pool_shares={"polling": 0.2})
    assert grants(limiter, "polling") == 2
    assert limiter.paused_for() == 0.0  # the org bucket still has 8 tokens


@pytest.mark.parametrize("garbled", [float("nan"), float("inf"), float("-inf"), -5.0, 0.0])
def test_garbled_retry_after_counts_as_zero(fake: fakeredis.FakeRedis, clock: FakeClock, garbled: float) -> None:
    limiter = make(fake, rate_per_s=5, burst=4)
    limiter.on_rate_limited(garbled)
    # Still a pause: no burst after a 429, the first request one interval later.
    assert limiter.paused_for() == 0.2
    clock.advance(0.2)
    assert grants(limiter) == 1


def test_a_one_microsecond_correction_is_still_applied(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=1, burst=1)
    # One request allowed, none spent, reset in 1 µs: the bucket may not grant before the reset.
    limiter.on_response_headers(
        {"inin-ratelimit-count": "0", "inin-ratelimit-allowed": "1", "inin-ratelimit-reset": "0.000001"}
    )
    assert limiter.paused_for() == 0.000_001


def test_decision_reports_redis_time_since_1970(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = make(fake, rate_per_s=1, burst=1)
    assert limiter.try_acquire().redis_time_us == clock.now_us
    clock.advance(0.25)
    denied = limiter.try_acquire()
    assert (denied.granted, denied.wait_s, denied.redis_time_us) == (False, 0.75, clock.now_us)


def test_a_long_wait_is_the_projects_one_later_signal_with_its_reason(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    """The pipeline handles one "not yet" type: the limiter's wait is a RunLater deferring exactly the wait,
    and says why (what an operator reads when a batch is sent again)."""
    limiter = make(fake, clock, rate_per_s=1, burst=1)
    limiter.acquire()
    with pytest.raises(RunLater) as info:
        limiter.acquire(max_block_s=0.5)
    later = info.value
    assert isinstance(later, RateLimitWait) and later.defer_s == later.wait_s == 1.0
    assert later.reason == "rate budget exhausted" and later.request_id is None
    assert str(later) == "rate budget exhausted, next token in 1.000 s"
