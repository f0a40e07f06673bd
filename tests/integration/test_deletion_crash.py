"""Exactly once through SIGKILL: the deletion worker is killed right after the platform accepted a
GDPR_DELETE (and, on its second life, right after it accepted a recording job) and before the
platform's id was recorded. Restarted, the redelivered task reconciles against the platform's own
lists: the simulator shows exactly one GDPR_DELETE and one recording job, and the erasure completes.

The crashing worker is ``tests.support.crashing_worker``: production code has no crash point."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from genesys_sim.config import SimConfig

from services.deletion.tasks import GDPR_DELETE
from shared.models import RequestState
from tests.support.stack import queued, running_stack, sim_find, submit, wait_final, wait_until

VISIBILITY_S = 4
ENV = {"ERASURE_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S), "ERASURE_RECORDING_POLL_S": "0.1",
       "ERASURE_RECORDING_READY_WAIT_S": "1", "ERASURE_RECORDING_LEASE_TTL_S": "60",
       # Below the visibility timeout, as Settings requires.
       "ERASURE_TASK_TIME_LIMIT_S": "3", "ERASURE_ACTIVE_REVISIT_S": "2", "ERASURE_RETRY_BACKOFF_CAP_S": "2",
       "ERASURE_DETAILS_JOB_WAIT_S": "1"}


@pytest.fixture()
def crash_stack(tmp_path, redis_available):
    config = SimConfig(subjects=2, seed=1, gdpr_step_s=0.3, rate_limit=6000)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction", "polling"), **ENV) as stack:
        yield stack


@pytest.fixture()
def nameless_crash_stack(tmp_path, redis_available):
    """An organisation whose GDPR request answers leave out the ``name`` we gave (unconfirmed either way)."""
    config = SimConfig(subjects=2, seed=1, gdpr_step_s=0.3, rate_limit=6000, gdpr_echo_name=False)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction", "polling"), **ENV) as stack:
        yield stack


@pytest.fixture()
def history_crash_stack(tmp_path, redis_available):
    """An organisation that has erased before: three finished recording jobs of ours from 30 days ago, which
    the platform's default job order (``userId``) lists first."""
    config = SimConfig(subjects=2, seed=1, gdpr_step_s=0.3, rate_limit=6000, past_recording_jobs=3)
    with running_stack(tmp_path, redis_available, config, pools=("discovery", "redaction", "polling"), **ENV) as stack:
        yield stack


def start_deleter(stack, crash_after: str | None):
    """A deletion worker; with ``crash_after``, one that kills itself after that platform call (test harness)."""
    program = ("-m", "tests.support.crashing_worker", "--crash-after", crash_after) if crash_after else ("-m", "celery")
    return stack.workers.start("deletion", stack.env, stack.tmp / "logs", concurrency=1, program=program)


def killed(process, what: str) -> None:
    wait_until(lambda: process.poll() is not None, timeout_s=60, message=f"the worker to die at {what}")
    assert process.returncode == -9, process.returncode


def effect(stack, request_id: str, name: str):
    return stack.runtime.effects.get(request_id, name)


def redelivery_due(stack) -> bool:
    """Kombu's Redis transport keeps a delivered, unacknowledged message in ``unacked`` (tag -> [message,
    exchange, routing key]) and ``unacked_index`` (tag -> delivery time); a consumer puts it back on its
    queue once the visibility timeout has passed since that delivery, and a starting worker looks once.
    True when that moment has come for the deletion task the killed worker held, which must still be
    there (nothing is lost with the worker)."""
    prefix = f"{stack.env['ERASURE_KEY_PREFIX']}:celery:"
    redis = stack.runtime.redis
    tags = [tag for tag, raw in redis.hgetall(prefix + "unacked").items() if json.loads(raw)[2] == "deletion"]
    if not tags:  # another pool's worker already put it back on its queue (each looks every second here)
        assert queued(stack, "deletion"), "the killed worker's deletion task is neither held nor queued"
        return True
    delivered = [redis.zscore(prefix + "unacked_index", tag) for tag in tags]
    return all(at is not None and at + VISIBILITY_S < time.time() for at in delivered)


def platform_counts(stack, subject_id: str) -> tuple[int, int]:
    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    gdpr = sum(r["count"] for r in stats["gdpr_requests"]
               if r["requestType"] == "GDPR_DELETE" and r["subject"] == subject_id)
    jobs = httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]
    return gdpr, len(jobs)


def test_sigkill_between_platform_call_and_recorded_id_submits_nothing_twice(crash_stack):
    stack = crash_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    deleter = start_deleter(stack, "gdpr_delete")
    [request_id] = submit(stack, [{"ticket": "CRASH-1", "emails": subject["emails"][:1], "approved_by": "dpo"}])

    # First life: killed after POST /gdpr/requests returned, before its id was recorded.
    killed(deleter, "gdpr_delete")
    assert effect(stack, request_id, GDPR_DELETE).state == "intent"
    assert effect(stack, request_id, GDPR_DELETE).platform_id is None
    assert platform_counts(stack, subject["id"]) == (1, 0)

    # Redis redelivers the unacknowledged task once the visibility timeout has passed.
    wait_until(lambda: redelivery_due(stack), timeout_s=60, message="the visibility timeout of the killed task")
    deleter = start_deleter(stack, "recording_job")
    # Second life: reconciles the GDPR request, then is killed after POST /recording/jobs returned.
    killed(deleter, "recording_job")
    gdpr = effect(stack, request_id, GDPR_DELETE)
    assert gdpr.state == "done" and gdpr.platform_id
    assert effect(stack, request_id, "recording_job:0:0").platform_id is None
    assert platform_counts(stack, subject["id"]) == (1, 1)

    wait_until(lambda: redelivery_due(stack), timeout_s=60, message="the visibility timeout of the killed task")
    start_deleter(stack, None)
    states = wait_final(stack, [request_id], timeout_s=60)
    assert states[request_id] is RequestState.COMPLETED

    assert platform_counts(stack, subject["id"]) == (1, 1)  # exactly one of each, ever
    [job] = httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]
    assert job["state"] == "FULFILLED"
    assert effect(stack, request_id, "recording_job:0:0").platform_id == job["id"]
    assert stack.runtime.store.get(request_id).gdpr_request_ids == [gdpr.platform_id]
    events = [e["event"] for e in stack.runtime.audit.entries_for(request_id)]
    assert "deletion.gdpr_request_reconciled" in events and "deletion.recording_job_reconciled" in events
    assert "deletion.gdpr_request_submitted" not in events  # the first life never got to record it
    assert sim_find(stack, subject["emails"] + subject["phones"]) == []


def gdpr_listed(stack) -> list[dict]:
    """The platform's GDPR requests as its API answers them (newest first)."""
    with stack.platform_api() as api:
        return list(api.get("/api/v2/gdpr/requests").json()["entities"])


def test_a_crash_after_the_gdpr_delete_submits_no_second_one_when_the_platform_drops_our_name(nameless_crash_stack):
    """Reconciliation does not rest on the platform echoing our name: the GDPR_DELETE is found again by
    its type, its exact subject and its creation after the request arrived."""
    stack = nameless_crash_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    before = gdpr_listed(stack)
    deleter = start_deleter(stack, "gdpr_delete")
    [request_id] = submit(stack, [{"ticket": "CRASH-NAMELESS", "emails": subject["emails"][:1], "approved_by": "dpo"}])

    killed(deleter, "gdpr_delete")
    assert effect(stack, request_id, GDPR_DELETE).platform_id is None
    assert platform_counts(stack, subject["id"]) == (1, 0)
    entries = gdpr_listed(stack)
    assert len(entries) == len(before) + 1 and all("name" not in e for e in entries)  # the platform dropped it

    wait_until(lambda: redelivery_due(stack), timeout_s=60, message="the visibility timeout of the killed task")
    start_deleter(stack, None)
    states = wait_final(stack, [request_id], timeout_s=60)

    assert platform_counts(stack, subject["id"])[0] == 1  # one GDPR_DELETE, ever
    record = stack.runtime.store.get(request_id)
    assert states[request_id] is RequestState.COMPLETED, (record.reason, record.verification)
    gdpr = effect(stack, request_id, GDPR_DELETE)
    assert gdpr.state == "done" and stack.runtime.store.get(request_id).gdpr_request_ids == [gdpr.platform_id]
    assert entries[0]["id"] == gdpr.platform_id
    events = [e["event"] for e in stack.runtime.audit.entries_for(request_id)]
    assert "deletion.gdpr_request_reconciled" in events and "deletion.gdpr_request_submitted" not in events


def test_a_crashed_recording_job_is_found_behind_older_jobs_whatever_the_default_order(history_crash_stack):
    """Issue 15 item 3: the job list is sorted by ``userId`` unless the client asks for ``dateCreated``, so
    a client that reads it as newest first meets a month-old job of ours first, concludes its new job is
    not listed and submits a second one (taking one of the organisation's two job slots)."""
    stack = history_crash_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    past = len(httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"])
    assert past == 3
    deleter = start_deleter(stack, "recording_job")
    [request_id] = submit(stack, [{"ticket": "CRASH-H", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    killed(deleter, "recording_job")
    assert effect(stack, request_id, "recording_job:0:0").platform_id is None
    assert platform_counts(stack, subject["id"]) == (1, past + 1)

    wait_until(lambda: redelivery_due(stack), timeout_s=60, message="the visibility timeout of the killed task")
    start_deleter(stack, None)
    assert wait_final(stack, [request_id], timeout_s=60)[request_id] is RequestState.COMPLETED
    assert platform_counts(stack, subject["id"]) == (1, past + 1)  # the crashed job adopted, none added
    events = [e["event"] for e in stack.runtime.audit.entries_for(request_id)]
    assert "deletion.recording_job_reconciled" in events
    assert sim_find(stack, subject["emails"] + subject["phones"]) == []
