"""Issue 21: a single request overtakes a bulk backlog. Bulk batches are queued before a worker starts; one
interactive request is submitted after them; the discovery worker (the standard command, one process,
concurrency 1) takes the interactive request first, and a resume re-drives each request in its own lane."""

from __future__ import annotations

import uuid

import httpx
from genesys_sim.config import SimConfig

from shared.celery_app import create_app
from shared.config import Settings
from shared.lanes import PRIORITY, queue_key
from shared.models import Lane, RequestState
from shared.store_gauges import compute
from shared.task_names import DISCOVER_TASK
from tests.support.stack import REDIS_URL, cleanup_prefix, running_stack, submit, wait_until

BULK_REQUESTS = 10


def test_an_interactive_request_overtakes_a_queued_bulk_backlog(tmp_path, redis_available):
    config = SimConfig(subjects=BULK_REQUESTS + 1, seed=21, gdpr_step_s=0.1, rate_limit=6000)
    # One request per message, so the bulk backlog is BULK_REQUESTS batches deep.
    with running_stack(tmp_path, redis_available, config, pools=(), ERASURE_BATCH_SIZE="1") as stack:
        runtime, prefix = stack.runtime, stack.env["ERASURE_KEY_PREFIX"]
        celery = f"{prefix}:celery:"
        subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        bulk = submit(stack, [{"ticket": f"BULK-{n}", "emails": s["emails"][:1], "approved_by": "it"}
                              for n, s in enumerate(subjects[:BULK_REQUESTS])])
        single = stack.cli("submit", "--ticket", "ONE-1", "--email", subjects[-1]["emails"][0], "--approved-by", "it")
        assert single.returncode == 0, single.stderr
        one = runtime.store.find_by_ticket("ONE-1").request_id

        # Each in its own list of the discovery queue, and the gauges see both.
        assert redis_available.llen(queue_key(celery, "discovery", Lane.BULK)) == BULK_REQUESTS
        assert redis_available.llen(queue_key(celery, "discovery", Lane.INTERACTIVE)) == 1
        assert {runtime.store.get(i).lane for i in bulk} == {Lane.BULK}
        assert runtime.store.get(one).lane is Lane.INTERACTIVE

        # A resume (a lost queue) re-drives every request in its record's lane: bulk stays bulk.
        resumed = stack.cli("resume")
        assert resumed.returncode == 0, resumed.stderr
        assert redis_available.llen(queue_key(celery, "discovery", Lane.BULK)) == 2 * BULK_REQUESTS
        assert redis_available.llen(queue_key(celery, "discovery", Lane.INTERACTIVE)) == 2
        assert compute(runtime.redis, runtime.keys).queue_lane_messages["discovery"] == {
            "interactive": 2, "bulk": 2 * BULK_REQUESTS}

        stack.workers.start("discovery", stack.env, tmp_path / "logs", concurrency=1)

        def single_moved_on():
            states = runtime.store.states([one, *bulk])
            if states[one] in (RequestState.RECEIVED, RequestState.DISCOVERING):
                return None
            return states

        states = wait_until(single_moved_on, timeout_s=60, interval_s=0.05, message="the single request's discovery")
        untouched = [i for i in bulk if states[i] is RequestState.RECEIVED]
        # FIFO would have discovered every bulk request first; the interactive lane is served first.
        assert len(untouched) >= BULK_REQUESTS // 2, states
        # ...and the backlog is still served, all of it, behind it.
        wait_until(lambda: all(s is not RequestState.RECEIVED for s in runtime.store.states(bulk).values()),
                   timeout_s=90, message="the bulk backlog to be discovered")


def test_a_message_put_back_keeps_its_lane(redis_available):
    """kombu restores a rejected (``Reject(requeue=True)``) or unacknowledged message by the priority in its
    payload: a bulk message goes back to the bulk list, never ahead of interactive work."""
    settings = Settings(hmac_key="k" * 32, redis_url=REDIS_URL, key_prefix=f"it-{uuid.uuid4().hex[:10]}")
    celery = f"{settings.key_prefix}:celery:"
    producer = create_app(settings)
    try:
        producer.send_task(DISCOVER_TASK, args=[["r1"]], priority=PRIORITY[Lane.BULK])  # as shared.lanes sends it
        bulk_list = queue_key(celery, "discovery", Lane.BULK)
        assert redis_available.llen(bulk_list) == 1
        with producer.connection_for_read() as connection:
            queue = connection.SimpleQueue("discovery", no_ack=False)
            message = queue.get(timeout=5)
            assert redis_available.llen(bulk_list) == 0  # taken: held in kombu's unacked hash
            message.reject(requeue=True)
            assert redis_available.llen(bulk_list) == 1
            assert redis_available.llen(queue_key(celery, "discovery", Lane.INTERACTIVE)) == 0
            queue.get(timeout=5)
            queue.consumer.channel.qos.restore_unacked()  # what a lost connection's restore does
            assert redis_available.llen(bulk_list) == 1
            queue.close()
    finally:
        cleanup_prefix(redis_available, settings.key_prefix)
