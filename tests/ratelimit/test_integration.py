"""Several worker processes against the real Redis at 127.0.0.1:6379 (db 15, one key per test)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any, TypeAlias

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.ratelimit import BucketConfig, Decision, LeasePool, LimiterUnavailable, RateLimiter
from shared.ratelimit.keys import EPOCH_S, base, lease_set

from .conftest import REAL_REDIS_URL

pytestmark = pytest.mark.integration

ctx = mp.get_context("fork")
RealRedis = tuple[redis.Redis, str]
Q: TypeAlias = "Queue[Any]"  # a string: multiprocessing's Queue is not subscriptable at runtime


class RecordingLimiter(RateLimiter):
    """Keeps Redis's clock at every grant, as the script reported it."""

    grants: list[int]

    def try_acquire(self, pool: str = "default") -> Decision:
        decision = super().try_acquire(pool)
        if decision.granted:
            self.grants.append(decision.redis_time_us)
        return decision


def _limiter(key: str, config: BucketConfig) -> RecordingLimiter:
    limiter = RecordingLimiter(redis.Redis.from_url(REAL_REDIS_URL), key, config)
    limiter.grants = []
    return limiter


def _redis_now_us(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1_000_000 + int(micros)


def _join(procs: Sequence[BaseProcess]) -> None:
    """Join every child; one that hangs is killed (so pytest can exit) and fails the test."""
    try:
        for p in procs:
            p.join(timeout=20)
            assert p.exitcode == 0, f"worker exited with {p.exitcode}"
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(5)


# --- (a) concurrent acquirers never exceed rate x elapsed + burst -----------------------------


def _acquire_for(
    key: str, config: BucketConfig, pool: str, go: Event, until_us: Synchronized[int], out: Q
) -> None:
    limiter = _limiter(key, config)
    go.wait(10)
    while not limiter.grants or limiter.grants[-1] < until_us.value:
        limiter.acquire(pool, max_block_s=5)
    out.put(limiter.grants)


def test_processes_share_one_budget(real: RealRedis) -> None:
    client, key = real
    config = BucketConfig(rate_per_s=40, burst=4)
    go, out, until = ctx.Event(), ctx.Queue(), ctx.Value("q", 0)
    pools = ["discovery", "redaction", "deletion", "polling"]
    procs = [ctx.Process(target=_acquire_for, args=(key, config, p, go, until, out)) for p in pools]
    for p in procs:
        p.start()
    start = _redis_now_us(client)
    until.value = start + 1_500_000
    go.set()
    grants = sorted(t for _ in procs for t in out.get(timeout=20))
    _join(procs)

    interval = config.interval_us
    for i in range(len(grants)):
        for j in range(i, len(grants)):
            # Any window [t_i, t_j] holds at most burst + elapsed / interval grants.
            assert (j - i + 1) * interval <= config.burst * interval + (grants[j] - grants[i]), (i, j)
    elapsed = grants[-1] - start
    assert len(grants) >= 0.9 * (config.burst + elapsed / interval)  # and the budget is really used


# --- (b) a 429 seen by one process pauses the others ----------------------------------------


def _acquire_through_pause(
    key: str, config: BucketConfig, pool: str, ready: Event, paused: Event, out: Q
) -> None:
    limiter = _limiter(key, config)
    after = 0
    while after < 3:
        limiter.acquire(pool, max_block_s=5)
        if len(limiter.grants) == 3:
            ready.set()  # traffic is flowing: the other process may now see its 429
        if paused.is_set():
            after += 1
    out.put(limiter.grants)


def _report_429(key: str, config: BucketConfig, ready: Event, paused: Event, out: Q) -> None:
    client = redis.Redis.from_url(REAL_REDIS_URL)
    limiter = RateLimiter(client, key, config)
    ready.wait(10)
    before = _redis_now_us(client)
    limiter.on_rate_limited(1.0)
    after = _redis_now_us(client)
    paused.set()
    out.put((before, after))


def test_429_in_one_process_pauses_every_process(real: RealRedis) -> None:
    _, key = real
    config = BucketConfig(rate_per_s=20, burst=2)
    ready, paused, out, times = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
    acquirers = [
        ctx.Process(target=_acquire_through_pause, args=(key, config, pool, ready, paused, out))
        for pool in ("polling", "deletion")
    ]
    reporter = ctx.Process(target=_report_429, args=(key, config, ready, paused, times))
    for p in [*acquirers, reporter]:
        p.start()
    before, after = times.get(timeout=20)
    grants = sorted(t for _ in acquirers for t in out.get(timeout=20))
    _join([*acquirers, reporter])

    resumed = [t for t in grants if t > after]
    assert len(resumed) >= 4
    for k, t in enumerate(resumed, start=1):
        # Retry-After, then one request per interval: the k-th no earlier than k intervals later.
        assert t >= before + 1_000_000 + k * config.interval_us, k


# --- (c) leases: a killed holder's slot comes back, the limit holds under concurrency ------


def _hold_forever(key: str, out: Q, never: Event) -> None:
    pool = LeasePool(redis.Redis.from_url(REAL_REDIS_URL), key)
    out.put(pool.try_acquire("recording", 2, 1.0))
    never.wait(30)


def test_lease_of_a_killed_holder_comes_back_after_its_ttl(real: RealRedis) -> None:
    client, key = real
    out, never = ctx.Queue(), ctx.Event()
    holder = ctx.Process(target=_hold_forever, args=(key, out, never))
    holder.start()
    dead = out.get(timeout=10)
    assert dead is not None
    os.kill(holder.pid or 0, signal.SIGKILL)
    holder.join(10)
    assert holder.exitcode == -signal.SIGKILL

    pool = LeasePool(client, key)
    assert pool.try_acquire("recording", 2, 30) is not None
    assert pool.try_acquire("recording", 2, 30) is None  # the dead lease still counts
    expiry = int(client.zscore(lease_set(key, "recording"), dead) or 0) + EPOCH_S * 1_000_000
    time.sleep(max(0.0, (expiry - _redis_now_us(client)) / 1e6) + 0.01)  # waiting for the ttl is the test
    assert pool.try_acquire("recording", 2, 30) is not None
    assert pool.held("recording") == 2
    assert client.zscore(lease_set(key, "recording"), dead) is None


def _contend(key: str, go: Event, out: Q) -> None:
    client = redis.Redis.from_url(REAL_REDIS_URL)
    pool = LeasePool(client, key)
    holders = f"{base(key)}:test-holders"
    go.wait(10)
    deadline, acquired, most = time.monotonic() + 1.0, 0, 0
    while time.monotonic() < deadline:
        lease = pool.try_acquire("recording", 2, 5)
        if lease is None:
            time.sleep(0.001)
            continue
        acquired += 1
        most = max(most, int(client.incr(holders)))
        time.sleep(0.005)  # hold the slot while others try
        client.decr(holders)
        pool.release("recording", lease)
    out.put((acquired, most))


def test_lease_limit_holds_across_processes(real: RealRedis) -> None:
    _, key = real
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(key, go, out)) for _ in range(6)]
    for p in procs:
        p.start()
    go.set()
    results = [out.get(timeout=20) for _ in procs]
    _join(procs)
    assert sum(a for a, _ in results) > 20
    assert max(m for _, m in results) == 2


# --- (d) unreachable Redis fails closed ------------------------------------------------------


def test_unreachable_redis_fails_closed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    # No client-side retries: redis-py's default backoff would only make the refusal slower.
    client = redis.Redis(port=port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    limiter = RateLimiter(client, "unreachable", BucketConfig(rate_per_s=5))
    with pytest.raises(LimiterUnavailable):
        limiter.acquire("deletion")
    with pytest.raises(LimiterUnavailable):
        limiter.on_rate_limited(5)
    limiter.on_response_headers(  # best effort: logged, not raised
        {"inin-ratelimit-count": "300", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "5"}
    )
    with pytest.raises(LimiterUnavailable):
        LeasePool(client, "unreachable").try_acquire("recording", 2, 10)
