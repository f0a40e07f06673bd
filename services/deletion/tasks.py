"""Deletion pool: the step that cannot be undone, done exactly once and only when approved.

Each platform side effect is bracketed by the effect ledger: an intent before the call, the
platform's id after it. A redelivered task that finds an intent without an id reconciles against
the platform's own list of GDPR requests (we name each request after our request id) before it
would submit again.
"""

from __future__ import annotations

import hashlib
import logging

from services.polling.schedule import start_polling
from shared.genesys import GenesysClient
from shared.genesys.models import GdprSubject
from shared.models import ErasureRecord, RequestState, utcnow
from shared.pipeline import erasure_task, isolated, load, transition
from shared.runtime import Runtime

log = logging.getLogger("erasure.deletion")

GDPR_DELETE = "gdpr_delete"
RECONCILE_PAGES = 200


def gdpr_request_name(request_id: str) -> str:
    """The platform-side name of our GDPR request: how we find it again, without personal data."""
    return f"erasure-{request_id}"


def gdpr_subject_for(record: ErasureRecord) -> GdprSubject:
    identity = record.erasable_identity
    return GdprSubject(
        name=identity.names[0] if identity.names else None,
        emailAddresses=identity.emails,
        phoneNumbers=identity.phones,
        externalContactId=identity.external_contact_ids[0] if identity.external_contact_ids else None,
        userId=identity.user_id,
    )


@erasure_task("erasure.deletion.erase")
def erase(runtime: Runtime, request_ids: list[str]) -> None:
    client = runtime.genesys("deletion")
    submitted: list[str] = []
    for record in load(runtime, request_ids, RequestState.DELETING):
        with isolated(runtime, record, "deletion"):
            if record.approval is None and runtime.settings.require_approval:
                # The gate holds even if a task was sent here by mistake: nothing is deleted unapproved.
                transition(runtime, record.request_id, RequestState.AWAITING_APPROVAL, "deletion.refused_unapproved")
                continue
            deleted = delete_contacts(runtime, client, record)
            gdpr_id = submit_gdpr_delete(runtime, client, record)
            transition(runtime, record.request_id, RequestState.POLLING, "deletion.submitted",
                       details={"gdpr_request_id": gdpr_id, "contacts_deleted": len(deleted)},
                       gdpr_request_ids=[gdpr_id], contacts_deleted=deleted,
                       submitted_at=record.submitted_at or utcnow())
            submitted.append(record.request_id)
    if submitted:
        start_polling(runtime, submitted)


def delete_contacts(runtime: Runtime, client: GenesysClient, record: ErasureRecord) -> list[str]:
    """Delete every external contact of the subject; 404 means already gone, which is success."""
    done: list[str] = []
    for contact_id in record.effective_identity.external_contact_ids:
        effect = f"contact:{hashlib.sha256(contact_id.encode()).hexdigest()[:24]}"
        existing = runtime.effects.get(record.request_id, effect)
        if existing is None or existing.state != "done":
            runtime.effects.record_intent(record.request_id, effect)
            existed = client.delete_contact(contact_id)
            runtime.effects.record_done(record.request_id, effect, contact_id)
            runtime.audit.append("deletion.contact_deleted", request_id=record.request_id,
                                 subject=runtime.digest(record),
                                 details={"contact_id": contact_id, "already_gone": not existed})
        done.append(contact_id)
    return done


def submit_gdpr_delete(runtime: Runtime, client: GenesysClient, record: ErasureRecord) -> str:
    """Submit the one GDPR_DELETE of this request, or find the one already submitted."""
    request_id = record.request_id
    existing = runtime.effects.get(request_id, GDPR_DELETE)
    if existing and existing.platform_id:
        return existing.platform_id
    if existing is not None:
        found = reconcile_gdpr_request(client, gdpr_request_name(request_id))
        if found is not None:
            log.warning("request %s: found GDPR request %s submitted before a crash", request_id, found)
            runtime.effects.record_done(request_id, GDPR_DELETE, found)
            return found
    else:
        runtime.effects.record_intent(request_id, GDPR_DELETE)
    created = client.create_gdpr_request("GDPR_DELETE", gdpr_subject_for(record),
                                         name=gdpr_request_name(request_id))
    runtime.effects.record_done(request_id, GDPR_DELETE, created.id)
    runtime.audit.append("deletion.gdpr_request_submitted", request_id=request_id,
                         subject=runtime.digest(record), details={"gdpr_request_id": created.id})
    return created.id


def reconcile_gdpr_request(client: GenesysClient, name: str) -> str | None:
    """Search the platform's list of GDPR requests (newest first) for one with our name."""
    for page in range(1, RECONCILE_PAGES + 1):
        listing = client.list_gdpr_requests(page_number=page, page_size=100)
        for request in listing.entities:
            if request.name == name:
                return request.id
        if not listing.entities or (listing.page_count or 0) <= page:
            return None
    return None
