"""The Lua scripts' behaviour, pinned with values worked out from rate and burst (mutmut cannot mutate Lua).

fakeredis runs the scripts (lupa) with Redis's TIME and key expiry on the test's ``FakeClock``, so every
wait, TAT and TTL below is exact. Times inside Redis count microseconds from ``keys.EPOCH_S``.
"""

from __future__ import annotations

from collections.abc import Callable

import fakeredis
import pytest
import redis

from shared.ratelimit import BucketConfig, LeasePool, RateLimiter
from shared.ratelimit import keys as rl_keys
from shared.ratelimit.keys import EPOCH_S, bucket, lease_set, pool_bucket
from tests.support.ratelimit_clock import FakeClock

KEY = "client-lua"
RATE, BURST = 4, 3  # interval T = 1/4 s = 250 000 µs; tolerance = 3 T = 750 000 µs
T_US = 1_000_000 // RATE


def rebased(clock: FakeClock) -> int:
    """The fake clock as the scripts count it: microseconds since EPOCH_S."""
    return clock.now_us - EPOCH_S * 1_000_000


def script(fake: fakeredis.FakeRedis, name: str) -> Callable[..., object]:
    return rl_keys.load_script(fake, name)  # type: ignore[return-value]


def gcra(fake: fakeredis.FakeRedis, *, take: bool = True, pool: tuple[int, int] = (0, 0)) -> list[int]:
    """One call of gcra.lua for a RATE/BURST bucket, optionally with a pool bucket (interval, tolerance)."""
    reply = script(fake, "gcra.lua")(
        keys=[bucket(KEY), pool_bucket(KEY, "p")],
        args=[T_US, BURST * T_US, pool[0], pool[1], 1 if take else 0, EPOCH_S],
    )
    return [int(x) for x in reply]  # type: ignore[union-attr]


def pause(fake: fakeredis.FakeRedis, offset_us: int) -> list[int]:
    reply = script(fake, "pause.lua")(keys=[bucket(KEY)], args=[offset_us, EPOCH_S])
    return [int(x) for x in reply]  # type: ignore[union-attr]


def tat(fake: fakeredis.FakeRedis) -> int | None:
    raw = fake.get(bucket(KEY))
    return None if raw is None else int(raw)


# --- gcra.lua ---------------------------------------------------------------------------------


def test_gcra_grants_exactly_the_burst_then_refuses_with_one_interval(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    now = rebased(clock)
    assert [gcra(fake) for _ in range(BURST)] == [[1, 0, now]] * BURST
    assert gcra(fake) == [0, T_US, now]  # the 4th conforms one interval after the burst
    assert tat(fake) == now + BURST * T_US  # the refusal spent nothing


def test_gcra_boundary_is_exact_to_the_microsecond(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    for _ in range(BURST):
        gcra(fake)
    clock.advance((T_US - 1) / 1e6)
    assert gcra(fake)[:2] == [0, 1]
    clock.advance(1e-6)
    assert gcra(fake)[:2] == [1, 0]
    assert gcra(fake)[:2] == [0, T_US]  # and the next waits a whole interval again


def test_gcra_refills_one_token_per_interval_up_to_the_burst(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    for _ in range(BURST):
        gcra(fake)
    clock.advance(2 * T_US / 1e6)
    assert [gcra(fake)[0] for _ in range(3)] == [1, 1, 0]
    clock.advance(10 * BURST * T_US / 1e6)  # idle far longer than the burst takes to refill
    assert [gcra(fake)[0] for _ in range(BURST + 1)] == [1] * BURST + [0]


def test_gcra_report_only_takes_nothing(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    for _ in range(5):
        assert gcra(fake, take=False)[:2] == [0, 0]  # a free token is reported as "no wait", not granted
    assert fake.get(bucket(KEY)) is None
    assert [gcra(fake)[0] for _ in range(BURST + 1)] == [1] * BURST + [0]
    assert gcra(fake, take=False)[:2] == [0, T_US]


def test_gcra_stores_the_tat_with_a_ttl_that_ends_when_the_bucket_is_full_again(
    fake: fakeredis.FakeRedis, clock: FakeClock
) -> None:
    now = rebased(clock)
    gcra(fake)
    assert tat(fake) == now + T_US
    assert fake.pttl(bucket(KEY)) == T_US // 1000  # 250 ms: the key lives exactly as long as it means something
    gcra(fake)
    assert fake.pttl(bucket(KEY)) == 2 * T_US // 1000
    clock.advance(2 * T_US / 1e6)
    assert tat(fake) == rebased(clock)  # at the TAT the key may still be there: it means a full bucket
    clock.advance(1e-6)
    assert fake.get(bucket(KEY)) is None  # expired just after: a missing key is a full bucket too


def test_gcra_ttl_rounds_up_to_whole_milliseconds(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=3))  # T = 333 333 µs
    assert limiter.try_acquire().granted
    assert fake.pttl(bucket(KEY)) == 334  # ceil(333.333 ms): never gone before the TAT is reached
    clock.advance(0.333_333)
    assert limiter.try_acquire().granted  # the TAT is now: full again, whether or not the key still exists


def test_gcra_a_stale_tat_lends_no_credit_from_the_past(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=3))  # T = 333 333 µs, key kept 334 ms
    assert limiter.try_acquire().granted
    clock.advance(0.333_9)  # 567 µs past the TAT, its key not yet expired
    assert fake.get(bucket(KEY)) is not None
    assert limiter.try_acquire().granted
    # Counted from now, not from the old TAT: the next token is a whole interval away.
    assert limiter.try_acquire().wait_s == 0.333_333


def test_gcra_pool_share_needs_both_buckets_and_refusal_spends_neither(
    fake: fakeredis.FakeRedis, clock: FakeClock
) -> None:
    now = rebased(clock)
    pool_t, pool_tol = 4 * T_US, 4 * T_US  # a pool at a quarter of the rate with a burst of one
    assert gcra(fake, pool=(pool_t, pool_tol)) == [1, 0, now]
    assert fake.get(pool_bucket(KEY, "p")) == str(now + pool_t).encode()
    assert fake.pttl(pool_bucket(KEY, "p")) == pool_t // 1000
    # The pool's own bucket is empty (next in 4 T) although the org bucket has two tokens left.
    assert gcra(fake, pool=(pool_t, pool_tol)) == [0, pool_t, now]
    assert tat(fake) == now + T_US
    # The org bucket refuses first when it is the fuller one: the longer of the two waits is reported.
    assert gcra(fake)[0] == 1 and gcra(fake)[0] == 1
    clock.advance(pool_t / 1e6)
    assert gcra(fake, pool=(pool_t, pool_tol))[:2] == [1, 0]


def test_gcra_reports_the_longer_wait_of_org_and_pool(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    for _ in range(BURST):
        gcra(fake)
    # org: next in T; pool (never used): free. The org's wait is the answer.
    assert gcra(fake, pool=(8 * T_US, 8 * T_US))[:2] == [0, T_US]
    assert fake.get(pool_bucket(KEY, "p")) is None


def test_gcra_answers_with_redis_time_not_the_callers(
    fake: fakeredis.FakeRedis, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    limiter = RateLimiter(fake, KEY, BucketConfig(rate_per_s=RATE, burst=1))
    first = limiter.try_acquire()
    assert first.redis_time_us == clock.now_us
    # The caller's own clock jumps an hour ahead; Redis's does not: the bucket is still empty.
    monkeypatch.setattr(time, "time", lambda: clock.now + 3600)
    monkeypatch.setattr(time, "monotonic", lambda: clock.now + 3600)
    assert limiter.try_acquire().wait_s == 0.25
    clock.advance(0.25)  # only Redis's clock refills the bucket
    granted = limiter.try_acquire()
    assert granted.granted and granted.redis_time_us == clock.now_us


# --- pause.lua --------------------------------------------------------------------------------


def test_pause_on_an_idle_bucket_sets_the_tat_offset_past_now(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    now = rebased(clock)
    assert pause(fake, 2_000_000) == [1, 2_000_000]
    assert tat(fake) == now + 2_000_000
    assert fake.pttl(bucket(KEY)) == 2000


def test_pause_extends_but_never_shortens(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    now = rebased(clock)
    pause(fake, 10_000_000)
    assert pause(fake, 4_000_000) == [0, 10_000_000]  # shorter: nothing moves, the remaining pause is reported
    assert pause(fake, 10_000_000) == [0, 10_000_000]  # equal: nothing moves either
    assert tat(fake) == now + 10_000_000 and fake.pttl(bucket(KEY)) == 10_000
    clock.advance(6)
    assert pause(fake, 3_000_000) == [0, 4_000_000]  # 4 s of the first pause are left, longer than 3 s
    assert pause(fake, 5_000_000) == [1, 5_000_000]  # longer than what is left: extended
    assert tat(fake) == now + 11_000_000
    assert fake.pttl(bucket(KEY)) == 5000


def test_pause_is_measured_from_a_tat_already_ahead_of_now(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    now = rebased(clock)
    for _ in range(BURST):
        gcra(fake)  # TAT = now + 3 T
    assert pause(fake, 2 * T_US) == [0, 3 * T_US]
    assert pause(fake, 4 * T_US) == [1, 4 * T_US]
    assert tat(fake) == now + 4 * T_US


def test_pause_of_an_old_tat_in_the_past_moves_it(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    now = rebased(clock)
    fake.set(bucket(KEY), str(now - 5_000_000))  # a stale TAT (as if its key outlived it)
    assert pause(fake, 1_000) == [1, 1_000]
    assert tat(fake) == now + 1_000
    assert fake.pttl(bucket(KEY)) == 1


def test_pause_holds_every_pool_then_admits_one_per_interval(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    # burst 4 with a quarter reserved: non-priority pools may use 3 tokens' tolerance, deletion all 4.
    config = BucketConfig(rate_per_s=RATE, burst=4, reserve=0.25, pool_shares={"polling": 0.5})
    limiter = RateLimiter(fake, KEY, config)
    limiter.on_rate_limited(3.0)
    # Retry-After, then the first request one interval later (no burst after a pause): 3 s + T.
    assert limiter.paused_for() == 3.25
    assert limiter.try_acquire("deletion").wait_s == 3.25
    # Other pools also wait for the reserved token to come back: one interval more.
    for pool in ("polling", "discovery"):
        assert limiter.try_acquire(pool).wait_s == 3.5
    clock.advance(3.25)
    assert limiter.try_acquire("deletion").granted
    assert not limiter.try_acquire("deletion").granted
    clock.advance(0.25)
    assert limiter.try_acquire("deletion").granted


# --- lease.lua --------------------------------------------------------------------------------


def lease(fake: fakeredis.FakeRedis, *args: object) -> object:
    return script(fake, "lease.lua")(keys=[lease_set(KEY, "rec")], args=[args[0], EPOCH_S, *args[1:]])


def test_lease_expires_at_its_ttl_and_its_slot_returns(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    now = rebased(clock)
    assert lease(fake, "acquire", "a", 10_000_000, 1) == 1
    assert fake.zscore(lease_set(KEY, "rec"), "a") == now + 10_000_000
    assert fake.pttl(lease_set(KEY, "rec")) == 10_000
    assert lease(fake, "acquire", "b", 10_000_000, 1) == 0
    clock.advance(9.999_999)
    assert lease(fake, "held") == 1
    clock.advance(0.000_001)  # expiry is inclusive: at now == expiry the lease is gone
    assert lease(fake, "held") == 0
    assert lease(fake, "acquire", "b", 10_000_000, 1) == 1


def test_lease_ids_are_unique_and_limits_count_live_leases_only(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    assert lease(fake, "acquire", "a", 5_000_000, 3) == 1
    assert lease(fake, "acquire", "a", 5_000_000, 3) == 0  # the same holder twice is one lease
    assert lease(fake, "acquire", "b", 1_000_000, 3) == 1
    assert lease(fake, "held") == 2
    assert lease(fake, "acquire", "z", 1_000_000, 0) == 0  # limit 0: never
    clock.advance(1)
    assert lease(fake, "acquire", "c", 5_000_000, 2) == 1  # b expired: a and c fit under 2
    assert lease(fake, "acquire", "d", 5_000_000, 2) == 0


def test_lease_set_lives_as_long_as_its_longest_lease(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    lease(fake, "acquire", "long", 10_000_000, 5)
    lease(fake, "acquire", "short", 2_000_000, 5)
    assert fake.pttl(lease_set(KEY, "rec")) == 10_000
    assert lease(fake, "renew", "long", 1_000_000) == 1  # now the 2 s lease is the longest
    assert fake.pttl(lease_set(KEY, "rec")) == 2_000
    assert lease(fake, "renew", "short", 1_500) == 1
    assert fake.pttl(lease_set(KEY, "rec")) == 1_000  # the 1 s lease; 1.5 ms rounds up, never down
    clock.advance(1.000_001)
    assert fake.exists(lease_set(KEY, "rec")) == 0


def test_renew_moves_expiry_to_now_plus_ttl_and_never_revives(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    now = rebased(clock)
    lease(fake, "acquire", "a", 10_000_000, 1)
    clock.advance(8)
    assert lease(fake, "renew", "a", 10_000_000) == 1
    assert fake.zscore(lease_set(KEY, "rec"), "a") == now + 18_000_000
    assert lease(fake, "renew", "ghost", 10_000_000) == 0  # unknown: not created by a renewal
    assert fake.zscore(lease_set(KEY, "rec"), "ghost") is None
    clock.advance(10)
    assert lease(fake, "renew", "a", 10_000_000) == 0  # expired at now + 18 s: gone for good
    assert lease(fake, "held") == 0


def test_unknown_lease_operation_is_an_error(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    with pytest.raises(redis.ResponseError, match="unknown lease operation"):
        lease(fake, "steal", "a", 1_000_000, 1)


def test_lease_pool_uses_redis_time(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    pool = LeasePool(fake, KEY)
    held = pool.try_acquire("rec", 1, 2.5)
    assert held is not None
    assert fake.zscore(lease_set(KEY, "rec"), held) == rebased(clock) + 2_500_000
