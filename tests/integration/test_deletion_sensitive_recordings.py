"""Sensitive recordings (PCI/PII flagged under sensitive-data redaction): a recording DELETE job skips
them unless its query includes them (``includeRecordingsWithSensitiveData``, default false), and what a
job skips stays on the platform. The client asks for them, and a job that still skips some (reported in
``totalSkippedRecordings``) leaves the request PARTIAL, never done."""

from __future__ import annotations

import json

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import running_stack, submit, wait_final

FAST = {"ERASURE_RECORDING_POLL_S": "0.1", "ERASURE_RECORDING_LEASE_TTL_S": "30"}


@pytest.fixture()
def sensitive_stack(tmp_path, redis_available):
    # Every recording is flagged sensitive: a job that does not ask for them deletes none.
    config = SimConfig(subjects=4, seed=1, gdpr_step_s=0.2, rate_limit=6000, sensitive_recording_share=1.0)
    with running_stack(tmp_path, redis_available, config, **FAST) as stack:
        yield stack


def live_recordings(stack, conversation_id: str) -> list[dict]:
    return httpx.get(f"{stack.sim_url}/_sim/recordings", params={"conversation_id": conversation_id}).json()["recordings"]


def recorded_subject(stack) -> tuple[dict, list[str]]:
    for subject in httpx.get(f"{stack.sim_url}/_sim/subjects").json():
        recorded = [c for c in subject["conversation_ids"] if live_recordings(stack, c)]
        if recorded:
            return subject, recorded
    raise AssertionError("no seeded subject has a recorded conversation")


def certificate(stack, request_id: str) -> dict:
    return json.loads(stack.runtime.redis.get(stack.runtime.keys.certificate(request_id)))


def test_sensitive_recordings_are_deleted_not_skipped(sensitive_stack):
    stack = sensitive_stack
    subject, recorded = recorded_subject(stack)
    [request_id] = submit(stack, [{"ticket": "SENS-1", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=60)
    assert states[request_id] is RequestState.COMPLETED

    assert [c for c in recorded if live_recordings(stack, c)] == []
    jobs = httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]
    assert jobs and all(j["state"] == "FULFILLED" and j["skipped_recordings"] == 0 for j in jobs)
    assert certificate(stack, request_id)["verification"]["ok"] is True


def test_skipped_recordings_make_the_request_partial(sensitive_stack):
    """Even asked, the organisation keeps its sensitive recordings from the job (e.g. the permission is
    missing): the job ends FULFILLED with skipped recordings, and the request must not end done."""
    stack = sensitive_stack
    httpx.post(f"{stack.sim_url}/_sim/config", json={"sensitive_always_skipped": True}).raise_for_status()
    subject, recorded = recorded_subject(stack)
    [request_id] = submit(stack, [{"ticket": "SENS-2", "emails": subject["emails"][:1], "approved_by": "dpo"}])
    states = wait_final(stack, [request_id], timeout_s=60)
    assert states[request_id] is RequestState.PARTIAL

    still = [c for c in recorded if live_recordings(stack, c)]
    assert still == recorded  # every recording was skipped, so every one remains
    jobs = httpx.get(f"{stack.sim_url}/_sim/recording-jobs").json()["jobs"]
    skipped = sum(j["skipped_recordings"] for j in jobs)
    assert skipped == sum(len(live_recordings(stack, c)) for c in recorded) > 0
    final = [e for e in stack.runtime.audit.entries_for(request_id) if e["event"] == "polling.recording_job_final"]
    assert sum(e["details"]["skipped_recordings"] for e in final) == skipped
    reason = stack.runtime.store.get(request_id).reason or ""
    assert f"{skipped} recording(s) were skipped" in reason
    assert "recording:recording:viewSensitiveData" in reason
    assert certificate(stack, request_id)["outcome"] == RequestState.PARTIAL.value
