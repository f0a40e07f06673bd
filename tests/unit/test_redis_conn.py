"""The project's Redis client retries a refused connection with a bounded backoff (long enough to wait
out a Redis restart, short enough that a Redis that stays away fails the task), then raises."""

from __future__ import annotations

import pytest
import redis
import redis.connection
import redis.retry

from shared.redis_conn import RETRIES, RETRY_WAITS_S, get_redis


def test_a_refused_connection_is_retried_with_growing_waits_then_raised(monkeypatch):
    attempts: list[int] = []
    waits: list[float] = []

    def refuse(self):
        attempts.append(1)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(redis.connection.Connection, "_connect", refuse)
    monkeypatch.setattr(redis.retry, "sleep", waits.append)
    client = get_redis("redis://127.0.0.1:1/15")
    with pytest.raises(redis.ConnectionError):
        client.set("k", "v")
    assert len(attempts) == RETRIES + 1
    assert waits == list(RETRY_WAITS_S)
    assert waits == sorted(waits) and waits[0] <= 1.0
    # A restart (refused, then LOADING while the AOF is read) takes seconds; the budget covers it,
    # and a Redis that stays away still fails the call within a bound.
    assert 10.0 <= sum(waits) <= 20.0


def test_loading_after_a_restart_counts_as_a_connection_error():
    # What Redis answers while it reads its AOF back: retried like a refused connection.
    assert issubclass(redis.exceptions.BusyLoadingError, redis.ConnectionError)
