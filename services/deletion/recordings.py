"""Recording DELETE jobs for a request's conversations, exactly once, at most 2 per organisation.

For each batch of at most ``recording_job_batch`` conversations (effect ``recording_job:<round>:<n>``):

1. holds are checked right before the call (register, then the platform's deletion protection);
   held conversations become withheld records and leave the batch;
2. a slot is taken: a lease on ``recording-jobs`` (limit 2) in ``LeasePool``. None free: the task
   gives its worker back (``WaitForSlot`` -> retry with a short countdown). That is how a third job
   waits for one of two to finish, across all workers of all processes;
3. intent in the effect ledger, with the job's *spec* (conversation ids, interval, actionDate) and
   the lease id stored beside it, then ``POST /api/v2/recording/jobs``, then the job id;
4. the job is waited for until READY (short waits in place, longer ones give the worker back),
   started with ``PUT {"state": "PROCESSING"}`` (effect ``...:start``) and handed to polling, which
   follows it to the end and releases the lease.

Reconciliation (an intent without a job id: the worker died between the call and the record): the
platform's own list ``GET /api/v2/recording/jobs`` (newest first, our OAuth client's jobs) is searched
for a DELETE job whose conversationQuery names exactly our conversation ids and whose actionDate is
the one we chose (to the millisecond) and stored before the call. Found: its id is recorded and
nothing is resubmitted. Not found: the call never reached the platform, and it is made again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.deletion.crash import crash_point
from services.deletion.holds import merge_withheld, withhold
from services.polling.recordings import LEASE_NAME, follow_job, lease_pool
from shared.effects import ReconcileIncomplete
from shared.genesys import BadRequest, Conflict, GenesysClient, RateLimited
from shared.genesys.models import RecordingJob
from shared.models import ErasureRecord, utcnow
from shared.pipeline import chunks
from shared.runtime import Runtime

log = logging.getLogger("erasure.deletion.recordings")

RECONCILE_PAGES = 50
BLOCKED = "blocked:"
STARTED = ("PROCESSING", "FULFILLED", "FAILED", "CANCELLED")


class WaitForSlot(Exception):
    """No recording-job slot is free, or a job is not READY yet: run this request again later."""

    def __init__(self, countdown_s: float, why: str) -> None:
        super().__init__(f"{why}; again in {countdown_s:.1f}s")
        self.countdown_s = countdown_s


def _iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The ``RecordingJobsQuery`` of one spec: DELETE the recordings of exactly these conversations."""
    return {
        "action": "DELETE",
        "actionDate": spec["action_date"],
        "includeScreenRecordings": True,
        "conversationQuery": {
            "interval": spec["interval"],
            "conversationFilters": [{"type": "or", "predicates": [
                {"type": "dimension", "dimension": "conversationId", "operator": "matches", "value": cid}
                for cid in spec["conversation_ids"]]}],
        },
    }


def job_conversation_ids(job: RecordingJob) -> set[str]:
    query = (job.recording_jobs_query or {}).get("conversationQuery") or {}
    out: set[str] = set()
    for flt in query.get("conversationFilters") or []:
        for pred in flt.get("predicates") or []:
            if pred.get("dimension") == "conversationId" and pred.get("value"):
                out.add(str(pred["value"]))
    return out


def is_our_job(job: RecordingJob, spec: Mapping[str, Any]) -> bool:
    query = job.recording_jobs_query or {}
    if query.get("action") != "DELETE" or job_conversation_ids(job) != set(spec["conversation_ids"]):
        return False
    try:
        theirs = _parse(str(query.get("actionDate")))
    except ValueError:
        return False
    return abs((theirs - _parse(spec["action_date"])).total_seconds()) < 0.001


def reconcile_recording_job(client: GenesysClient, spec: Mapping[str, Any]) -> str | None:
    """Our job in the platform's list (newest first), or None; stops at jobs older than our intent."""
    since = _parse(spec["action_date"]) - timedelta(minutes=10)
    for page in range(1, RECONCILE_PAGES + 1):
        listing = client.list_recording_jobs(page_number=page, page_size=100)
        for job in listing.entities:
            if is_our_job(job, spec):
                return job.id
        if not listing.entities or (listing.page_count or 0) <= page:
            return None
        oldest = listing.entities[-1].date_created
        if oldest and _parse(oldest) < since:
            return None
    raise ReconcileIncomplete(f"searched {RECONCILE_PAGES} pages of the platform's list without reaching its end")


def job_interval(record: ErasureRecord, lookback_days: int) -> str:
    """The conversationQuery interval: the request's window, or every conversation discovery could see."""
    now = utcnow()
    if record.window is not None:  # a retention purge's window is the interval it searched
        start, end = record.window.start - timedelta(days=1), record.window.end + timedelta(days=1)
    else:
        start = min(record.verified_at, now) - timedelta(days=lookback_days + 1)
        end = now + timedelta(hours=1)
    return f"{_iso_ms(start)}/{_iso_ms(end)}"


@dataclass
class RecordingDeletion:
    record: ErasureRecord  # with the withheld entries found on the way
    job_ids: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)  # covered by those jobs
    blocked: list[str] = field(default_factory=list)  # batches the platform refused (409), by error code


def delete_recordings(runtime: Runtime, client: GenesysClient, record: ErasureRecord,
                      lookback_days: int) -> RecordingDeletion:
    """Create, start and hand to polling the DELETE jobs of this round's scope.

    Raises ``WaitForSlot`` when a job must wait (effects already made are kept in the ledger, so the
    next run picks up where this one stopped). A batch refused with 409 is recorded as blocked (effect
    result ``blocked:<code>``) and never resubmitted; the other batches go ahead.
    """
    settings = runtime.settings
    out = RecordingDeletion(record)
    for index, batch in enumerate(chunks(record.recording_scope or [], max(1, settings.recording_job_batch))):
        effect = f"recording_job:{record.recording_round}:{index}"
        try:
            out.record, job_id, conversations = ensure_job(runtime, client, out.record, effect, batch, lookback_days)
            if job_id is not None and not job_id.startswith(BLOCKED):
                start_job(runtime, client, out.record, effect, job_id)
        except Conflict as exc:
            job_id = BLOCKED + (exc.code or "conflict")
            created = runtime.effects.get(record.request_id, effect)
            refused = effect  # the creation, or the start of a job that exists (its id stays recorded)
            if created is not None and created.platform_id and not created.platform_id.startswith(BLOCKED):
                refused = f"{effect}:start"
            runtime.effects.record_done(record.request_id, refused, job_id)
            _release_lease(runtime, record.request_id, effect)
            runtime.audit.append("deletion.blocked", request_id=record.request_id, subject=runtime.digest(record),
                                 details={"effect": "recording_job", "status": 409, "code": exc.code})
        if job_id is None:
            continue  # every conversation of the batch is held
        if job_id.startswith(BLOCKED):
            out.blocked.append(f"recording DELETE job: 409 {job_id.removeprefix(BLOCKED)}")
            continue
        out.job_ids.append(job_id)
        out.conversations += conversations
    return out


def _release_lease(runtime: Runtime, request_id: str, effect: str) -> None:
    lease = runtime.redis.hget(runtime.keys.effect(request_id, effect), "lease")
    if lease:
        lease_pool(runtime).release(LEASE_NAME, str(lease))


def ensure_job(runtime: Runtime, client: GenesysClient, record: ErasureRecord, effect: str,
               batch: list[str], lookback_days: int) -> tuple[ErasureRecord, str | None, list[str]]:
    request_id = record.request_id
    key = runtime.keys.effect(request_id, effect)
    existing = runtime.effects.get(request_id, effect)
    stored = {str(k): str(v) for k, v in runtime.redis.hgetall(key).items()}
    spec = json.loads(stored["spec"]) if stored.get("spec") else None
    if existing and existing.platform_id:
        return record, existing.platform_id, list(spec["conversation_ids"]) if spec else list(batch)
    if existing is not None and spec is not None:
        found = reconcile_recording_job(client, spec)
        if found is not None:
            log.warning("request %s: found recording job %s created before a crash", request_id, found)
            runtime.effects.record_done(request_id, effect, found)
            runtime.audit.append("deletion.recording_job_reconciled", request_id=request_id,
                                 subject=runtime.digest(record), details={"recording_job_id": found})
            return record, found, list(spec["conversation_ids"])

    # (Re)submit. Holds are read immediately before the call.
    known = {w.id for w in record.withheld if w.kind == "conversation"}
    erasable, held = withhold(runtime, client, [c for c in batch if c not in known])
    if held:
        record = runtime.store.update(request_id, withheld=merge_withheld(record.withheld, held))
        runtime.audit.append("deletion.recordings_withheld", request_id=request_id, subject=runtime.digest(record),
                             details={"conversations": [w.id for w in held], "holds": sorted({w.hold for w in held})})
    if not erasable:
        return record, None, []

    settings = runtime.settings
    pool = lease_pool(runtime)
    lease = stored.get("lease") or None
    if lease is None or not pool.renew(LEASE_NAME, lease, settings.recording_lease_ttl_s):
        lease = pool.try_acquire(LEASE_NAME, settings.recording_job_slots, settings.recording_lease_ttl_s)
    if lease is None:
        raise WaitForSlot(settings.recording_slot_retry_s, "both recording-job slots are taken")
    runtime.effects.record_intent(request_id, effect)
    spec = {"conversation_ids": erasable, "interval": job_interval(record, lookback_days),
            "action_date": _iso_ms(utcnow())}
    runtime.redis.hset(key, mapping={"lease": lease, "spec": json.dumps(spec)})
    try:
        job = client.create_recording_job(job_body(spec))
    except BadRequest:
        pool.release(LEASE_NAME, lease)  # refused outright: no job, no slot used
        raise
    except RateLimited as exc:
        # Someone else's jobs fill the platform's two places: nothing was created; try again later.
        raise WaitForSlot(max(settings.recording_slot_retry_s, exc.retry_after_s),
                          "the platform refused a third recording job") from None
    crash_point("recording_job")
    runtime.effects.record_done(request_id, effect, job.id)
    runtime.audit.append("deletion.recording_job_created", request_id=request_id, subject=runtime.digest(record),
                         details={"recording_job_id": job.id, "conversations": len(erasable), "worker": worker_label()})
    return record, job.id, erasable


def start_job(runtime: Runtime, client: GenesysClient, record: ErasureRecord, effect: str, job_id: str) -> None:
    """Wait (briefly) for READY, start the job, hand it to polling. Idempotent."""
    request_id = record.request_id
    start_effect = f"{effect}:start"
    key = runtime.keys.effect(request_id, effect)
    lease = runtime.redis.hget(key, "lease")
    lease_id = str(lease) if lease else None
    started = runtime.effects.get(request_id, start_effect)
    if started is not None and (started.platform_id or "").startswith(BLOCKED):
        raise Conflict("the platform refused to start this job", status=409,
                       code=(started.platform_id or "").removeprefix(BLOCKED))
    if started is None or started.state != "done":
        settings = runtime.settings
        pool = lease_pool(runtime)
        deadline = time.monotonic() + settings.recording_ready_wait_s
        while True:
            job = client.get_recording_job(job_id)
            state = job.state if job is not None else "MISSING"
            if state == "READY":
                runtime.effects.record_intent(request_id, start_effect)
                try:
                    client.start_recording_job(job_id)
                except BadRequest:
                    # Already started by an earlier delivery whose answer was lost? Then it is not READY.
                    again = client.get_recording_job(job_id)
                    if again is None or again.state not in STARTED:
                        raise
                break
            if state in STARTED or state == "MISSING":
                break  # started before (or gone): polling reads how it ended
            if lease_id:
                pool.renew(LEASE_NAME, lease_id, settings.recording_lease_ttl_s)
            if time.monotonic() >= deadline:
                raise WaitForSlot(settings.recording_poll_s * 2, f"recording job {job_id} is not READY yet")
            time.sleep(settings.recording_poll_s)
        runtime.effects.record_intent(request_id, start_effect)
        follow_job(runtime, request_id, job_id, lease_id)
        runtime.effects.record_done(request_id, start_effect, job_id)
        runtime.audit.append("deletion.recording_job_started", request_id=request_id,
                             subject=runtime.digest(record), details={"recording_job_id": job_id})
    else:
        follow_job(runtime, request_id, job_id, lease_id)  # no-op unless the hand-over was lost


def find_recording_scope(client: GenesysClient, conversation_ids: list[str]) -> list[str]:
    """The conversations that have recordings (or whose recordings the platform is still preparing)."""
    out: list[str] = []
    for conversation_id in dict.fromkeys(conversation_ids):
        recordings = client.conversation_recordings(conversation_id)
        if recordings is None or recordings:
            out.append(conversation_id)
    return out
