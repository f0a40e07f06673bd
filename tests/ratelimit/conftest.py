"""Fixtures: fakeredis on a controllable clock, and the real Redis on db 15 with per-test keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import fakeredis
import pytest
import redis
from fakeredis.commands_mixins import server_mixin

REAL_REDIS_URL = "redis://127.0.0.1:6379/15"


class FakeClock:
    """Stands in for the ``time`` module inside fakeredis's TIME command (and so Lua's TIME)."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(server_mixin, "time", fake)
    return fake


@pytest.fixture
def fake(clock: FakeClock) -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def real() -> Iterator[tuple[redis.Redis, str]]:
    """A client on db 15 and a key no other test uses; only that key's entries are deleted."""
    client = redis.Redis.from_url(REAL_REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    key = f"test-{uuid.uuid4().hex}"
    yield client, key
    for name in client.scan_iter(match=f"erasure:rl:{{{key}}}*"):
        client.delete(name)
    client.close()
