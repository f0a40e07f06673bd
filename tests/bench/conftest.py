"""The benchmark smoke runs start real processes against the Redis at 127.0.0.1:6379."""

from __future__ import annotations

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The real Redis's URL, or a clear failure naming how to start it."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail("the benchmark smoke tests need Redis at 127.0.0.1:6379 (make redis)")
    return REDIS_URL
