"""Redis Sentinel: a failover does not stop the system. A master, a replica and a sentinel of the test's
own (``tests.support.sentinel_group``, never the shared Redis); the project's settings name only the
sentinels, and ``redis_url`` points where nothing listens, so anything that ignored the sentinels fails."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis
from genesys_sim.config import SimConfig

from services.intake.submit import submit
from shared.celery_app import create_app
from shared.config import Settings
from shared.models import RequestState
from shared.runtime import Runtime
from shared.task_names import DISCOVER_TASK
from tests.support.sentinel_group import (
    DATA_PASSWORD,
    MASTER_NAME,
    SENTINEL_PASSWORD,
    SentinelGroup,
    require_redis_server,
)
from tests.support.stack import running_stack, wait_final, wait_until
from tests.support.stack import submit as submit_file

NOWHERE = "redis://127.0.0.1:1/0"
DB = 2  # not 0: the database setting must reach the store and the broker alike


@pytest.fixture()
def group(tmp_path) -> Iterator[SentinelGroup]:
    require_redis_server()
    started = SentinelGroup(tmp_path / "redis")
    try:
        started.start()
        yield started
    finally:
        started.stop()


def sentinel_env(group: SentinelGroup) -> dict[str, str]:
    return {"ERASURE_REDIS_SENTINELS": json.dumps(group.sentinels), "ERASURE_REDIS_SENTINEL_MASTER": MASTER_NAME,
            "ERASURE_REDIS_DB": str(DB), "ERASURE_REDIS_PASSWORD": DATA_PASSWORD,
            "ERASURE_REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD, "ERASURE_REDIS_URL": NOWHERE}


def sentinel_settings(group: SentinelGroup) -> Settings:
    return Settings(redis_sentinels=group.sentinels, redis_sentinel_master=MASTER_NAME, redis_db=DB,
                    redis_password=DATA_PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD, redis_url=NOWHERE,
                    key_prefix=f"st-{uuid.uuid4().hex[:10]}", hmac_key=secrets.token_hex(32))


def on_node(port: int) -> redis.Redis:
    """One data node read directly (the sentinels bypassed): where did the writes land?"""
    return redis.Redis(port=port, db=DB, password=DATA_PASSWORD, decode_responses=True, socket_timeout=5)


def payload(ticket: str) -> dict[str, object]:
    return {"ticket": ticket, "emails": [f"subject-{ticket.lower()}@example.test"], "approved_by": "it-dpo"}


def retrying(action, what: str, timeout_s: float = 30.0):
    """``action``'s result once it stops raising Redis' connection errors (the moments of the switch).
    ``action`` must be safe to repeat: an attempt may have written before its connection broke."""
    def attempt():
        try:
            return (action(),)
        except (redis.ConnectionError, redis.TimeoutError):
            return None
    return wait_until(attempt, timeout_s=timeout_s, interval_s=0.05, message=what)[0]


def submitted_once(runtime: Runtime, ticket: str):
    """The intake's write, repeatable: a retry after a broken connection finds the first attempt's record."""
    return runtime.store.find_by_ticket(ticket) or submit(runtime, payload(ticket), enqueue=False)


def test_store_and_producer_follow_the_master_through_a_failover(group):
    settings = sentinel_settings(group)
    runtime, producer = Runtime.from_settings(settings), create_app(settings)
    old = group.master_port()
    first = submit(runtime, payload("SEN-1"), enqueue=False)
    producer.send_task(DISCOVER_TASK, args=[[first.request_id]])
    queue = f"{settings.key_prefix}:celery:discovery"
    assert on_node(old).llen(queue) == 1 and on_node(old).exists(runtime.keys.request(first.request_id))

    new = group.failover()
    assert new != old

    # The same client objects, not rebuilt: they find the new master by themselves.
    second = retrying(lambda: submitted_once(runtime, "SEN-2"), "a write on the new master")
    producer.send_task(DISCOVER_TASK, args=[[second.request_id]])
    assert runtime.store.get(first.request_id).ticket == "SEN-1"  # replicated before the switch, still there
    landed = on_node(new)
    assert landed.exists(runtime.keys.request(second.request_id)) and landed.llen(queue) == 2
    assert on_node(old).execute_command("ROLE")[0] == "slave"  # demoted: a replica of the new master now
    assert [e["event"] for e in runtime.audit.entries()] == ["request.received"] * 2
    assert runtime.audit.verify().problem is None


def test_killing_the_master_costs_only_the_moment_the_switch_takes(group):
    settings = sentinel_settings(group)
    runtime = Runtime.from_settings(settings)
    first = submit(runtime, payload("SEN-K1"), enqueue=False)
    assert runtime.redis.execute_command("WAIT", 1, 5000) == 1  # on the replica too, as a settled write is

    new = group.kill_master()
    # Until the replica is promoted a write may fail with a connection error (the pools retry those); then it
    # works, through the same client.
    second = retrying(lambda: submitted_once(runtime, "SEN-K2"), "a write after the master died")
    assert runtime.store.get(first.request_id).ticket == "SEN-K1"  # the settled write survived the crash
    assert on_node(new).exists(runtime.keys.request(second.request_id))


def test_the_pools_erase_before_and_after_a_failover(group, tmp_path):
    """Four worker processes, configured with the sentinels only: requests are erased before a failover,
    and requests submitted after it are consumed and erased too, the workers still running."""
    config = SimConfig(subjects=4, seed=23, gdpr_step_s=0.1, rate_limit=6000)
    cleanup = Runtime.from_settings(sentinel_settings(group)).redis
    with running_stack(tmp_path, cleanup, config, concurrency=2, **sentinel_env(group)) as stack:
        subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        lines = [{"ticket": f"SEN-W{n}", "emails": s["emails"][:1], "approved_by": "it-dpo"}
                 for n, s in enumerate(subjects)]
        before = submit_file(stack, lines[:2])
        assert set(wait_final(stack, before).values()) == {RequestState.COMPLETED}

        old = group.master_port()
        new = group.failover()

        after = submit_file(stack, lines[2:])  # a new process: it asks the sentinels afresh
        assert set(wait_final(stack, after, timeout_s=60).values()) == {RequestState.COMPLETED}
        assert stack.workers.dead() == []
        # The new master holds the work done after the switch; the old one is its replica.
        landed = on_node(new)
        assert all(landed.exists(stack.runtime.keys.request(request_id)) for request_id in after)
        assert on_node(old).execute_command("ROLE")[0] == "slave"
        stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
        deletes = {r["subject"]: r["count"] for r in stats["gdpr_requests"] if r["requestType"] == "GDPR_DELETE"}
        assert deletes == {s["id"]: 1 for s in subjects}
