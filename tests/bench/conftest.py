"""The benchmark smoke runs start real processes against the Redis at 127.0.0.1:6379."""

from __future__ import annotations

import pytest

from tests.support.redis_required import DEFAULT_URL, require_redis


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The real Redis's URL (``require_redis``: fails in CI, skips with the reason elsewhere)."""
    require_redis(DEFAULT_URL)
    return DEFAULT_URL
