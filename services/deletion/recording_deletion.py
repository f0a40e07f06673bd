"""Creating and starting the recording DELETE jobs of a request's conversations, exactly once, at most 2
per organisation (what both pools share about the jobs is in ``shared.recording_jobs``).

For each batch of at most ``recording_job_batch`` conversations (effect ``recording_job:<round>:<n>``):

1. holds are checked right before the call (register, then the platform's deletion protection);
   held conversations become withheld records and leave the batch;
2. a slot is taken: a lease on ``recording-jobs`` (limit 2) in ``LeasePool``. None free: the task
   gives its worker back (``RunLater`` for this request alone -> again with a short countdown). That is how a third job
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

Before any creation, even with no ledger entry at all, the same list is read once more (with a slot
in hand) for an *unclaimed* DELETE job over this batch's conversations created since the request
arrived (``find_unclaimed_job``): found, it is adopted (``EffectLedger.adopt``) with that slot, and
nothing is created. That is
what covers an intent Redis never kept (``appendfsync everysec`` loses up to a second, a failover more;
see ``shared.effects``), so ``appendfsync always`` is not needed for this effect. It costs one page of
the list per job created (more only when more than 100 of our jobs were created since the request
arrived: the list holds our client's jobs only, at most 2 running at a time). Every job is claimed by
the effect that holds it (``claim_job``, before the ledger records it), so two requests over the same
conversations never share one job.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from services.deletion.holds import withhold
from services.deletion.recent_recordings import delete_recent_recordings
from shared.effects import Blocked, Done, EffectRecord, Outcome, ReconcileIncomplete, Via
from shared.errors import RunLater
from shared.genesys import BadRequest, GenesysClient, JobSlotsFull, RateLimited
from shared.holds import merge_withheld
from shared.models import ErasureRecord, utcnow
from shared.pipeline import chunks
from shared.recording_jobs import (
    CLOCK_SKEW,
    LEASE_NAME,
    STARTED,
    claim_job,
    claimed_elsewhere,
    find_unclaimed_job,
    follow_job,
    iso_ms,
    job_body,
    job_interval,
    lease_pool,
    owner_of,
    reconcile_recording_job,
    spec_of_job,
)
from shared.runtime import Runtime

log = logging.getLogger("erasure.deletion.recordings")


def worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class RecordingDeletion:
    record: ErasureRecord  # with the withheld entries found on the way
    job_ids: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)  # covered by those jobs
    blocked: list[str] = field(default_factory=list)  # batches the platform refused (409), by error code


def delete_recordings(runtime: Runtime, client: GenesysClient, record: ErasureRecord,
                      lookback_days: int) -> RecordingDeletion:
    """Create, start and hand to polling the DELETE jobs of this round's scope.

    Raises ``RunLater`` (for this request alone) when a job must wait (effects already made are kept in
    the ledger, so the next run picks up where this one stopped). A batch refused with 409 (its creation,
    or the start of the job it created) is recorded as blocked and never resubmitted; the others go ahead.
    """
    settings = runtime.settings
    out = RecordingDeletion(record)
    for index, batch in enumerate(chunks(record.recording_scope or [], max(1, settings.recording_job_batch))):
        effect = f"recording_job:{record.recording_round}:{index}"
        out.record, created, conversations = ensure_job(runtime, client, out.record, effect, batch, lookback_days)
        if created is None:
            continue  # every conversation of the batch is held
        outcome = created
        if isinstance(created, Done):
            outcome = start_job(runtime, client, out.record, effect, created.platform_id)
        if isinstance(outcome, Blocked):
            if outcome.via is Via.CALL:
                _release_lease(runtime, record.request_id, effect)  # no job runs: its slot is free
                runtime.audit.append("deletion.blocked", request_id=record.request_id, subject=runtime.digest(record),
                                     details={"effect": "recording_job", "status": 409, "code": outcome.code})
            out.blocked.append(f"recording DELETE job: 409 {outcome.code}")
        elif isinstance(created, Done):
            out.job_ids.append(created.platform_id)
            out.conversations += conversations
    # A job may not see recordings younger than the lake's lag: those are deleted one by one as well.
    delete_recent_recordings(runtime, client, out.record, out.conversations)
    return out


def _lease_of(runtime: Runtime, request_id: str, effect: str) -> str | None:
    """The slot lease stored beside the job's intent (None before one was taken)."""
    stored = runtime.effects.get(request_id, effect)
    return (stored.notes.get("lease") or None) if stored is not None else None


def _release_lease(runtime: Runtime, request_id: str, effect: str) -> None:
    lease = _lease_of(runtime, request_id, effect)
    if lease:
        lease_pool(runtime).release(LEASE_NAME, lease)


def _spec_of(stored: EffectRecord | None) -> dict[str, Any] | None:
    """The job's spec (conversation ids, interval, actionDate) stored beside its intent."""
    raw = stored.notes.get("spec") if stored is not None else None
    return dict(json.loads(raw)) if raw else None


def ensure_job(runtime: Runtime, client: GenesysClient, record: ErasureRecord, effect: str,
               batch: list[str], lookback_days: int) -> tuple[ErasureRecord, Outcome | None, list[str]]:
    """The batch's job as the ledger knows it (created, reconciled, or refused), else created now.

    Returns the record (with the holds found on the way), the outcome (None: every conversation of the
    batch is held, nothing was created) and the conversations the job covers."""
    request_id = record.request_id
    owner = owner_of(request_id, effect)

    def reconcile(intent: EffectRecord) -> str | None:
        spec = _spec_of(intent)
        if spec is None:
            return None  # died before the spec (or Redis lost it): the search below, before any creation
        found = reconcile_recording_job(client, spec, lambda job: not claimed_elsewhere(runtime, job.id, owner))
        return found if found is not None and claim_job(runtime, found, owner) else None

    known = runtime.effects.recall(request_id, effect, reconcile)
    if known is not None:
        spec = _spec_of(runtime.effects.get(request_id, effect))
        if isinstance(known, Done) and known.via is Via.RECONCILE:
            log.warning("request %s: found recording job %s created before a crash", request_id, known.platform_id)
            runtime.audit.append("deletion.recording_job_reconciled", request_id=request_id,
                                 subject=runtime.digest(record), details={"recording_job_id": known.platform_id})
        return record, known, list(spec["conversation_ids"]) if spec else list(batch)

    # (Re)submit. Holds are read immediately before the call.
    known_held = {w.id for w in record.withheld if w.kind == "conversation"}
    erasable, held = withhold(runtime, client, [c for c in batch if c not in known_held], record)
    if held:
        record = runtime.store.update(request_id, withheld=merge_withheld(record.withheld, held))
        runtime.audit.append("deletion.recordings_withheld", request_id=request_id, subject=runtime.digest(record),
                             details={"conversations": [w.id for w in held], "holds": sorted({w.hold for w in held})})
    if not erasable:
        return record, None, []

    settings = runtime.settings
    pool = lease_pool(runtime)
    lease = _lease_of(runtime, request_id, effect)
    if lease is None or not pool.renew(LEASE_NAME, lease, settings.recording_lease_ttl_s):
        lease = pool.try_acquire(LEASE_NAME, settings.recording_job_slots, settings.recording_lease_ttl_s)
    if lease is None:
        raise RunLater(settings.recording_slot_retry_s, "both recording-job slots are taken", request_id=request_id)
    taken = lease

    # A job an earlier delivery created whose intent (and claim) Redis lost: adopted, not made twice. Looked
    # for only with a slot in hand, so a request waiting for one reads no list; an adopted job runs on the
    # platform all the same, and the slot is its own until polling sees it end.
    try:
        lost = find_unclaimed_job(runtime, client, owner, batch, erasable, record.received_at - CLOCK_SKEW)
    except ReconcileIncomplete:
        pool.release(LEASE_NAME, taken)  # the request fails for a person to check; nothing runs on this slot
        raise
    if lost is not None and claim_job(runtime, lost.id, owner):
        found = spec_of_job(lost)
        adopted = runtime.effects.adopt(request_id, effect, lost.id, notes={"lease": taken, "spec": json.dumps(found)})
        log.warning("request %s: adopted recording job %s that no record of ours named", request_id, lost.id)
        runtime.audit.append("deletion.recording_job_reconciled", request_id=request_id,
                             subject=runtime.digest(record),
                             details={"recording_job_id": lost.id, "found_by": "conversations"})
        return record, adopted, list(found["conversation_ids"])

    spec = {"conversation_ids": erasable, "interval": job_interval(record, lookback_days),
            "action_date": iso_ms(utcnow())}

    def create() -> Outcome:
        try:
            job = client.create_recording_job(job_body(spec))
        except BadRequest:
            pool.release(LEASE_NAME, taken)  # refused outright: no job, no slot used
            raise
        except (JobSlotsFull, RateLimited) as exc:
            # Someone else's jobs fill the platform's two places (or the budget is spent): nothing was
            # created; this request alone tries again later.
            raise RunLater(max(settings.recording_slot_retry_s, exc.defer_s), "the platform refused a third recording job",
                           request_id=request_id) from None
        if not claim_job(runtime, job.id, owner):
            # Another request over the same conversations adopted it in the instant before this claim:
            # the job is its now. The intent stays; the next run finds no free job and creates one.
            raise RunLater(settings.recording_slot_retry_s, "the new recording job was adopted by another request",
                           request_id=request_id)
        return Done(job.id)

    # The spec is stored with the intent: a reconciliation looks for exactly this job.
    created = runtime.effects.perform(request_id, effect, create, notes={"lease": taken, "spec": json.dumps(spec)})
    if isinstance(created, Done):
        runtime.audit.append("deletion.recording_job_created", request_id=request_id, subject=runtime.digest(record),
                             details={"recording_job_id": created.platform_id, "conversations": len(erasable),
                                      "worker": worker_label()})
    return record, created, erasable


def start_job(runtime: Runtime, client: GenesysClient, record: ErasureRecord, effect: str, job_id: str) -> Outcome:
    """Wait (briefly) for READY, start the job, hand it to polling: effect ``<effect>:start``. Idempotent.

    Raises ``RunLater`` (for this request alone) when the job is not READY within ``recording_ready_wait_s``."""
    request_id = record.request_id
    lease_id = _lease_of(runtime, request_id, effect)

    def start() -> Outcome:
        settings = runtime.settings
        pool = lease_pool(runtime)
        deadline = time.monotonic() + settings.recording_ready_wait_s
        while True:
            job = client.get_recording_job(job_id)
            state = job.state if job is not None else "MISSING"
            if state == "READY":
                try:
                    client.start_recording_job(job_id)
                except JobSlotsFull as exc:
                    # Others' jobs took the platform's places between READY and now: this request waits.
                    raise RunLater(max(settings.recording_slot_retry_s, exc.defer_s),
                                   "the platform has no free place to run the recording job",
                                   request_id=request_id) from None
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
                raise RunLater(settings.recording_poll_s * 2, f"recording job {job_id} is not READY yet",
                               request_id=request_id)
            time.sleep(settings.recording_poll_s)
        follow_job(runtime, request_id, job_id, lease_id)
        return Done(job_id)

    outcome = runtime.effects.once(request_id, f"{effect}:start", start)
    if isinstance(outcome, Done) and outcome.via is Via.CALL:
        runtime.audit.append("deletion.recording_job_started", request_id=request_id,
                             subject=runtime.digest(record), details={"recording_job_id": job_id})
    elif isinstance(outcome, Done):
        follow_job(runtime, request_id, job_id, lease_id)  # no-op unless the hand-over was lost
    return outcome


def find_recording_scope(client: GenesysClient, conversation_ids: list[str]) -> list[str]:
    """The conversations that have recordings (or whose recordings the platform is still preparing)."""
    out: list[str] = []
    for conversation_id in dict.fromkeys(conversation_ids):
        recordings = client.conversation_recordings(conversation_id)
        if recordings is None or recordings:
            out.append(conversation_id)
    return out
