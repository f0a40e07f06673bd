"""The one rule for tests that need the real Redis at 127.0.0.1:6379.

In CI (``CI`` set, as ``.ci/run`` does) a missing Redis fails the test loudly: a green run must mean the
test ran. Outside CI it skips with the reason, so a laptop without Redis still runs the fast tiers.
"""

from __future__ import annotations

import os

import pytest
import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_redis(url: str = DEFAULT_URL) -> redis.Redis:
    """A connected client on ``url``; fails in CI, skips elsewhere, when nothing answers."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        reason = f"needs Redis at {url.rsplit('@', 1)[-1]} (make redis starts it)"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return client
