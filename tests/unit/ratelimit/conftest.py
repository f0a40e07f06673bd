"""Fixtures: fakeredis with Redis's TIME and key expiry driven by a controllable clock.

Nothing here needs a Redis server: the multi-process proofs against the real Redis live in
tests/integration/test_ratelimit_processes.py.
"""

from __future__ import annotations

import fakeredis
import pytest

from tests.support.ratelimit_clock import FakeClock, install_fake_clock

__all__ = ["FakeClock"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_fake_clock(monkeypatch)


@pytest.fixture
def fake(clock: FakeClock) -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()
