"""A hand-on survives a SIGKILL: the deletion worker is killed right after the first request of its batch
moved to POLLING and before the batch ended (where the message to the polling pool goes out). Restarted,
the redelivered batch hands that request on as well as finishing the other: every request ends without
``erasure resume``.

The crashing worker is ``tests.support.handoff_crash``: production code has no crash point."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import queued, running_stack, submit, wait_final, wait_until

# Short, so the killed worker's message comes back within seconds; a lock lives the task time limit.
VISIBILITY_S = 5
ENV = {"ERASURE_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S), "ERASURE_TASK_TIME_LIMIT_S": "3", "ERASURE_ACTIVE_REVISIT_S": "2",
       "ERASURE_RETRY_BACKOFF_CAP_S": "2", "ERASURE_DETAILS_JOB_WAIT_S": "1", "ERASURE_RECORDINGS": "deferred"}


@pytest.fixture()
def handoff_stack(tmp_path, redis_available):
    config = SimConfig(subjects=3, seed=4, gdpr_step_s=0.2, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction", "polling"), **ENV) as stack:
        yield stack


def redelivery_due(stack) -> bool:
    """The killed worker's deletion message is still held unacknowledged (nothing is lost with the worker)
    and its visibility timeout has passed: the next worker to look puts it back on its queue."""
    prefix = f"{stack.env['ERASURE_KEY_PREFIX']}:celery:"
    redis = stack.runtime.redis
    tags = [tag for tag, raw in redis.hgetall(prefix + "unacked").items() if json.loads(raw)[2] == "deletion"]
    if not tags:  # another pool's worker already put it back on its queue (each looks every second here)
        assert queued(stack, "deletion"), "the killed worker's deletion task is neither held nor queued"
        return True
    delivered = [redis.zscore(prefix + "unacked_index", tag) for tag in tags]
    return all(at is not None and at + VISIBILITY_S < time.time() for at in delivered)


def test_a_worker_killed_between_a_move_and_its_hand_on_strands_no_request(handoff_stack):
    """Issue 14, cause "a worker killed mid-batch strands requests": the state moved inside the batch loop,
    the next stage's message went out at batch end (``handing_on``); the redelivered batch loaded only the
    requests still in DELETING, so the one already in POLLING had no message and stayed there for good."""
    stack = handoff_stack
    subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[:2]
    deleter = stack.workers.start("deletion", stack.env, stack.tmp / "logs", concurrency=1,
                                  program=("-m", "tests.support.handoff_crash", "--crash-after-event", "deletion.submitted"))
    ids = submit(stack, [{"ticket": f"HAND-{n}", "emails": s["emails"][:1], "approved_by": "dpo"}
                         for n, s in enumerate(subjects)])

    wait_until(lambda: deleter.poll() is not None, timeout_s=60, message="the deletion worker to die mid-batch")
    assert deleter.returncode == -9
    states = stack.runtime.store.states(ids)
    assert sorted(states.values()) == sorted([RequestState.POLLING, RequestState.DELETING])  # one moved, one not

    # A starting worker puts back what waited past the visibility timeout: start it once that has come.
    wait_until(lambda: redelivery_due(stack), timeout_s=30, message="the visibility timeout of the killed batch")
    stack.workers.start("deletion", stack.env, stack.tmp / "logs", concurrency=1)
    final = wait_final(stack, ids, timeout_s=40)
    assert set(final.values()) == {RequestState.COMPLETED}
