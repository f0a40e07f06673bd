"""A Redis outage under a running task loses no message: Redis (a private one, AOF with ``appendfsync
everysec``) is SIGKILLed while the verify task waits on a slow platform call, and started again on the
same port and file. The task cannot write its result, cannot publish a retry, cannot forget its
delivery; its message must come back all the same, and the request finishes without ``erasure resume``.

The polling worker is ``tests.support.late_ack_worker``: its ack or reject of the failed task reaches
Redis once Redis is back (as a prefork main process's does after reconnecting), not by luck of timing.
"""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.private_redis import PrivateRedis, require_redis_server
from tests.support.stack import running_stack, submit, wait_final, wait_until

ENV = {"ERASURE_VISIBILITY_TIMEOUT_S": "8", "ERASURE_TASK_TIME_LIMIT_S": "6", "ERASURE_ACTIVE_REVISIT_S": "3",
       "ERASURE_RETRY_BACKOFF_CAP_S": "2", "ERASURE_DETAILS_JOB_WAIT_S": "1", "ERASURE_RECORDINGS": "deferred"}
#: Verification's last read of a request: the GDPR subject search for one of its identifiers.
PROBE = {"path": "/api/v2/gdpr/subjects", "method": "GET", "delay_s": 2.0}


@pytest.fixture
def private_redis(tmp_path):
    require_redis_server()
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def state(stack, request_id: str) -> RequestState:
    return stack.runtime.store.get(request_id).state


def logged(stack, pool: str, text: str) -> bool:
    path = stack.tmp / "logs" / f"worker-{pool}.log"
    return path.exists() and text in path.read_text(errors="replace")


def test_a_redis_outage_during_a_platform_call_loses_no_message(tmp_path, private_redis):
    """Issue 14, cause "a Redis outage deletes the task messages that were running": with Redis down,
    ``self.retry`` could not publish (Celery then rejects without requeue), the ``finally`` that forgets
    deliveries raised, the failure was acknowledged (``task_acks_on_failure_or_timeout``) and, once that
    reached Redis, the message was gone: the request stayed in VERIFYING with nothing to move it."""
    config = SimConfig(subjects=2, seed=1, gdpr_step_s=0.5, rate_limit=6000)
    with running_stack(tmp_path, private_redis.client(), config, pools=("discovery", "redaction", "deletion"),
                       concurrency=1, ERASURE_REDIS_URL=private_redis.url, **ENV) as stack:
        stack.workers.start("polling", stack.env, tmp_path / "logs", concurrency=1,
                            program=("-m", "tests.support.late_ack_worker"))
        subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
        [request_id] = submit(stack, [{"ticket": "OUTAGE-1", "emails": subject["emails"][:1], "approved_by": "dpo"}])
        wait_until(lambda: state(stack, request_id) is RequestState.POLLING, timeout_s=30, message="polling")
        assert httpx.post(f"{stack.sim_url}/_sim/faults", json=PROBE).status_code == 200

        # The slow call has begun once the simulator took its fault: Redis goes away under it...
        wait_until(lambda: not httpx.get(f"{stack.sim_url}/_sim/stats").json()["faults_pending"], timeout_s=30,
                   message="the verify task's slow platform call")
        assert state(stack, request_id) is RequestState.VERIFYING
        private_redis.kill()
        # ...and comes back (same port, same append-only file) once the task has ended without it.
        # The task first rides the outage out as production would (its Redis calls retry for about 15 s,
        # its retry's publish for about 16 s, shared.redis_conn and celery_app), then gives up.
        wait_until(lambda: logged(stack, "polling", "waits for Redis"), timeout_s=150,
                   message="the verify task to end while Redis is down")
        private_redis.start()

        states = wait_final(stack, [request_id], timeout_s=40)
        assert states[request_id] is RequestState.COMPLETED
        assert not stack.workers.dead()
