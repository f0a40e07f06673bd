"""Purge-polling pool: follow the platform's job to its end, verify by reading back, certify.

A GDPR request that ends in ERROR, or outlives its timeout, makes the request PARTIAL with the
reason and the operator's next step; it is never blindly resubmitted.
"""

from __future__ import annotations

from services.polling.verify import verify_erasure
from shared.certificate import build_certificate, certificate_json
from shared.models import RequestState, utcnow
from shared.pipeline import Reschedule, erasure_task, transition
from shared.runtime import Runtime


@erasure_task("erasure.polling.poll")
def poll(runtime: Runtime, request_id: str) -> None:
    record = runtime.store.get(request_id)
    if record.state is not RequestState.POLLING:
        return
    client = runtime.genesys("polling")
    settings = runtime.settings
    statuses = {gid: client.get_gdpr_request(gid).status for gid in record.gdpr_request_ids}
    if "ERROR" in statuses.values():
        failed = [gid for gid, status in statuses.items() if status == "ERROR"]
        transition(runtime, request_id, RequestState.PARTIAL, "polling.platform_error",
                   details={"gdpr_request_ids": failed},
                   reason=f"GDPR request {', '.join(failed)} ended in ERROR on the platform; open a Genesys "
                          "support case with that id before resubmitting under a new ticket",
                   completed_at=utcnow())
        issue_certificate(runtime, request_id)
        return
    if any(status != "COMPLETED" for status in statuses.values()):
        waited = (utcnow() - (record.submitted_at or record.updated_at)).total_seconds()
        if waited > settings.gdpr_timeout_s:
            transition(runtime, request_id, RequestState.PARTIAL, "polling.timeout",
                       details={"waited_s": round(waited)},
                       reason="the platform did not complete the GDPR request in time; check its status "
                              "in Genesys Cloud, do not resubmit blindly", completed_at=utcnow())
            issue_certificate(runtime, request_id)
            return
        runtime.store.update(request_id, poll_attempts=record.poll_attempts + 1)
        raise Reschedule(min(settings.poll_max_interval_s, settings.poll_interval_s * 1.5**record.poll_attempts))

    transition(runtime, request_id, RequestState.VERIFYING, "polling.platform_completed",
               details={"gdpr_request_ids": record.gdpr_request_ids})
    verification = verify_erasure(client, runtime.store.get(request_id))
    if verification.ok:
        transition(runtime, request_id, RequestState.COMPLETED, "verification.passed",
                   details={"conversations": verification.checked_conversations},
                   verification=verification, completed_at=utcnow())
    else:
        transition(runtime, request_id, RequestState.PARTIAL, "verification.remnants_found",
                   details={"remnants": verification.remnants}, verification=verification,
                   reason="data of the subject remained after the platform completed; the remnants are "
                          "listed by id: submit a follow-up request for them", completed_at=utcnow())
    issue_certificate(runtime, request_id)


def issue_certificate(runtime: Runtime, request_id: str) -> None:
    record = runtime.store.get(request_id)
    certificate = build_certificate(record, runtime.digest(record), runtime.audit.head())
    runtime.redis.set(runtime.keys.certificate(request_id), certificate_json(certificate))
    runtime.audit.append("certificate.issued", request_id=request_id, subject=certificate["subject_digest"],
                         details={"outcome": certificate["outcome"], "deadline_met": certificate["deadline_met"]})
