"""Recording DELETE jobs: what the deletion pool (which creates them) and the polling pool (which follows
them) share, so that neither imports the other.

- **Slots.** The platform allows 2 jobs PENDING/PROCESSING per organisation. A job holds a lease on
  ``recording-jobs`` in ``LeasePool`` (``lease_pool``) from before its creation until polling sees it
  final (renewed meanwhile), across every worker of every process.
- **Spec.** A job deletes the recordings of exactly its conversation ids, with an actionDate chosen to
  the millisecond before the call (``job_body``). The spec is stored with the ledger's intent, so an
  intent without a job id is reconciled by finding exactly that job in the platform's list
  (``reconcile_recording_job``) instead of creating a second one.
- **Claims.** Every job we create or adopt is claimed by one effect (``claim_job``: job id ->
  ``<request id>/<effect>``), written before the ledger records the job. Before any creation the
  deletion pool looks for an *unclaimed* DELETE job over exactly the batch's conversations
  (``find_unclaimed_job``) and adopts it: that is how a job survives the loss of its intent itself (a
  Redis killed with ``appendfsync everysec`` loses up to a second of writes, a failover more; such a
  loss is a suffix of the writes, so the claim went with the intent). No spec is left to match then,
  so the search matches by conversations, among jobs created since the request arrived (minus
  ``CLOCK_SKEW``); a claim keeps two requests over the same conversations from sharing one job.
- **Hand-over.** ``follow_job`` registers a started job and schedules the polling pool's follow pass
  by task name (``FOLLOW_TASK``); that pass renews the job's lease, and once the job is final records
  how it ended, releases the lease and sends the request on.
- **Settled.** ``recordings_settled``: every job of a request is final.

Redis keys (under the deployment's hash tag): ``recjobs:pending`` (job id -> request id, the jobs
being followed), ``recjobs:job:<id>`` (request, lease, final state, error, failed recordings),
``recjobs:owners`` (job id -> the effect that claimed it). A job's ``skipped`` is its
``totalSkippedRecordings``: recordings it left in place, remnants of the request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
#: The permission without which the platform keeps sensitive recordings from a job.
SENSITIVE_PERMISSION = "recording:recording:viewSensitiveData"
#: How a followed job can end (TIMEOUT and MISSING are ours: not final in time, unknown to the platform).
FINAL = ("FULFILLED", "FAILED", "CANCELLED", "TIMEOUT", "MISSING")
#: The platform's states of a job that was started (by us, maybe by a delivery whose answer was lost).
STARTED = ("PROCESSING", "FULFILLED", "FAILED", "CANCELLED")
#: How many pages (of 100) of the platform's recording-job list a reconciliation reads before it gives up
#: (``ReconcileIncomplete``). The list holds only our OAuth client's jobs, newest first, and the search
#: stops anyway at jobs older than our intent (or, before a first creation, than the request): at most
#: 2 run at once, so 5,000 jobs is far more than the life of a request creates.
RECORDING_JOB_RECONCILE_PAGES = 50
#: How far the platform's clock may be behind ours when a search stops at "older than we could have made".
CLOCK_SKEW = timedelta(minutes=10)


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
    """The ``RecordingJobsQuery`` of one spec: DELETE the recordings of exactly these conversations.
    Sensitive (PCI/PII) recordings are skipped unless asked for (the platform's default is false), and
    they are exactly the ones an erasure must not leave behind (needs recording:recording:viewSensitiveData)."""
    return {
        "action": "DELETE",
        "actionDate": spec["action_date"],
        "includeScreenRecordings": True,
        "includeRecordingsWithSensitiveData": True,
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


def created_at(job: RecordingJob) -> datetime | None:
    """When the platform created the job (None when it does not say, or says it in another form)."""
    try:
        return parse_stamp(str(job.date_created)) if job.date_created else None
    except ValueError:
        return None


def reconcile_recording_job(client: GenesysClient, spec: Mapping[str, Any],
                            free: Callable[[RecordingJob], bool] | None = None) -> str | None:
    """Our job in the platform's list (newest first), or None; stops at jobs older than our intent.
    With ``free``, a job it refuses (claimed by another effect) is not ours to take."""
    since = parse_stamp(spec["action_date"]) - CLOCK_SKEW

    def older(job: RecordingJob) -> bool:
        stamp = created_at(job)
        return stamp is not None and stamp < since

    found = reconcile_pages(lambda page: client.list_recording_jobs(page_number=page, page_size=100),
                            lambda job: is_our_job(job, spec) and (free is None or free(job)),
                            RECORDING_JOB_RECONCILE_PAGES, older=older, created=created_at)
    return found.id if found is not None else None


def find_unclaimed_job(runtime: Runtime, client: GenesysClient, owner: str, batch: Sequence[str],
                       erasable: Sequence[str], since: datetime) -> RecordingJob | None:
    """A DELETE job created since ``since`` over exactly ``erasable`` (or, if a hold came since, over
    part of ``batch`` that still covers all of ``erasable``) that no other effect claims: a job whose
    intent, spec and claim were lost. Read before every creation; ``ReconcileIncomplete`` when the list
    cannot be searched back to ``since``."""
    wanted, allowed = set(erasable), set(batch)

    def matches(job: RecordingJob) -> bool:
        if (job.recording_jobs_query or {}).get("action") != "DELETE":
            return False
        return wanted <= job_conversation_ids(job) <= allowed and not claimed_elsewhere(runtime, job.id, owner)

    def older(job: RecordingJob) -> bool:
        stamp = created_at(job)
        return stamp is not None and stamp < since

    return reconcile_pages(lambda page: client.list_recording_jobs(page_number=page, page_size=100), matches,
                           RECORDING_JOB_RECONCILE_PAGES, older=older, created=created_at)


def spec_of_job(job: RecordingJob) -> dict[str, Any]:
    """The spec a job was created with, read back from the platform (for a job adopted without one)."""
    query = job.recording_jobs_query or {}
    return {"conversation_ids": sorted(job_conversation_ids(job)),
            "interval": str((query.get("conversationQuery") or {}).get("interval") or ""),
            "action_date": str(query.get("actionDate") or "")}


# -- claims: one effect per job ------------------------------------------------------------------

def owner_of(request_id: str, effect: str) -> str:
    return f"{request_id}/{effect}"


def claim_job(runtime: Runtime, job_id: str, owner: str) -> bool:
    """Make ``owner`` the one effect holding this job; False if another effect already does."""
    runtime.redis.hsetnx(owners_key(runtime), job_id, owner)
    return str(runtime.redis.hget(owners_key(runtime), job_id)) == owner


def claimed_elsewhere(runtime: Runtime, job_id: str, owner: str) -> bool:
    """True when another effect holds the job (a job followed before claims existed counts as its request's)."""
    holder = runtime.redis.hget(owners_key(runtime), job_id)
    if holder is not None:
        return str(holder) != owner
    followed_for = runtime.redis.hget(job_key(runtime, job_id), "request_id")
    return bool(followed_for) and str(followed_for) != owner.split("/", 1)[0]


# -- the hand-over to polling, and what it records -----------------------------------------------

def _root(runtime: Runtime) -> str:
    return "{" + runtime.settings.key_prefix + "}"


def owners_key(runtime: Runtime) -> str:
    return f"{_root(runtime)}:recjobs:owners"


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
