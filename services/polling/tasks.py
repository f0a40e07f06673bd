"""Purge-polling pool: follow the platform's jobs to their end, verify by reading back, certify.

``sweep`` (list mode) pages through the platform's GDPR requests once for every pending request;
``poll`` (each mode) GETs each request of its batch. Finished requests go to ``verify`` in batches.
A GDPR request that ends in ERROR, or outlives its timeout, makes the request PARTIAL with the
reason and the operator's next step; it is never blindly resubmitted.
"""

from __future__ import annotations

import json
import logging
from contextlib import suppress
from typing import Any

from services.polling.access import finish_access
from services.polling.recording_follow import fold_results, partial_reason
from services.polling.schedule import start_polling
from services.polling.verify import read_back_contacts, read_back_conversations, verify_one
from shared.audit_checkpoints import write_checkpoint
from shared.celery_app import app
from shared.certificate import build_certificate
from shared.certificate_store import issue
from shared.errors import RunLater
from shared.final_event import final_event
from shared.genesys import NotFound
from shared.lanes import send, send_by_record, send_ids
from shared.models import ErasureRecord, RequestKind, RequestState, utcnow
from shared.notified import mark_notified
from shared.passes import run_pass
from shared.pipeline import backoff_s, chunks, erasure_task, isolated, kept_while_redis_is_down, load, retry_or_keep, transition
from shared.recording_jobs import recordings_settled
from shared.retention import retire
from shared.runtime import Runtime, get_runtime
from shared.task_names import NOTIFY_CALLBACK_TASK, NOTIFY_TASK, POLL_START_TASK, POLL_TASK, SWEEP_TASK, VERIFY_TASK
from shared.webhooks import CALLBACK, shown_name, target_label

log = logging.getLogger("erasure.polling")

LIST_PAGE_SIZE = 100
SWEEP_EXTRA_PAGES = 3
SWEEP_DIRECT_GETS = 10


@erasure_task(POLL_START_TASK)
def start(runtime: Runtime, request_ids: list[str]) -> None:
    """Requests the deletion pool moved to POLLING: follow their GDPR requests and recording jobs.

    Idempotent (a pending entry set twice, a pass already scheduled). As an ``erasure_task`` it gets the
    pipeline's guarantees: hiccups retried, and a failure that retrying cannot fix fails the requests
    with a reason instead of dropping the message and leaving them in POLLING with nothing to move them."""
    waiting = [record.request_id for record in load(runtime, request_ids, RequestState.POLLING)]
    if waiting:
        start_polling(runtime, waiting)


@erasure_task(POLL_TASK)
def poll(runtime: Runtime, request_ids: list[str]) -> None:
    """Each mode: one GET per platform request."""
    client = runtime.genesys("polling")
    finished: list[str] = []
    waiting: list[ErasureRecord] = []
    for record in load(runtime, request_ids, RequestState.POLLING):
        with isolated(runtime, record, "polling"):
            statuses = {gid: client.get_gdpr_request(gid).status for gid in record.gdpr_request_ids}
            if _settle(runtime, record, statuses):
                finished.append(record.request_id)
            else:
                waiting.append(record)
    finished += _uncertified(runtime, request_ids)
    for batch in chunks(finished, runtime.settings.batch_size):
        send_ids(VERIFY_TASK, batch)
    if waiting:
        attempts = max(r.poll_attempts for r in waiting)
        for record in waiting:
            runtime.store.update(record.request_id, poll_attempts=record.poll_attempts + 1)
        settings = runtime.settings
        if len(waiting) == len(request_ids):
            raise RunLater(min(settings.poll_max_interval_s, settings.poll_interval_s * 1.5**attempts),
                           "the platform is still working on the batch's GDPR requests")
        send_ids(POLL_TASK, [r.request_id for r in waiting], countdown=settings.poll_interval_s)


def _uncertified(runtime: Runtime, request_ids: list[str]) -> list[str]:
    """Requests ended (ERROR, timeout) by a delivery killed before their certificate: the verify task
    certifies them (and scrubs their identifiers), which this pass would otherwise never look at again."""
    ended = load(runtime, request_ids, RequestState.COMPLETED, RequestState.COMPLETED_WITH_WITHHELD,
                 RequestState.PARTIAL)
    return [record.request_id for record in ended if not record.scrubbed]


def _settle(runtime: Runtime, record: ErasureRecord, statuses: dict[str, str]) -> bool:
    """True when the platform is done with this request (for verification); ends it on ERROR/timeout."""
    if "ERROR" in statuses.values():
        failed = sorted(gid for gid, status in statuses.items() if status == "ERROR")
        transition(runtime, record.request_id, RequestState.PARTIAL, "polling.platform_error",
                   details={"gdpr_request_ids": failed},
                   reason=f"GDPR request {', '.join(failed)} ended in ERROR on the platform; open a Genesys "
                          "support case with that id before resubmitting under a new ticket",
                   completed_at=utcnow())
        issue_certificate(runtime, record.request_id)
        return False
    if all(status == "COMPLETED" for status in statuses.values()):
        if record.kind is RequestKind.ACCESS:
            return True  # an export has no recording jobs; ``verify`` reads its links (services.polling.access)
        return recordings_settled(runtime, record)  # and its recording DELETE jobs are final
    waited = (utcnow() - (record.submitted_at or record.updated_at)).total_seconds()
    if waited > runtime.settings.gdpr_timeout_s:
        transition(runtime, record.request_id, RequestState.PARTIAL, "polling.timeout",
                   details={"waited_s": round(waited)},
                   reason="the platform did not complete the GDPR request in time; check its status "
                          "in Genesys Cloud, do not resubmit blindly", completed_at=utcnow())
        issue_certificate(runtime, record.request_id)
    return False


@app.task(name=SWEEP_TASK, bind=True, acks_late=True, max_retries=None)
def sweep(self: Any, token: str | None = None) -> None:
    """List mode: one pass over the platform's GDPR request list serves every pending request."""
    with kept_while_redis_is_down(SWEEP_TASK, 0):  # the one pass on its way: losing it would stop the loop
        runtime = get_runtime()
        run_pass(runtime, task_name=SWEEP_TASK, flag_key=runtime.keys.sweep_scheduled,
                 lock_key=runtime.keys.sweep_lock, pending_key=runtime.keys.pending_gdpr, work=_sweep_once, token=token)


def _sweep_once(runtime: Runtime) -> None:
    pending = {str(k): str(v) for k, v in runtime.redis.hgetall(runtime.keys.pending_gdpr).items()}
    if not pending:
        return
    client = runtime.genesys("polling")
    statuses: dict[str, str] = {}
    # The list is newest first, and ours are recent: they fit in about as many pages as there are of
    # them. A few more pages allow for other requests made meanwhile; whatever is still missing (an
    # old request, a list that orders otherwise) is asked for directly, a few per pass, rather than
    # paging an organisation's whole GDPR history every few seconds.
    max_pages = -(-len(pending) // LIST_PAGE_SIZE) + SWEEP_EXTRA_PAGES
    page = 1
    while len(statuses) < len(pending) and page <= max_pages:
        listing = client.list_gdpr_requests(page_number=page, page_size=LIST_PAGE_SIZE)
        statuses.update({r.id: r.status for r in listing.entities if r.id in pending})
        if not listing.entities or (listing.page_count or 0) <= page:
            break
        page += 1
    for gdpr_id in [g for g in pending if g not in statuses][:SWEEP_DIRECT_GETS]:
        with suppress(NotFound):  # unknown to the platform: it stays pending until the GDPR timeout
            statuses[gdpr_id] = client.get_gdpr_request(gdpr_id).status
    by_request: dict[str, dict[str, str]] = {}
    for gdpr_id, request_id in pending.items():
        by_request.setdefault(request_id, {})[gdpr_id] = statuses.get(gdpr_id, "UNKNOWN")
    finished: list[str] = []
    for record in load(runtime, by_request, RequestState.POLLING):
        with isolated(runtime, record, "polling"):
            if _settle(runtime, record, by_request[record.request_id]):
                finished.append(record.request_id)
    finished += _uncertified(runtime, list(by_request))
    # One sweep serves every request in polling, of both lanes: each goes on in its own.
    send_by_record(runtime, VERIFY_TASK, finished, batch_size=runtime.settings.batch_size)
    done = [gid for gid, rid in pending.items()
            if rid in finished or runtime.store.get(rid).state is not RequestState.POLLING]
    if done:
        runtime.redis.hdel(runtime.keys.pending_gdpr, *done)


@erasure_task(VERIFY_TASK)
def verify(runtime: Runtime, request_ids: list[str]) -> None:
    # A delivery that died between a request's final state and its certificate left it final but
    # uncertified, with identifiers in clear: finish that first (issue_certificate is idempotent).
    for record in load(runtime, request_ids, RequestState.COMPLETED, RequestState.COMPLETED_WITH_WITHHELD,
                       RequestState.PARTIAL):
        if not record.scrubbed:
            issue_certificate(runtime, record.request_id)
    claimed = [rid for rid in request_ids
               if runtime.store.claim_state(rid, RequestState.POLLING, RequestState.VERIFYING)]
    records = load(runtime, request_ids, RequestState.VERIFYING)
    for record in records:
        if record.request_id in claimed:
            runtime.audit.append("polling.platform_completed", request_id=record.request_id,
                                 subject=runtime.digest(record),
                                 details={"state": "verifying", "gdpr_request_ids": record.gdpr_request_ids})
    for record in [r for r in records if r.kind is RequestKind.ACCESS]:
        with isolated(runtime, record, "export"):  # nothing to read back: the links are handed over
            if finish_access(runtime, record):
                issue_certificate(runtime, record.request_id)
    records = [r for r in records if r.kind is not RequestKind.ACCESS]
    records = fold_results(runtime, records)  # failed recordings of the request's recording jobs
    client = runtime.genesys("polling")
    conversations = read_back_conversations(client, records)
    contacts = read_back_contacts(client, records)
    for record in records:
        with isolated(runtime, record, "verification"):  # one request's trouble is not its batch's
            verification = verify_one(client, record, conversations, contacts)
            refused = partial_reason(runtime, record)  # 409s and failed recording jobs
            if verification.ok and not refused:
                held = record.excluded or record.withheld
                state = RequestState.COMPLETED_WITH_WITHHELD if held else RequestState.COMPLETED
                transition(runtime, record.request_id, state, "verification.passed",
                           details={"conversations": verification.checked_conversations},
                           verification=verification, completed_at=utcnow())
            else:
                transition(runtime, record.request_id, RequestState.PARTIAL, "verification.remnants_found",
                           details={"remnants": verification.remnants}, verification=verification,
                           reason=refused or "data of the subject remained after the platform completed; the remnants are "
                                  "listed by id: submit a follow-up request for them", completed_at=utcnow())
            issue_certificate(runtime, record.request_id)


def issue_certificate(runtime: Runtime, request_id: str) -> None:
    """Sign and store the request's certificate at the audit position it is issued at, queue the final event
    for downstream, then scrub the record. With no signing key this raises ConfigError naming the variable: an
    unsigned certificate is never stored (workers refuse to start without the key, services.startup_checks).
    Idempotent: issuing the same statement again keeps the stored certificate.

    The event is queued before the scrub: a redelivery issues again only while the record is unscrubbed
    (``verify``), so a delivery killed after the scrub but before the sends would lose the event for good;
    killed after the sends, the event is queued twice and the second send finds it already delivered."""
    signer = runtime.settings.require_signer()
    record = runtime.store.get(request_id)
    position = runtime.audit.head_position()  # read once: the certificate's position and the checkpoint's
    head = None if position is None else f"{position[0]}:{position[1]}"
    certificate = issue(runtime.redis, runtime.keys, signer, build_certificate(record, runtime.digest(record), head))
    write_checkpoint(runtime, position)  # the head as of this certificate, signed: cut-off entries then show
    runtime.audit.append("certificate.issued", request_id=request_id, subject=certificate["subject_digest"],
                         details={"outcome": certificate["outcome"], "deadline_met": certificate["deadline_met"],
                                  "certificate_id": certificate["certificate_id"]})
    for name in runtime.settings.webhook_target_urls:
        send(NOTIFY_TASK, [request_id, name], lane=record.lane)
    if record.callback_url is not None:
        send(NOTIFY_CALLBACK_TASK, [request_id], lane=record.lane)
    retire(runtime, record)  # scrubbed, compacted, its transcripts gone
    runtime.audit.append("request.scrubbed", request_id=request_id, subject=certificate["subject_digest"])


@app.task(name=NOTIFY_TASK, bind=True, acks_late=True, max_retries=None)
def notify(self: Any, request_id: str, target: str | int) -> None:
    """Tell one downstream system (by its target name); after the configured attempts, park the event
    for replay. An int is a message queued by an older version (a position in the list of targets)."""
    with kept_while_redis_is_down(NOTIFY_TASK, 1):  # Redis down: the event waits with its message
        runtime = get_runtime()
        if isinstance(target, int):
            names = list(runtime.settings.webhook_target_urls)
            target = names[target] if 0 <= target < len(names) else f"#{target}"
        deliver(self, runtime, request_id, target)


@app.task(name=NOTIFY_CALLBACK_TASK, bind=True, acks_late=True, max_retries=None)
def notify_callback(self: Any, request_id: str) -> None:
    """Tell the request's own callback URL, like a global target (same signature, retries, dead letter).
    Its URL is read from the record at every send and sent to only if the allow-list accepts it now."""
    with kept_while_redis_is_down(NOTIFY_CALLBACK_TASK, 1):
        deliver(self, get_runtime(), request_id, CALLBACK)


def deliver(task: Any, runtime: Runtime, request_id: str, target: str) -> None:
    """One attempt of the final event to the target named ``target``; retried by ``task``, then parked
    (by name) for replay. A name the sender refuses (not configured or allowed now) is audited and never
    retried or parked."""
    raw = runtime.redis.get(runtime.keys.certificate(request_id))
    if raw is None:
        return
    certificate = json.loads(str(raw))
    sender = runtime.webhooks()
    result = sender.send(request_id, target, final_event(runtime.redis, runtime.keys, request_id, certificate))
    attempts = task.request.retries + 1
    if result.refused:
        log.warning("webhook to target %r refused: not a configured target nor an allowed callback",
                    shown_name(target))
        runtime.audit.append("webhook.refused", request_id=request_id, subject=certificate.get("subject_digest"),
                             details={"target": shown_name(target)})
        return
    if result.delivered:
        if not result.already and result.url is not None:
            mark_notified(runtime, request_id, result.url)
        return
    if attempts < runtime.settings.webhook_attempts:
        # A retry Celery cannot publish (Redis down) keeps the message instead of dropping the event.
        retry_or_keep(task, backoff_s(task.request.retries, base=2.0, cap=runtime.settings.retry_backoff_cap_s))
    sender.park(request_id, target, attempts, result.error or "failed")  # replay rebuilds the body, checked
    runtime.audit.append("webhook.dead_lettered", request_id=request_id,
                         subject=certificate.get("subject_digest"),
                         details={"target": shown_name(target), "host": target_label(result.url or ""), "attempts": attempts,
                                  "error": result.error})

