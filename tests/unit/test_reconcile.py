"""Exactly once across a lost answer: the deletion task reconciles an intent without a result against
the platform's own list before it would create anything again (README, "Exactly once").

The deletion task runs eagerly on fakeredis against a fake platform. A creating call whose answer is
lost (timeout) raises ``TransportError`` after the platform acted; the task's retry then finds the
intent in the ledger and searches the list. If the list cannot be searched to its end within the
page limit, the request fails for a person to check, and nothing is created a second time.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from services.deletion import tasks as deletion
from services.deletion.gdpr_index import GDPR_RECONCILE_PAGES
from shared import celery_app, pipeline, recording_jobs
from shared.genesys import Conflict, JobSlotsFull, TransportError
from shared.genesys.models import (
    BulkItemResult,
    GdprRequest,
    GdprRequestListing,
    Recording,
    RecordingJob,
    RecordingJobListing,
    User,
)
from shared.models import Approval, ErasureRecord, RequestState, Subject, utcnow
from shared.recording_jobs import LEASE_NAME, lease_pool
from tests.support.records import put_state

PAGE = 100


def iso_ms(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class FakePlatform:
    """The GenesysClient calls the deletion task makes, over lists kept newest first.

    ``lose_answer`` makes the next creating call act on the platform and then time out
    (``lose_user_answer``: the next user DELETE, which comes after the GDPR_DELETE);
    ``newer_after_ours`` is how many other clients' entries arrive right after ours;
    ``endless`` makes every list page full of others' entries and always announce another page
    (``endless_after_create``: from the first GDPR request made on).
    """

    def __init__(self):
        self.gdpr: list[GdprRequest] = []
        self.jobs: list[RecordingJob] = []
        self.gdpr_created: list[str | None] = []
        self.jobs_created: list[dict] = []
        self.pages_read: list[tuple[str, int]] = []
        self.lose_answer = False
        self.lose_user_answer = False
        self.lose_nth_gdpr_answer: int | None = None  # the n-th GDPR request's answer is lost
        self.calls: list[str] = []
        self.newer_after_ours = 0
        self.endless = False
        self.endless_after_create = False
        self.users = {"u-1": User(id="u-1", name="Former Agent", state="inactive")}
        self.users_deleted: list[str] = []
        self._ids = itertools.count(1)

    # external contacts (recorded in ``calls`` with the GDPR requests, to see their order)
    def delete_contacts_bulk(self, contact_ids):
        self.calls += [f"delete contact {c}" for c in contact_ids]
        return {c: BulkItemResult(id=c, success=True, status=200) for c in contact_ids}, {}

    # GDPR requests
    def create_gdpr_request(self, request_type, subject, *, name=None):
        self.gdpr_created.append(name)
        self.calls.append(f"gdpr {subject.external_contact_id}")
        if len(self.gdpr_created) == self.lose_nth_gdpr_answer:
            self.lose_answer = True
        ours = GdprRequest(id=f"gdpr-{next(self._ids)}", name=name, requestType=request_type, status="INITIATED",
                           createdDate=iso_ms(utcnow()))
        self.gdpr.insert(0, ours)
        for _ in range(self.newer_after_ours):
            self.gdpr.insert(0, GdprRequest(id=f"other-{next(self._ids)}", name="someone-else", requestType="GDPR_EXPORT",
                                            status="COMPLETED", createdDate=iso_ms(utcnow())))
        if self.endless_after_create:
            self.endless = True
        return self._answer(ours)

    def list_gdpr_requests(self, page_number=1, page_size=PAGE):
        self.pages_read.append(("gdpr", page_number))
        if self.endless:
            now = iso_ms(utcnow())
            others = [GdprRequest(id=f"x-{page_number}-{n}", name="someone-else", requestType="GDPR_DELETE",
                                  status="COMPLETED", createdDate=now) for n in range(page_size)]
            return GdprRequestListing(entities=others, pageNumber=page_number, pageCount=page_number + 1)
        start = (page_number - 1) * page_size
        return GdprRequestListing(entities=self.gdpr[start:start + page_size], pageNumber=page_number,
                                  pageCount=-(-len(self.gdpr) // page_size))

    # recording jobs
    def conversation_recordings(self, conversation_id):
        return [Recording(id=f"rec-{conversation_id}", conversationId=conversation_id)]

    def protected_conversations(self, conversation_ids):
        return set()

    def get_conversation_details(self, conversation_ids):
        return []  # no end dates known: none is recent, the jobs alone delete the recordings

    def create_recording_job(self, query):
        self.jobs_created.append(dict(query))
        ours = RecordingJob(id=f"job-{next(self._ids)}", state="READY", recordingJobsQuery=dict(query),
                            dateCreated=iso_ms(utcnow()))
        self.jobs.insert(0, ours)
        for _ in range(self.newer_after_ours):
            self.jobs.insert(0, self._other_job())
        return self._answer(ours)

    def list_recording_jobs(self, page_number=1, page_size=PAGE, state=None):
        self.pages_read.append(("jobs", page_number))
        if self.endless:
            now = iso_ms(utcnow())
            return RecordingJobListing(entities=[self._other_job(now) for _ in range(page_size)], pageNumber=page_number,
                                       pageCount=page_number + 1)
        start = (page_number - 1) * page_size
        return RecordingJobListing(entities=self.jobs[start:start + page_size], pageNumber=page_number,
                                   pageCount=-(-len(self.jobs) // page_size))

    def get_recording_job(self, job_id):
        return next((j for j in self.jobs if j.id == job_id), None)

    def start_recording_job(self, job_id):
        job = self.get_recording_job(job_id)
        job.state = "PROCESSING"
        return job

    # users
    def get_user(self, user_id):
        return self.users.get(user_id)

    def delete_user(self, user_id):
        self.users_deleted.append(user_id)
        gone = self.users.pop(user_id, None) is not None
        if self.lose_user_answer:
            self.lose_user_answer = False
            raise TransportError("DELETE /api/v2/users/u-1: timed out")
        return gone

    def _other_job(self, created=None):
        return RecordingJob(id=f"other-{next(self._ids)}", state="FULFILLED", dateCreated=created or iso_ms(utcnow()),
                            recordingJobsQuery={"action": "DELETE", "actionDate": iso_ms(utcnow()),
                                                "conversationQuery": {"conversationFilters": [{"predicates": [
                                                    {"dimension": "conversationId", "value": "someone-elses"}]}]}})

    def _answer(self, created):
        if self.lose_answer:
            self.lose_answer = False  # the platform acted; its answer never arrived
            raise TransportError("POST: timed out")
        return created


@pytest.fixture
def platform(runtime, monkeypatch):
    fake = FakePlatform()
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    monkeypatch.setattr(runtime, "genesys", lambda pool: fake)
    monkeypatch.setattr(celery_app.app, "send_task", lambda *args, **kwargs: None)
    yield fake


def deleting(runtime, *, conversations=(), user_id=None, ticket="DSAR-R"):
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=["jane.doe@example.org"], user_id=user_id),
                           verified_at=utcnow(), state=RequestState.DELETING, approval=Approval(by="A. DPO"),
                           conversation_ids=list(conversations))
    return runtime.store.create(record).request_id


def erase(request_id, **options):
    deletion.erase.apply(args=[[request_id]], **options)


def events(runtime, request_id):
    return [e["event"] for e in runtime.audit.entries_for(request_id)]


# --- the GDPR_DELETE: reconciled by its name, erasure-<request id> ---

def test_a_lost_answer_is_reconciled_on_page_two_without_a_second_request(runtime, platform):
    request_id = deleting(runtime)
    platform.lose_answer = True
    platform.newer_after_ours = PAGE + 20  # others' requests push ours onto the second page

    erase(request_id)

    assert platform.gdpr_created == [deletion.gdpr_request_name(request_id)]  # one creating call in all
    ours = next(r.id for r in platform.gdpr if r.name == f"erasure-{request_id}")
    assert ("gdpr", 2) in platform.pages_read
    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING and record.gdpr_request_ids == [ours]
    assert runtime.effects.get(request_id, deletion.GDPR_DELETE).platform_id == ours
    assert "deletion.gdpr_request_reconciled" in events(runtime, request_id)
    assert "deletion.gdpr_request_submitted" not in events(runtime, request_id)


def test_a_call_that_never_reached_the_platform_is_made_again_after_a_complete_search(runtime, platform):
    request_id = deleting(runtime)
    runtime.effects.record_intent(request_id, deletion.GDPR_DELETE)  # a worker died before its call went out
    now = iso_ms(utcnow())
    platform.gdpr = [GdprRequest(id=f"o-{n}", name="someone-else", requestType="GDPR_DELETE", status="COMPLETED",
                                 createdDate=now) for n in range(PAGE + 5)]

    erase(request_id)

    assert [p for kind, p in platform.pages_read if kind == "gdpr"] == [1, 2]  # to the end, then no further
    assert platform.gdpr_created == [f"erasure-{request_id}"]
    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING and record.gdpr_request_ids == [platform.gdpr[0].id]


def test_a_list_that_cannot_be_searched_to_its_end_fails_the_request_and_creates_nothing_again(runtime, platform):
    request_id = deleting(runtime)
    platform.lose_answer = True
    platform.endless_after_create = True

    erase(request_id)

    assert platform.gdpr_created == [f"erasure-{request_id}"]  # the lost call only
    assert max(p for kind, p in platform.pages_read if kind == "gdpr") == GDPR_RECONCILE_PAGES
    record = runtime.store.get(request_id)
    assert record.state is RequestState.FAILED
    assert f"searched {GDPR_RECONCILE_PAGES} pages of the platform's list without reaching its end" in record.reason
    assert "check the platform" in record.reason
    assert runtime.effects.get(request_id, deletion.GDPR_DELETE).platform_id is None  # still unknown: not made up

    erase(request_id)  # a later delivery of the same batch
    assert platform.gdpr_created == [f"erasure-{request_id}"]


def test_the_id_found_once_is_used_by_every_later_delivery(runtime, platform):
    request_id = deleting(runtime)
    platform.lose_answer = True
    erase(request_id)
    reads = len(platform.pages_read)
    # A later delivery that finds it still in DELETING, as if its worker died after the platform call
    # and before the move to POLLING. No move leads back there, so the state is written raw.
    put_state(runtime, request_id, RequestState.DELETING)

    erase(request_id)

    assert len(platform.pages_read) == reads  # the ledger has the id: no second search
    assert platform.gdpr_created == [f"erasure-{request_id}"]


def test_each_contacts_gdpr_delete_is_made_once_and_before_any_contact_is_deleted(runtime, platform):
    """Two contacts, two GDPR_DELETEs (issue 15, item 5); the second one's answer is lost: the redelivery
    finds it by its own name and submits nothing twice, and the contacts go only after both."""
    record = ErasureRecord(ticket="DSAR-2C", subject=Subject(emails=["jane.doe@example.org"]),
                           identity=Subject(emails=["jane.doe@example.org"], external_contact_ids=["c-a", "c-b"],
                                            cookie_ids=["k-a", "k-b"]),
                           verified_at=utcnow(), state=RequestState.DELETING, approval=Approval(by="A. DPO"))
    request_id = runtime.store.create(record).request_id
    platform.lose_nth_gdpr_answer = 2

    erase(request_id)

    assert len(platform.gdpr_created) == 2 == len(set(platform.gdpr_created))
    assert platform.calls == ["gdpr c-a", "gdpr c-b", "delete contact c-a", "delete contact c-b"]
    stored = runtime.store.get(request_id)
    assert stored.state is RequestState.POLLING
    assert sorted(stored.gdpr_request_ids) == sorted(r.id for r in platform.gdpr)
    assert "deletion.gdpr_request_reconciled" in events(runtime, request_id)


# --- recording DELETE jobs: reconciled by their query (conversation ids and actionDate) ---

def test_a_lost_recording_job_is_found_on_page_two_and_started_not_created_again(runtime, platform):
    request_id = deleting(runtime, conversations=["c-1", "c-2"])
    platform.newer_after_ours = PAGE + 3
    original = platform.create_recording_job

    def lose_once(query):
        platform.lose_answer = True
        platform.create_recording_job = original
        return original(query)

    platform.create_recording_job = lose_once

    erase(request_id)

    assert len(platform.jobs_created) == 1
    ours = next(j for j in platform.jobs if j.recording_jobs_query == platform.jobs_created[0])
    assert ("jobs", 2) in platform.pages_read
    assert ours.state == "PROCESSING"  # adopted and started
    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING and record.recording_job_ids == [ours.id]
    assert set(record.recording_conversation_ids) == {"c-1", "c-2"}
    assert "deletion.recording_job_reconciled" in events(runtime, request_id)
    assert "deletion.recording_job_created" not in events(runtime, request_id)


def test_an_endless_recording_job_list_fails_the_request_and_creates_no_second_job(runtime, platform):
    request_id = deleting(runtime, conversations=["c-1"])
    original = platform.create_recording_job

    def lose_once(query):
        platform.lose_answer = True
        platform.endless = True
        platform.create_recording_job = original
        return original(query)

    platform.create_recording_job = lose_once

    erase(request_id)

    assert len(platform.jobs_created) == 1
    assert max(p for kind, p in platform.pages_read if kind == "jobs") == recording_jobs.RECORDING_JOB_RECONCILE_PAGES
    record = runtime.store.get(request_id)
    assert record.state is RequestState.FAILED
    assert "without reaching its end" in record.reason and "check the platform" in record.reason


def test_a_job_list_older_than_the_intent_ends_the_search(runtime, platform):
    """Jobs are listed newest first: once a page reaches back before our intent, ours is not further down."""
    old = iso_ms(utcnow() - timedelta(hours=1))
    platform.jobs = [RecordingJob(id=f"old-{n}", state="FULFILLED", dateCreated=old, recordingJobsQuery={})
                     for n in range(3 * PAGE)]
    spec = {"conversation_ids": ["c-1"], "interval": "x", "action_date": iso_ms(utcnow())}

    assert recording_jobs.reconcile_recording_job(platform, spec) is None
    assert platform.pages_read == [("jobs", 1)]


# --- claims: a job found by its conversations is adopted only if no other request holds it ---

def test_two_requests_over_the_same_conversation_never_share_a_job(runtime, platform):
    """The second request's search before its first creation sees the first's job (same conversation,
    created since it arrived, not yet started so not yet followed): claimed, it is not adopted."""
    runtime.settings = runtime.settings.model_copy(update={"recording_ready_wait_s": 0.0, "recording_poll_s": 0.0})
    original = platform.create_recording_job

    def pending(query):
        job = original(query)
        job.state = "PENDING"  # not READY yet: its request waits, the job unstarted
        return job

    platform.create_recording_job = pending
    first = deleting(runtime, conversations=["c-1"], ticket="DSAR-A")
    second = deleting(runtime, conversations=["c-1"], ticket="DSAR-B")

    erase(first)
    erase(second)

    assert len(platform.jobs_created) == 2
    job_a = runtime.effects.get(first, "recording_job:0:0").platform_id
    job_b = runtime.effects.get(second, "recording_job:0:0").platform_id
    assert job_a != job_b
    assert recording_jobs.claimed_elsewhere(runtime, job_a, recording_jobs.owner_of(second, "recording_job:0:0"))
    assert "deletion.recording_job_reconciled" not in events(runtime, second)


def test_a_new_job_adopted_by_another_request_before_its_claim_is_left_to_it(runtime, platform):
    request_id = deleting(runtime, conversations=["c-1"])
    original = platform.create_recording_job
    calls = []

    def adopted_at_once(query):
        job = original(query)
        calls.append(job.id)
        if len(calls) == 1:  # another request over c-1 claims it in the instant before ours
            assert recording_jobs.claim_job(runtime, job.id, "other-request/recording_job:0:0")
        return job

    platform.create_recording_job = adopted_at_once

    erase(request_id)  # the claim fails: this request alone waits (RunLater), its intent kept
    assert runtime.store.get(request_id).state is RequestState.DELETING
    erase(request_id)

    assert len(calls) == 2  # the first job is the other request's; this one has its own
    assert runtime.effects.get(request_id, "recording_job:0:0").platform_id == calls[1]
    assert runtime.store.get(request_id).recording_job_ids == [calls[1]]


def test_a_job_followed_before_claims_existed_counts_as_its_requests(runtime, monkeypatch):
    monkeypatch.setattr(recording_jobs, "schedule_follow", lambda runtime, countdown_s: True)
    recording_jobs.follow_job(runtime, "req-a", "job-1", None)  # registered by a deployment without claims

    assert recording_jobs.claimed_elsewhere(runtime, "job-1", recording_jobs.owner_of("req-b", "recording_job:0:0"))
    assert not recording_jobs.claimed_elsewhere(runtime, "job-1", recording_jobs.owner_of("req-a", "recording_job:0:0"))
    assert not recording_jobs.claimed_elsewhere(runtime, "job-2", recording_jobs.owner_of("req-b", "recording_job:0:0"))


# --- the "later" of the deletion pool: no free recording-job slot ---

def test_no_free_recording_slot_waits_without_spending_retries_and_keeps_the_gdpr_request(runtime, platform, monkeypatch):
    sent = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args, kw)))
    request_id = deleting(runtime, conversations=["c-1"])
    settings = runtime.settings
    pool = lease_pool(runtime)
    taken = [pool.try_acquire(LEASE_NAME, settings.recording_job_slots, 60) for _ in range(settings.recording_job_slots)]
    assert all(taken)  # another request's jobs hold both slots

    erase(request_id, retries=pipeline.MAX_RETRIES)

    record = runtime.store.get(request_id)
    assert record.state is RequestState.DELETING and record.reason is None
    assert platform.jobs_created == [] and platform.gdpr_created == [f"erasure-{request_id}"]
    assert (deletion.DELETE_TASK, [[request_id]], {"countdown": settings.recording_slot_retry_s}) in sent

    for lease in taken:
        pool.release(LEASE_NAME, lease)
    erase(request_id)  # the fresh message, once a slot is free

    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING and len(platform.jobs_created) == 1
    assert platform.gdpr_created == [f"erasure-{request_id}"]  # the ledger's id, not a second request


# --- a DELETE is reconciled by making it again: gone means the first one went through ---

def test_a_user_delete_whose_answer_was_lost_counts_once(runtime, platform):
    request_id = deleting(runtime, user_id="u-1")
    platform.lose_user_answer = True

    erase(request_id)

    assert platform.users_deleted == ["u-1"]  # the retry found the user gone and sent no second DELETE
    assert runtime.effects.get(request_id, deletion.USER_DELETE).platform_id == "already_gone"
    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING and record.users_deleted == 1 and record.blocked == []


# --- a 409 is recorded as blocked, never retried, and frees the recording-job slot ---

def free_slots(runtime):
    settings = runtime.settings
    pool = lease_pool(runtime)
    taken = [pool.try_acquire(LEASE_NAME, settings.recording_job_slots, 60) for _ in range(settings.recording_job_slots)]
    for lease in taken:
        if lease:
            pool.release(LEASE_NAME, lease)
    return sum(1 for lease in taken if lease)


def refuse(code):
    def call(*args, **kwargs):
        raise Conflict("-> 409", status=409, code=code)
    return call


@pytest.mark.parametrize("step", ["create", "start"])
def test_a_refused_recording_job_is_blocked_once_and_its_slot_freed(runtime, platform, step):
    request_id = deleting(runtime, conversations=["c-1"])
    refused = []
    if step == "create":
        platform.create_recording_job = lambda query: refused.append(query) or refuse("recording.hold")()
    else:
        platform.start_recording_job = lambda job_id: refused.append(job_id) or refuse("recording.hold")()

    erase(request_id)

    record = runtime.store.get(request_id)
    assert record.state is RequestState.POLLING
    assert record.blocked == ["recording DELETE job: 409 recording.hold"] and record.recording_job_ids == []
    assert len(refused) == 1 and free_slots(runtime) == runtime.settings.recording_job_slots
    effect = "recording_job:0:0" if step == "create" else "recording_job:0:0:start"
    assert runtime.effects.get(request_id, effect).platform_id == "blocked:recording.hold"
    assert events(runtime, request_id).count("deletion.blocked") == 1

    put_state(runtime, request_id, RequestState.DELETING)  # redelivered, as if its worker died before the move on
    erase(request_id)

    assert len(refused) == 1  # never retried
    assert runtime.store.get(request_id).blocked == ["recording DELETE job: 409 recording.hold"]
    assert events(runtime, request_id).count("deletion.blocked") == 1


def test_an_active_user_is_blocked_by_our_rule_and_a_409_by_the_platform(runtime, platform):
    platform.users["u-2"] = User(id="u-2", name="Current Agent", state="active")
    active = deleting(runtime, user_id="u-2")

    erase(active)

    assert platform.users_deleted == [] and runtime.store.get(active).blocked == ["user: user.still.active"]
    assert "deletion.blocked" not in events(runtime, active)  # no 409: our own rule kept it
    [entry] = [e for e in runtime.audit.entries_for(active) if e["event"] == "deletion.user_deleted"]
    assert entry["details"]["result"] == "blocked:user.still.active"

    refused = deleting(runtime, user_id="u-1", ticket="DSAR-R2")
    platform.delete_user = refuse("user.legal.hold")
    erase(refused)

    assert runtime.store.get(refused).blocked == ["user: user.legal.hold"]
    [blocked] = [e for e in runtime.audit.entries_for(refused) if e["event"] == "deletion.blocked"]
    assert blocked["details"] == {"effect": "user_delete", "status": 409, "code": "user.legal.hold"}


# --- the hand-over to the polling pool goes by task name ---

def test_submitted_requests_are_handed_to_the_polling_pool_by_task_name(runtime, platform, monkeypatch):
    from services.polling import tasks as polling
    from shared.task_names import POLL_START_TASK, SWEEP_TASK

    sent = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args)))
    monkeypatch.setattr(polling, "get_runtime", lambda: runtime)
    request_id = deleting(runtime)

    erase(request_id)

    assert sent == [(POLL_START_TASK, [[request_id]])]  # nothing of the polling pool's own runs here
    assert runtime.redis.hgetall(runtime.keys.pending_gdpr) == {}

    polling.start.apply(args=[[request_id]])  # the polling pool's side

    [gdpr_id] = runtime.store.get(request_id).gdpr_request_ids
    assert runtime.redis.hgetall(runtime.keys.pending_gdpr) == {gdpr_id: request_id}
    assert sent[1:] == [(SWEEP_TASK, None)]


@pytest.mark.parametrize("status", [429, 400])
def test_the_platform_refusing_a_third_recording_job_makes_only_that_request_wait(runtime, platform, monkeypatch,
                                                                                   status):
    sent = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args, kw)))
    request_id = deleting(runtime, conversations=["c-1"])

    def refuse(query):  # others' jobs fill the platform's places though our lease had one free
        raise JobSlotsFull("POST /api/v2/recording/jobs -> too many jobs", status=status, retry_after_s=0.0)

    monkeypatch.setattr(platform, "create_recording_job", refuse)
    erase(request_id, retries=pipeline.MAX_RETRIES)

    record = runtime.store.get(request_id)
    assert record.state is RequestState.DELETING and record.reason is None  # not failed
    assert (deletion.DELETE_TASK, [[request_id]], {"countdown": runtime.settings.recording_slot_retry_s}) in sent


@pytest.mark.parametrize("status", [429, 400])
def test_the_platform_refusing_to_start_a_recording_job_makes_only_that_request_wait(runtime, platform, monkeypatch,
                                                                                      status):
    sent = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args, kw)))
    request_id = deleting(runtime, conversations=["c-1"])

    def refuse(job_id):
        raise JobSlotsFull("PUT /api/v2/recording/jobs/{id} -> too many jobs", status=status, retry_after_s=0.0)

    monkeypatch.setattr(platform, "start_recording_job", refuse)
    erase(request_id, retries=pipeline.MAX_RETRIES)

    record = runtime.store.get(request_id)
    assert record.state is RequestState.DELETING and record.reason is None
    assert len(platform.jobs_created) == 1  # created once; only the start waits
    assert (deletion.DELETE_TASK, [[request_id]], {"countdown": runtime.settings.recording_slot_retry_s}) in sent
