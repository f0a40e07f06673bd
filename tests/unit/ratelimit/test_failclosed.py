"""With Redis unreachable the limiter fails closed: nothing goes out unmetered, no slot is taken on trust.

The one exception is the header correction, made after a response already arrived: it is skipped with a
warning so that response is not lost.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import fakeredis
import pytest
import redis
from prometheus_client import REGISTRY
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.ratelimit import BucketConfig, LeasePool, LimiterUnavailable, RateLimiter
from tests.support.ratelimit_clock import FakeClock

SPENT = {"inin-ratelimit-count": "300", "inin-ratelimit-allowed": "300", "inin-ratelimit-reset": "5"}


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def down(clock: FakeClock) -> fakeredis.FakeRedis:
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server)
    server.connected = False  # every command now raises redis.ConnectionError
    return client


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
    limiter.on_response_headers(SPENT)  # best effort: logged, not raised
    with pytest.raises(LimiterUnavailable):
        LeasePool(client, "unreachable").try_acquire("recording", 2, 10)
    client.close()


def limiter_calls(limiter: RateLimiter) -> dict[str, Callable[[], object]]:
    return {
        "acquire": lambda: limiter.acquire("deletion", max_block_s=0),
        "try_acquire": lambda: limiter.try_acquire("polling"),
        "paused_for": limiter.paused_for,
        "on_rate_limited": lambda: limiter.on_rate_limited(3),
    }


def lease_calls(pool: LeasePool) -> dict[str, Callable[[], object]]:
    return {
        "try_acquire": lambda: pool.try_acquire("recording", 2, 10),
        "renew": lambda: pool.renew("recording", "lease-id", 10),
        "release": lambda: pool.release("recording", "lease-id"),
        "held": lambda: pool.held("recording"),
    }


@pytest.mark.parametrize("call", ["acquire", "try_acquire", "paused_for", "on_rate_limited"])
def test_every_limiter_call_refuses_and_is_counted(down: fakeredis.FakeRedis, call: str) -> None:
    limiter = RateLimiter(down, "client-down", BucketConfig(rate_per_s=5))
    before = metric("erasure_ratelimit_unavailable_total")
    with pytest.raises(LimiterUnavailable, match=r"^rate limiter Redis unavailable"):
        limiter_calls(limiter)[call]()
    assert metric("erasure_ratelimit_unavailable_total") == before + 1


@pytest.mark.parametrize("call", ["try_acquire", "renew", "release", "held"])
def test_every_lease_call_refuses_and_is_counted(down: fakeredis.FakeRedis, call: str) -> None:
    pool = LeasePool(down, "client-down")
    before = metric("erasure_ratelimit_unavailable_total")
    with pytest.raises(LimiterUnavailable, match=r"^lease Redis unavailable"):
        lease_calls(pool)[call]()
    assert metric("erasure_ratelimit_unavailable_total") == before + 1


def test_header_correction_is_skipped_with_a_warning(down: fakeredis.FakeRedis, caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(down, "client-down", BucketConfig(rate_per_s=5))
    pauses = metric("erasure_ratelimit_pauses_total", reason="headers")
    with caplog.at_level(logging.WARNING, logger="shared.ratelimit.limiter"):
        limiter.on_response_headers(SPENT)
    warnings = [r for r in caplog.records if r.name == "shared.ratelimit.limiter" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage().startswith("rate limiter: Redis unreachable")
    assert metric("erasure_ratelimit_pauses_total", reason="headers") == pauses
