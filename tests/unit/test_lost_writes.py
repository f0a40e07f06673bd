"""Exactly once when Redis loses its last writes: a redelivered deletion task whose ledger has *no entry*
for a GDPR_DELETE or a recording DELETE job the platform already has (a Redis killed with ``appendfsync
everysec`` loses up to a second of writes, a failover more) finds it on the platform and submits nothing
again (``services.deletion.gdpr_index``, ``shared.recording_jobs.find_unclaimed_job``).

The deletion task runs eagerly on fakeredis against the simulator in this process, through the project's
client. A lost write is simulated two ways: the ledger's record alone deleted (the request still in
DELETING), and the whole store put back to a moment before the batch (``tests.support.lost_writes``:
what a killed Redis comes back with, the index's marker and the claims reverting too).
"""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import start_in_thread

from services.deletion import tasks as deletion
from services.deletion.gdpr_index import GdprIndex
from shared import celery_app, pipeline
from shared.models import Approval, ErasureRecord, RequestState, Subject, utcnow
from tests.support.lost_writes import restore, snapshot
from tests.support.records import put_state


@pytest.fixture()
def sim():
    with start_in_thread(SimConfig(subjects=4, seed=3, gdpr_step_s=0.05, rate_limit=6000)) as running:
        yield running


@pytest.fixture()
def deleter(runtime, client, monkeypatch):
    """The deletion task, eager, on this runtime and the simulator; hand-overs to other pools dropped."""
    runtime.settings = runtime.settings.model_copy(update={"recording_poll_s": 0.02, "recording_ready_wait_s": 10.0})
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    monkeypatch.setattr(runtime, "genesys", lambda pool: client)
    monkeypatch.setattr(celery_app.app, "send_task", lambda *args, **kwargs: None)

    def erase(*request_ids):
        deletion.erase.apply(args=[list(request_ids)])

    return erase


def subjects(sim):
    return httpx.get(f"{sim.url}/_sim/subjects", timeout=30).json()


def deleting(runtime, subject, *, recordings=False, ticket=None):
    """A request for ``subject`` approved and in DELETING (with its conversations when ``recordings``)."""
    record = ErasureRecord(ticket=ticket or f"LOST-{subject['id']}", subject=Subject(emails=subject["emails"][:1]),
                           verified_at=utcnow(), state=RequestState.DELETING, approval=Approval(by="A. DPO"),
                           conversation_ids=list(subject["conversation_ids"]) if recordings else [])
    return runtime.store.create(record).request_id


def gdpr_deletes(sim, subject_id):
    stats = httpx.get(f"{sim.url}/_sim/stats", timeout=30).json()
    return sum(r["count"] for r in stats["gdpr_requests"] if r["requestType"] == "GDPR_DELETE" and r["subject"] == subject_id)


def recording_jobs(sim):
    return httpx.get(f"{sim.url}/_sim/recording-jobs", timeout=30).json()["jobs"]


def events(runtime, request_id):
    return [e["event"] for e in runtime.audit.entries_for(request_id)]


def gdpr_list_reads(sim):
    stats = httpx.get(f"{sim.url}/_sim/stats", timeout=30).json()
    return sum(r["count"] for r in stats["requests"] if r["method"] == "GET" and r["path"] == "/api/v2/gdpr/requests")


# --- GDPR_DELETE ---


def test_a_lost_ledger_record_of_a_submitted_request_submits_no_second_gdpr_delete(runtime, sim, deleter):
    first, other = subjects(sim)[:2]
    request_id = deleting(runtime, first)
    deleter(request_id)
    submitted = runtime.store.get(request_id).gdpr_request_ids
    assert gdpr_deletes(sim, first["id"]) == 1 and runtime.store.get(request_id).state is RequestState.POLLING
    deleter(deleting(runtime, other))  # a later batch: its sync moves the index's marker past ours

    runtime.redis.delete(runtime.keys.effect(request_id, deletion.GDPR_DELETE))  # the write Redis lost
    put_state(runtime, request_id, RequestState.DELETING)  # its move on lost as well: the task comes again
    deleter(request_id)

    assert gdpr_deletes(sim, first["id"]) == 1
    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING and record.gdpr_request_ids == submitted
    assert runtime.effects.get(request_id, deletion.GDPR_DELETE).platform_id == submitted[0]
    assert events(runtime, request_id).count("deletion.gdpr_request_submitted") == 1
    assert "deletion.gdpr_request_reconciled" in events(runtime, request_id)


def test_a_redis_that_lost_everything_since_before_the_batch_submits_no_second_gdpr_delete(runtime, sim, deleter):
    earlier, subject = subjects(sim)[:2]
    deleter(deleting(runtime, earlier))  # the index exists, its marker older than what follows
    request_id = deleting(runtime, subject)
    before = snapshot(runtime.redis)
    deleter(request_id)
    assert gdpr_deletes(sim, subject["id"]) == 1

    restore(runtime.redis, before)  # Redis restarted on an AOF that ends before this batch
    assert runtime.effects.get(request_id, deletion.GDPR_DELETE) is None
    reads = gdpr_list_reads(sim)
    deleter(request_id)

    assert gdpr_deletes(sim, subject["id"]) == 1
    assert runtime.store.get(request_id).state is RequestState.POLLING
    assert gdpr_list_reads(sim) - reads == 1  # from the surviving marker: one page
    assert "deletion.gdpr_request_reconciled" in events(runtime, request_id)


def test_a_first_gdpr_delete_costs_one_list_page_per_batch(runtime, sim, deleter):
    batch = [deleting(runtime, s) for s in subjects(sim)]
    reads = gdpr_list_reads(sim)

    deleter(*batch)

    assert gdpr_list_reads(sim) - reads == 1
    assert all(runtime.store.get(r).state is RequestState.POLLING for r in batch)
    index = GdprIndex(runtime.redis, runtime.keys.prefix)
    assert all(index.lookup(deletion.gdpr_request_name(r)) is None for r in batch)  # synced before they existed
    deleter(*batch)  # redelivered after the move on: every result is recorded, nothing is read
    assert gdpr_list_reads(sim) - reads == 1


# --- recording DELETE jobs ---


def subject_with_recordings(sim, client):
    for subject in subjects(sim):
        if any(client.conversation_recordings(c) for c in subject["conversation_ids"]):
            return subject
    raise AssertionError("the seeded organisation has no recorded conversation")


def keep_started_jobs_running(sim, client, monkeypatch):
    """A job started from now on stays PROCESSING (the simulator's step made long once it is started; the
    simulator deletes recordings only when a request sees the job past its step), so its recordings are
    still there when the task comes again: a redelivery after the job ended would find nothing left to
    delete, and no job to look for."""
    start = client.start_recording_job

    def start_and_hold(job_id):
        started = start(job_id)
        httpx.post(f"{sim.url}/_sim/config", json={"gdpr_step_s": 3600}, timeout=30).raise_for_status()
        return started

    monkeypatch.setattr(client, "start_recording_job", start_and_hold)


@pytest.mark.parametrize("loss", ["ledger record", "everything since the batch"])
def test_a_lost_recording_job_record_creates_no_second_job(runtime, sim, client, deleter, loss, monkeypatch):
    subject = subject_with_recordings(sim, client)
    request_id = deleting(runtime, subject, recordings=True)
    keep_started_jobs_running(sim, client, monkeypatch)
    before = snapshot(runtime.redis)
    deleter(request_id)
    [job] = recording_jobs(sim)
    assert runtime.store.get(request_id).recording_job_ids == [job["id"]] and job["state"] == "PROCESSING"

    if loss == "ledger record":
        for effect in ("recording_job:0:0", "recording_job:0:0:start"):
            runtime.redis.delete(runtime.keys.effect(request_id, effect))
        put_state(runtime, request_id, RequestState.DELETING)
    else:
        restore(runtime.redis, before)  # the intent, the claim and the start went with it
    deleter(request_id)

    assert [j["id"] for j in recording_jobs(sim)] == [job["id"]]
    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING and record.recording_job_ids == [job["id"]]
    assert runtime.effects.get(request_id, "recording_job:0:0").platform_id == job["id"]
    assert "deletion.recording_job_reconciled" in events(runtime, request_id)


def test_a_lost_ledger_record_submits_no_second_gdpr_delete_when_the_platform_drops_our_name(runtime, sim, deleter):
    """Reconciliation by what is certain: type, exact subject, created after the request arrived."""
    httpx.post(f"{sim.url}/_sim/config", json={"gdpr_echo_name": False}, timeout=30).raise_for_status()
    first, other = subjects(sim)[:2]
    request_id = deleting(runtime, first)
    deleter(request_id)
    submitted = runtime.store.get(request_id).gdpr_request_ids
    deleter(deleting(runtime, other))  # a later batch: its sync moves the index's marker past ours

    runtime.redis.delete(runtime.keys.effect(request_id, deletion.GDPR_DELETE))  # the write Redis lost
    put_state(runtime, request_id, RequestState.DELETING)
    deleter(request_id)

    assert gdpr_deletes(sim, first["id"]) == 1 and gdpr_deletes(sim, other["id"]) == 1
    assert runtime.store.get(request_id).gdpr_request_ids == submitted
    assert "deletion.gdpr_request_reconciled" in events(runtime, request_id)
