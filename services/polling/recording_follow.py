"""Following recording DELETE jobs to their end (the polling pool's side of ``shared.recording_jobs``).

The deletion pool takes a slot before it creates a job, starts the job and hands it over with
``shared.recording_jobs.follow_job``. One ``follow`` task at a time (like the GDPR sweep) GETs every
followed job, renews its lease while it runs, and once it is FULFILLED, FAILED or CANCELLED reads its
failed recordings and its count of skipped ones, releases the lease and marks it final. Skipped
recordings (sensitive data the job did not reach) are remnants: the request ends PARTIAL. A request is
ready for verification when all its jobs are final and its GDPR requests completed
(``recordings_settled`` is the hook the GDPR follower asks; ``maybe_complete`` sends requests that have
no GDPR request of their own, e.g. retention purges and releases of held records).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from shared.celery_app import app
from shared.genesys import GenesysClient
from shared.genesys.models import RecordingJob
from shared.holds import DEFAULT_BASIS, PLATFORM_PROTECTION, PLATFORM_PROTECTION_REASON, merge_withheld
from shared.lanes import send_ids
from shared.models import ErasureRecord, RequestState, WithheldRecord, utcnow
from shared.passes import run_pass
from shared.pipeline import kept_while_redis_is_down
from shared.ratelimit import LeasePool
from shared.recording_jobs import (
    JOB_META_TTL_S,
    LEASE_NAME,
    SENSITIVE_PERMISSION,
    follow_flag_key,
    follow_lock_key,
    job_key,
    job_meta,
    lease_pool,
    pending_key,
    recordings_settled,
    schedule_follow,
)
from shared.runtime import Runtime, get_runtime
from shared.task_names import FOLLOW_TASK, VERIFY_TASK

log = logging.getLogger("erasure.polling.recordings")


@app.task(name=FOLLOW_TASK, bind=True, acks_late=True, max_retries=None)
def follow(self: Any, token: str | None = None) -> None:
    with kept_while_redis_is_down(FOLLOW_TASK, 0):  # the one pass on its way: losing it would stop the loop
        runtime = get_runtime()
        run_pass(runtime, task_name=FOLLOW_TASK, flag_key=follow_flag_key(runtime),
                 lock_key=follow_lock_key(runtime), pending_key=pending_key(runtime), work=follow_once, token=token)


def follow_once(runtime: Runtime) -> None:
    pending = {str(k): str(v) for k, v in runtime.redis.hgetall(pending_key(runtime)).items()}
    if not pending:
        return
    # Followed is progress: a request waiting only for its jobs is loaded by no task meanwhile.
    runtime.store.progress.touch(set(pending.values()))
    client = runtime.genesys("polling")
    settings = runtime.settings
    pool = lease_pool(runtime)
    finished: set[str] = set()
    for job_id, request_id in pending.items():
        meta = job_meta(runtime, job_id)
        job = client.get_recording_job(job_id)
        if job is None:
            _finalize(runtime, pool, job_id, request_id, "MISSING", "the platform no longer knows this job", [])
        elif job.is_final:
            _finalize(runtime, pool, job_id, request_id, job.state, job.error_message, _failed(client, job),
                      skipped=job.total_skipped_recordings or 0)
        else:
            lease = meta.get("lease")
            if lease and not pool.renew(LEASE_NAME, lease, settings.recording_lease_ttl_s):
                log.warning("recording job %s outlived its slot lease; the platform still counts it", job_id)
            since = meta.get("since")
            waited = (utcnow() - _parse(since)).total_seconds() if since else 0.0
            if waited <= settings.recording_job_timeout_s:
                continue
            _finalize(runtime, pool, job_id, request_id, "TIMEOUT",
                      f"not final after {round(waited)}s (state {job.state})", [])
        finished.add(request_id)
    for request_id in finished:
        maybe_complete(runtime, request_id)


def _failed(client: GenesysClient, job: RecordingJob) -> list[str]:
    """The recordings a finished job could not act on, as "conversationId/recordingId"."""
    if not job.total_failed_recordings and job.state != "FAILED":
        return []
    out: list[str] = []
    page = 1
    while True:
        listing = client.failed_recordings(job.id, page_number=page)
        out += [f"{f.conversation.id if f.conversation else '?'}/{f.recording.id if f.recording else '?'}"
                for f in listing.entities]
        if not listing.entities or (listing.page_count or 0) <= page:
            return out
        page += 1


def _finalize(runtime: Runtime, pool: LeasePool, job_id: str, request_id: str, state: str,
              error: str | None, failed: list[str], *, skipped: int = 0) -> None:
    key = job_key(runtime, job_id)
    lease = runtime.redis.hget(key, "lease")
    runtime.redis.hset(key, mapping={"state": state, "error": error or "", "failed": json.dumps(failed),
                                     "skipped": str(skipped), "final": "1", "request_id": request_id})
    runtime.redis.expire(key, JOB_META_TTL_S)
    if lease:
        pool.release(LEASE_NAME, str(lease))
    runtime.redis.hdel(pending_key(runtime), job_id)
    runtime.audit.append("polling.recording_job_final", request_id=request_id,
                         details={"recording_job_id": job_id, "state": state, "failed_recordings": len(failed),
                                  "skipped_recordings": skipped})


def maybe_complete(runtime: Runtime, request_id: str) -> None:
    """Send a polling request to verification once its recording jobs are final, unless its GDPR
    requests are still followed by the GDPR poller (which asks ``recordings_settled`` itself)."""
    record = runtime.store.get(request_id)
    if record.state is not RequestState.POLLING or not recordings_settled(runtime, record):
        return
    if record.gdpr_request_ids and record.recording_round == 0:
        return
    send_ids(VERIFY_TASK, [request_id], lane=record.lane)


def resume_recordings(runtime: Runtime, request_ids: list[str]) -> None:
    """Make sure followed jobs are being polled, and requests whose jobs already ended go on (after a
    restart or a lost queue, ``erasure resume`` comes here through ``start_polling``)."""
    if runtime.redis.hlen(pending_key(runtime)):
        schedule_follow(runtime, runtime.settings.poll_interval_s)
    for request_id in request_ids:
        maybe_complete(runtime, request_id)


def fold_results(runtime: Runtime, records: list[ErasureRecord]) -> list[ErasureRecord]:
    """Before verification: copy the jobs' failed recordings into each record. A failed recording
    whose conversation the platform now protects is withheld (the protection came after our check),
    not a failure."""
    out: list[ErasureRecord] = []
    client: GenesysClient | None = None
    for record in records:
        failed: list[str] = []
        for job_id in record.recording_job_ids:
            failed += json.loads(job_meta(runtime, job_id).get("failed") or "[]")
        if not failed:
            out.append(record)
            continue
        client = client or runtime.genesys("polling")
        protected = client.protected_conversations([f.split("/", 1)[0] for f in failed])
        withheld = merge_withheld(record.withheld, [
            WithheldRecord(kind="conversation", id=cid, hold=PLATFORM_PROTECTION,
                           reason=PLATFORM_PROTECTION_REASON, basis=DEFAULT_BASIS)
            for cid in dict.fromkeys(f.split("/", 1)[0] for f in failed) if cid in protected])
        still_failed = [f for f in failed if f.split("/", 1)[0] not in protected]
        out.append(runtime.store.update(record.request_id, withheld=withheld,
                                        failed_recordings=list(dict.fromkeys(still_failed))))
    return out


def partial_reason(runtime: Runtime, record: ErasureRecord) -> str | None:
    """Why a request cannot be complete although the platform finished: refusals, failed jobs, and
    recordings a job skipped (never reported as done)."""
    parts: list[str] = []
    if record.blocked:
        parts.append("the platform refused (409) " + "; ".join(record.blocked)
                     + ": resolve what blocks it in Genesys Cloud, then submit a follow-up request under a new ticket")
    bad = []
    skipped = 0
    for job_id in record.recording_job_ids:
        meta = job_meta(runtime, job_id)
        if meta.get("state") and meta["state"] != "FULFILLED":
            bad.append(f"{job_id} ended {meta['state']}" + (f" ({meta['error']})" if meta.get("error") else ""))
        skipped += int(meta.get("skipped") or 0)
    if bad:
        parts.append("recording job " + "; ".join(bad) + ": check it in Genesys Cloud, do not resubmit blindly")
    if skipped:
        parts.append(f"{skipped} recording(s) were skipped by the platform's recording job (sensitive PCI/PII data, "
                     f"which needs {SENSITIVE_PERMISSION}); they remain: check the OAuth client's permissions "
                     "and the organisation's redaction settings, then submit a follow-up request under a new ticket")
    if record.failed_recordings:
        parts.append(f"{len(record.failed_recordings)} recording(s) could not be deleted (listed by id in the "
                     "certificate's verification remnants)")
    return "; ".join(parts) or None


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)
