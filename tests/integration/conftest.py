"""Integration fixtures: the real Redis at 127.0.0.1:6379 and a stack of the simulator and real Celery
worker processes (``tests.support.stack``), isolated per test by a unique key prefix."""

from __future__ import annotations

import pytest
import redis
from genesys_sim.profiles import realistic

from tests.support.redis_required import require_redis
from tests.support.stack import REDIS_URL, running_stack


@pytest.fixture(scope="session")
def redis_available() -> redis.Redis:
    """The real Redis (``require_redis``: fails in CI, skips with the reason elsewhere)."""
    return require_redis(REDIS_URL)


@pytest.fixture()
def stack(tmp_path, redis_available):
    """The realistic organisation (``genesys_sim.profiles``): what these tests pass, a real one would too."""
    config = realistic(subjects=20, seed=7, gdpr_step_s=0.2, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, concurrency=4) as running:
        yield running
