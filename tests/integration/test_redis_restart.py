"""Redis SIGKILLed and restarted on its AOF under a running worker of each pool: every worker is still
the same running process afterwards, and they all still consume (new requests go through the four
pools to a final state). Run with both execution pools: prefork as production runs the workers, threads
as the demo and the tests do; each failed in its own way before (see pyproject's celery pin and the
connection-loss settings in ``shared.celery_app``).

Runs on a Redis of its own (``tests.support.private_redis``): the shared one at 6379 is never touched."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import redis
import redis.retry
from genesys_sim.config import SimConfig

from shared.config import POOLS
from shared.models import RequestState
from shared.redis_conn import RETRY_WAITS_S, get_redis
from tests.support.private_redis import PrivateRedis, require_redis_server
from tests.support.stack import running_stack, submit, wait_final, wait_until

BEFORE, AFTER = 8, 4
OUTAGE_S = 3.0
CLIENT_OUTAGE_S = 6.0
ENV = {"ERASURE_REQUIRE_APPROVAL": "false", "ERASURE_RECORDINGS": "deferred"}
# What a worker logs when it finds the broker gone: while consuming, or when it next tries to connect.
BROKER_GONE = ("Connection to broker lost", "Cannot connect to")
UNRECOVERABLE = "Unrecoverable error"


@pytest.fixture()
def private_redis(tmp_path):
    require_redis_server()
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def payloads(subjects: list[dict], tag: str) -> list[dict]:
    return [{"ticket": f"RR-{tag}-{n}", "emails": s["emails"][:1], "phones": s["phones"][:1]}
            for n, s in enumerate(subjects)]


def worker_logs(stack) -> dict[str, str]:
    return {pool: (stack.tmp / "logs" / f"worker-{pool}.log").read_text(errors="replace") for pool in POOLS}


def assert_all_running(stack, pids: dict[str, int]) -> None:
    """The same worker processes as before the outage, none exited or on its way out (a dead pool would
    leave its stage unconsumed, and a wait on requests would only time out without saying why)."""
    dead = {pool: stack.workers.processes[pool].returncode for pool in stack.workers.dead()}
    unrecoverable = sorted(pool for pool, log in worker_logs(stack).items() if UNRECOVERABLE in log)
    assert not dead and not unrecoverable, f"workers exited: {dead}, unrecoverable error in: {unrecoverable}"
    assert {pool: process.pid for pool, process in stack.workers.processes.items()} == pids


@pytest.mark.parametrize("worker_pool", ["prefork", "threads"])
def test_every_pool_survives_a_redis_kill_and_restart(tmp_path, private_redis, worker_pool):
    config = SimConfig(subjects=BEFORE + AFTER, seed=11, gdpr_step_s=0.3, rate_limit=6000)
    client = redis.Redis.from_url(private_redis.url)
    with running_stack(tmp_path, client, config, concurrency=2, worker_pool=worker_pool,
                       ERASURE_REDIS_URL=private_redis.url, **ENV) as stack:
        pids = {pool: process.pid for pool, process in stack.workers.processes.items()}
        assert set(pids) == set(POOLS)
        subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        first = submit(stack, payloads(subjects[:BEFORE], "before"))

        # Kill Redis while the first requests are being worked: some moved on, not all final.
        store = stack.runtime.store
        wait_until(lambda: any(s != RequestState.RECEIVED and not s.is_final for s in store.states(first).values()),
                   timeout_s=30, interval_s=0.05, message="a request to be in the middle of its work")
        private_redis.kill()
        killed_at = time.monotonic()
        # Redis stays away a few seconds, and every worker has seen it go (not an outage they slept through) ...
        wait_until(lambda: time.monotonic() - killed_at >= OUTAGE_S
                   and all(any(mark in log for mark in (*BROKER_GONE, UNRECOVERABLE)) for log in worker_logs(stack).values()),
                   timeout_s=30, message="every worker to find the broker gone")
        private_redis.start()
        assert_all_running(stack, pids)

        # ... and, with it back on its AOF, they all consume again: new subjects go through every pool.
        second = submit(stack, payloads(subjects[BEFORE:], "after"))

        def final_while_running():
            assert_all_running(stack, pids)
            states = store.states(second)
            return len(states) == len(second) and all(s.is_final for s in states.values())

        wait_until(final_while_running, timeout_s=40, message="the requests submitted after the restart to be final")
        states = wait_final(stack, second, timeout_s=20)
        assert set(states.values()) == {RequestState.COMPLETED}, states
        assert_all_running(stack, pids)


def test_the_project_client_waits_out_a_redis_restart(private_redis, monkeypatch):
    """A command sent while Redis is down is retried with backoff and goes through once it is back,
    instead of failing the task on the first refused connection."""
    client = get_redis(private_redis.url)
    assert client.set("rr:probe", "before")
    private_redis.kill()
    killed_at = time.monotonic()

    retrying = threading.Event()
    real_sleep = redis.retry.sleep

    def observed_sleep(seconds: float) -> None:
        retrying.set()
        real_sleep(seconds)

    monkeypatch.setattr(redis.retry, "sleep", observed_sleep)
    outcome: dict[str, object] = {}

    def write() -> None:
        started = time.monotonic()
        try:
            outcome["reply"] = client.set("rr:probe", "after")
        except redis.RedisError as exc:
            outcome["error"] = exc
        outcome["took_s"] = time.monotonic() - started

    writer = threading.Thread(target=write)
    writer.start()
    # Down longer than redis-py's default retries last (10 jittered waits of at most 5.3 s in all).
    wait_until(lambda: not writer.is_alive() or (retrying.is_set() and time.monotonic() - killed_at >= CLIENT_OUTAGE_S),
               timeout_s=20, message="the client to be retrying through the outage")
    assert writer.is_alive(), f"the client gave up while Redis was down: {outcome}"
    private_redis.start()
    writer.join(timeout=sum(RETRY_WAITS_S) + 10)
    assert not writer.is_alive()
    assert outcome.get("error") is None and outcome["reply"] is True, outcome
    assert client.get("rr:probe") == "after"
    assert outcome["took_s"] < sum(RETRY_WAITS_S), outcome
