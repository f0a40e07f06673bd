from __future__ import annotations

import fakeredis
import pytest

from shared.ratelimit import LeasePool
from tests.support.ratelimit_clock import FakeClock


def test_limit_release_and_held(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    pool = LeasePool(fake, "org-1")
    a = pool.try_acquire("recording", 2, 60)
    b = pool.try_acquire("recording", 2, 60)
    assert a and b and a != b
    assert pool.try_acquire("recording", 2, 60) is None
    assert pool.held("recording") == 2
    pool.release("recording", a)
    pool.release("recording", a)  # idempotent
    assert pool.held("recording") == 1
    assert pool.try_acquire("recording", 2, 60) is not None


def test_expired_lease_is_reclaimed(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    pool = LeasePool(fake, "org-1")
    dead = pool.try_acquire("recording", 1, 10)
    assert dead is not None
    clock.advance(9.999_999)
    assert pool.try_acquire("recording", 1, 10) is None
    clock.advance(0.000_001)
    assert pool.held("recording") == 0
    assert pool.try_acquire("recording", 1, 10) is not None
    assert not pool.renew("recording", dead, 10)  # its slot went to someone else


def test_renew_keeps_a_live_lease(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    pool = LeasePool(fake, "org-1")
    lease = pool.try_acquire("recording", 1, 10)
    assert lease is not None
    clock.advance(8)
    assert pool.renew("recording", lease, 10)
    clock.advance(8)
    assert pool.held("recording") == 1
    assert pool.try_acquire("recording", 1, 10) is None


def test_names_are_independent(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    pool = LeasePool(fake, "org-1")
    assert pool.try_acquire("recording", 1, 10) is not None
    assert pool.try_acquire("analytics", 1, 10) is not None
    assert LeasePool(fake, "org-2").try_acquire("recording", 1, 10) is not None


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf"), float("-inf")])
def test_a_lease_needs_a_positive_finite_ttl(fake: fakeredis.FakeRedis, clock: FakeClock, ttl: float) -> None:
    pool = LeasePool(fake, "org-1")
    with pytest.raises(ValueError, match=r"^ttl_s must be a positive number"):
        pool.try_acquire("recording", 1, ttl)
    with pytest.raises(ValueError, match=r"^ttl_s must be a positive number"):
        pool.renew("recording", "any", ttl)
    assert pool.held("recording") == 0


def test_sub_second_and_tiny_ttls_are_kept_to_the_microsecond(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    pool = LeasePool(fake, "org-1")
    assert pool.try_acquire("half", 1, 0.5) is not None
    clock.advance(0.499_999)
    assert pool.held("half") == 1
    clock.advance(0.000_001)
    assert pool.held("half") == 0
    # Below a microsecond the lease still lasts one (never zero: it is not expired on arrival).
    for ttl in (1e-6, 1e-9):
        assert pool.try_acquire("tiny", 1, ttl) is not None
        assert pool.held("tiny") == 1
        clock.advance(0.000_001)
        assert pool.held("tiny") == 0


def test_renew_restarts_the_ttl_from_now(fake: fakeredis.FakeRedis, clock: FakeClock) -> None:
    pool = LeasePool(fake, "org-1")
    lease = pool.try_acquire("recording", 1, 10)
    assert lease is not None
    clock.advance(8)
    assert pool.renew("recording", lease, 3)  # expires now + 3 s (11 s after the start), not 10 s + 3 s
    clock.advance(2.999_999)
    assert pool.held("recording") == 1
    clock.advance(0.000_001)
    assert pool.held("recording") == 0
