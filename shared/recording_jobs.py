"""Recording DELETE jobs: what the deletion pool (which creates them) and the polling pool (which follows
them) share, so that neither imports the other.

- **Slots.** The platform allows 2 jobs PENDING/PROCESSING per organisation. A job holds a lease on
  ``recording-jobs`` in ``LeasePool`` (``lease_pool``) from before its creation until polling sees it
  final (renewed meanwhile), across every worker of every process.
- **Spec.** A job deletes the recordings of exactly its conversation ids, with an actionDate chosen to
  the millisecond before the call (``job_body``). The spec is stored with the ledger's intent, so an
  intent without a job id is reconciled by finding exactly that job in the platform's list
  (``reconcile_recording_job``) instead of creating a second one.
- **Hand-over.** ``follow_job`` registers a started job and schedules the polling pool's follow pass
  by task name (``FOLLOW_TASK``); that pass renews the job's lease, and once the job is final records
  how it ended, releases the lease and sends the request on.
- **Settled.** ``recordings_settled``: every job of a request is final.

Redis keys (under the deployment's hash tag): ``recjobs:pending`` (job id -> request id, the jobs
being followed), ``recjobs:job:<id>`` (request, lease, final state, error, failed recordings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.effects import reconcile_pages
from shared.genesys import GenesysClient
from shared.genesys.models import RecordingJob
from shared.models import ErasureRecord, utcnow
from shared.passes import schedule_pass
from shared.ratelimit import LeasePool
from shared.runtime import Runtime
from shared.task_names import FOLLOW_TASK

LEASE_NAME = "recording-jobs"
JOB_META_TTL_S = 30 * 24 * 3600
#: How a followed job can end (TIMEOUT and MISSING are ours: not final in time, unknown to the platform).
FINAL = ("FULFILLED", "FAILED", "CANCELLED", "TIMEOUT", "MISSING")
#: The platform's states of a job that was started (by us, maybe by a delivery whose answer was lost).
STARTED = ("PROCESSING", "FULFILLED", "FAILED", "CANCELLED")
#: How many pages (of 100) of the platform's recording-job list a reconciliation reads before it gives up
#: (``ReconcileIncomplete``). The list holds only our OAuth client's jobs, newest first, and the search
#: stops anyway at jobs older than our intent: 5,000 jobs is far more than ten minutes can create.
RECORDING_JOB_RECONCILE_PAGES = 50


# -- slots ---------------------------------------------------------------------------------------

def lease_pool(runtime: Runtime) -> LeasePool:
    """The organisation's recording-job slots (one lease set per OAuth client, like the rate bucket)."""
    return LeasePool(runtime.redis, runtime.limiter_key)


# -- the job's spec ------------------------------------------------------------------------------

def iso_ms(moment: datetime) -> str:
    """The platform's timestamp form, to the millisecond (how an actionDate is compared)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_stamp(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


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
        theirs = parse_stamp(str(query.get("actionDate")))
    except ValueError:
        return False
    return abs((theirs - parse_stamp(spec["action_date"])).total_seconds()) < 0.001


def job_interval(record: ErasureRecord, lookback_days: int) -> str:
    """The conversationQuery interval: the request's window, or every conversation discovery could see."""
    now = utcnow()
    if record.window is not None:  # a retention purge's window is the interval it searched
        start, end = record.window.start - timedelta(days=1), record.window.end + timedelta(days=1)
    else:
        start = min(record.verified_at, now) - timedelta(days=lookback_days + 1)
        end = now + timedelta(hours=1)
    return f"{iso_ms(start)}/{iso_ms(end)}"


def reconcile_recording_job(client: GenesysClient, spec: Mapping[str, Any]) -> str | None:
    """Our job in the platform's list (newest first), or None; stops at jobs older than our intent."""
    since = parse_stamp(spec["action_date"]) - timedelta(minutes=10)

    def older(job: RecordingJob) -> bool:
        return bool(job.date_created) and parse_stamp(str(job.date_created)) < since

    found = reconcile_pages(lambda page: client.list_recording_jobs(page_number=page, page_size=100),
                            lambda job: is_our_job(job, spec), RECORDING_JOB_RECONCILE_PAGES, older=older)
    return found.id if found is not None else None


# -- the hand-over to polling, and what it records -----------------------------------------------

def _root(runtime: Runtime) -> str:
    return "{" + runtime.settings.key_prefix + "}"


def pending_key(runtime: Runtime) -> str:
    return f"{_root(runtime)}:recjobs:pending"


def job_key(runtime: Runtime, job_id: str) -> str:
    return f"{_root(runtime)}:recjobs:job:{job_id}"


def follow_flag_key(runtime: Runtime) -> str:
    """Set while a follow pass is on its way (``shared.passes``)."""
    return f"{_root(runtime)}:recjobs:scheduled"


def follow_lock_key(runtime: Runtime) -> str:
    return f"{_root(runtime)}:recjobs:lock"


def job_meta(runtime: Runtime, job_id: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in runtime.redis.hgetall(job_key(runtime, job_id)).items()}


def follow_job(runtime: Runtime, request_id: str, job_id: str, lease_id: str | None) -> None:
    """Hand a started job to polling (idempotent; a job already final is left alone)."""
    key = job_key(runtime, job_id)
    if runtime.redis.hget(key, "final"):
        return
    runtime.redis.hset(key, mapping={"request_id": request_id, "lease": lease_id or "",
                                     "since": utcnow().isoformat()})
    runtime.redis.expire(key, JOB_META_TTL_S)
    runtime.redis.hset(pending_key(runtime), job_id, request_id)
    schedule_follow(runtime, runtime.settings.poll_interval_s)


def schedule_follow(runtime: Runtime, countdown_s: float, *, force: bool = False) -> bool:
    """Schedule the next follow pass unless one is already scheduled (``force``: even then, for a re-drive)."""
    return schedule_pass(runtime, FOLLOW_TASK, follow_flag_key(runtime), countdown_s, force=force)


def recordings_settled(runtime: Runtime, record: ErasureRecord) -> bool:
    """True when every recording job of the request is final (trivially, when it has none)."""
    return all(runtime.redis.hget(job_key(runtime, job_id), "final") for job_id in record.recording_job_ids)
