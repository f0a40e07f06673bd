"""The platform's "too many jobs" refusal, in either form it may take (400 or 429, unconfirmed), is a wait
for a slot by the one piece of work that asked: never a rate-limit pause for every worker of the
organisation and never a failure. The client runs against the simulator over HTTP with the real shared
limiter in Redis; the simulator's request counts show what was sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from genesys_sim.config import SimConfig

from services.discovery.details_jobs import run_details_job
from shared.errors import RunLater
from shared.genesys import BadRequest, RateLimited
from shared.recording_jobs import job_body
from tests.support.stack import Stack, running_stack

HELD_S = 30.0  # jobs stay PENDING (recording) or running (analytics) for longer than any test here
FORMS = ["429", "400"]
RECORDING_JOBS = "/api/v2/recording/jobs"
DETAILS_JOBS = "/api/v2/analytics/conversations/details/jobs"


@pytest.fixture()
def slots_stack(tmp_path, redis_available, request) -> Iterator[Stack]:
    config = SimConfig(subjects=3, seed=5, gdpr_step_s=HELD_S, rate_limit=6000, analytics_jobs_max=1,
                       analytics_job_s=HELD_S, job_slots_refusal=request.param)
    with running_stack(tmp_path, redis_available, config, pools=(), ERASURE_DETAILS_JOB_WAIT_S="0.3") as stack:
        yield stack


def _posts(stack: Stack, path: str) -> dict[int, int]:
    """POSTs the simulator answered on ``path``, by status."""
    stats = httpx.get(f"{stack.sim_url}/_sim/stats", params={"per_subject": "false"}).json()
    return {r["status"]: r["count"] for r in stats["requests"] if r["method"] == "POST" and r["path"] == path}


def _assert_nobody_paused(stack: Stack) -> None:
    assert stack.runtime.limiter.paused_for() < 1.0  # a 429 pause would hold the org bucket ~30 s
    other = stack.runtime.genesys("discovery")  # other work, another pool, goes on at once
    assert other.list_recording_jobs().entities is not None


def _recording_spec(conversation_id: str) -> dict:
    return {"conversation_ids": [conversation_id], "action_date": "2000-01-01T00:00:00.000Z",
            "interval": "2000-01-01T00:00:00.000Z/2100-01-01T00:00:00.000Z"}


@pytest.mark.parametrize("slots_stack", FORMS, indirect=True)
def test_a_third_recording_job_waits_without_pausing_other_work(slots_stack, request):
    stack = slots_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    body = job_body(_recording_spec(subject["conversation_ids"][0]))
    client = stack.runtime.genesys("deletion")
    client.create_recording_job(body)
    client.create_recording_job(body)

    with pytest.raises(RunLater) as waited:
        client.create_recording_job(body)

    assert not isinstance(waited.value, BadRequest | RateLimited)  # neither a failure nor a rate limit
    assert waited.value.defer_s >= 0
    refused = int(request.node.callspec.params["slots_stack"])
    assert _posts(stack, RECORDING_JOBS) == {200: 2, refused: 1}  # asked once, not retried into the cap
    _assert_nobody_paused(stack)


@pytest.mark.parametrize("slots_stack", FORMS, indirect=True)
def test_an_analytics_job_over_the_cap_waits_without_pausing_other_work(slots_stack, request):
    stack = slots_stack
    client = stack.runtime.genesys("discovery")
    start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    first = [{"type": "dimension", "dimension": "addressFrom", "value": "first@example.org"}]
    second = [{"type": "dimension", "dimension": "addressFrom", "value": "second@example.org"}]
    with pytest.raises(RunLater):  # the first job runs for HELD_S: its batch hands the worker back
        run_details_job(stack.runtime, client, first, start, end)

    with pytest.raises(RunLater) as waited:
        run_details_job(stack.runtime, client, second, start, end)

    assert not isinstance(waited.value, BadRequest | RateLimited)
    refused = int(request.node.callspec.params["slots_stack"])
    assert _posts(stack, DETAILS_JOBS) == {202: 1, refused: 1}  # the refused job was asked for once
    assert len(list(stack.runtime.redis.scan_iter(stack.runtime.keys.details_job("*")))) == 1  # no id kept for it
    _assert_nobody_paused(stack)
