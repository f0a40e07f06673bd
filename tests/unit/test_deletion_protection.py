"""The simulator's recording deletion protection, read and honoured through the project's client; the
reconciliation rule that recognises our recording job in the platform's list."""

from __future__ import annotations

import time

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import start_in_thread

from shared.genesys import BadRequest
from shared.genesys.models import RecordingJob
from shared.recording_jobs import is_our_job, job_body, job_conversation_ids, reconcile_recording_job

ALL_TIME = "2000-01-01T00:00:00.000Z/2100-01-01T00:00:00.000Z"


@pytest.fixture()
def sim():
    running = start_in_thread(SimConfig(subjects=3, seed=11, gdpr_step_s=0.2, rate_limit=6000))
    yield running
    running.stop()


def recorded(sim, client, count):
    subjects = httpx.get(f"{sim.url}/_sim/subjects").json()
    ids = [cid for s in subjects for cid in s["conversation_ids"] if client.conversation_recordings(cid)]
    assert len(ids) >= count
    return ids[:count]


def spec_for(ids, action_date="2026-01-02T03:04:05.678Z"):
    return {"conversation_ids": ids, "interval": ALL_TIME, "action_date": action_date}


def wait_state(client, job_id, *states, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get_recording_job(job_id)
        if job.state in states:
            return job
        assert time.monotonic() < deadline, f"job stayed {job.state}"
        time.sleep(0.05)


def test_protection_is_read_and_a_delete_job_leaves_protected_recordings(sim, client):
    held, free = recorded(sim, client, 2)
    assert client.protected_conversations([held, free]) == set()
    client.set_deletion_protection([held], protect=True)
    assert client.protected_conversations([held, free]) == {held}

    job = client.create_recording_job(job_body(spec_for([held, free])))
    assert job.state == "PENDING" and job_conversation_ids(job) == {held, free}
    wait_state(client, job.id, "READY")
    client.start_recording_job(job.id)
    with pytest.raises(BadRequest):
        client.start_recording_job(job.id)  # only a READY job can be started
    done = wait_state(client, job.id, "FULFILLED")

    assert done.total_failed_recordings == 1
    failed = client.failed_recordings(job.id).entities
    assert [(f.conversation.id, f.recording.id) for f in failed] == [
        (held, r.id) for r in client.conversation_recordings(held)]
    assert client.conversation_recordings(free) == []
    assert client.conversation_recordings(held)  # protected: still there

    client.set_deletion_protection([held], protect=False)
    assert client.protected_conversations([held]) == set()
    timeline = httpx.get(f"{sim.url}/_sim/recording-jobs").json()["jobs"]
    assert [j["id"] for j in timeline] == [job.id] and timeline[0]["failed_recordings"] == 1


def test_protection_requests_are_validated(sim, client):
    token = client._tokens.token()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{sim.url}/api/v2/recordings/deletionprotection"
    assert httpx.post(url, json={"conversationIds": []}, headers=headers).status_code == 400
    assert httpx.post(url, json={"conversationIds": ["x"] * 101}, headers=headers).status_code == 400
    assert httpx.put(url, json={"conversationIds": ["x"]}, headers=headers).status_code == 400  # protect missing
    answer = httpx.put(url, params={"protect": "true"}, json={"conversationIds": ["no-such"]}, headers=headers)
    assert answer.status_code == 200 and answer.json()["failedUpdates"][0]["conversation"]["id"] == "no-such"


def test_our_job_is_recognised_by_its_conversations_and_action_date(sim, client):
    a, b = recorded(sim, client, 2)
    ours = spec_for([a, b], "2026-01-02T03:04:05.678Z")
    theirs = spec_for([a, b], "2026-01-02T03:04:05.679Z")  # same conversations, another moment
    other = client.create_recording_job(job_body(theirs))
    assert reconcile_recording_job(client, ours) is None  # never someone else's job
    wait_state(client, other.id, "READY")
    client.start_recording_job(other.id)
    wait_state(client, other.id, "FULFILLED")
    mine = client.create_recording_job(job_body(ours))
    assert reconcile_recording_job(client, ours) == mine.id

    job = RecordingJob.model_validate({"id": "j", "state": "PENDING", "recordingJobsQuery": job_body(ours)})
    assert is_our_job(job, ours)
    assert not is_our_job(job, spec_for([a], ours["action_date"]))  # another conversation set
    assert not is_our_job(job.model_copy(update={"recording_jobs_query": {**job_body(ours), "action": "ARCHIVE"}}), ours)
