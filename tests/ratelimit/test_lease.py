from __future__ import annotations

import fakeredis

from shared.ratelimit import LeasePool

from .conftest import FakeClock


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
