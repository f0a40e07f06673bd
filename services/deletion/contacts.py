"""External contacts of a whole deletion batch, removed in bulk calls, each exactly once in the ledger.

Every contact is its own effect in its request's ledger: an intent is recorded for each before the
bulk call, the result for each after it. A redelivered batch skips contacts whose result is recorded
and sends the rest again: removing a contact twice is harmless (the platform answers 404 for that id,
which means already gone, which is success). A 409 for an id is recorded as blocked and never retried;
any other failure of one id fails (or, if transient, retries) only what owns that id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from services.deletion.recordings import BLOCKED
from shared.genesys import GenesysClient, GenesysError, bulk_chunks
from shared.genesys.models import BulkItemResult
from shared.models import ErasureRecord
from shared.pipeline import TRANSIENT
from shared.runtime import Runtime


@dataclass
class ContactsOutcome:
    """One request's contacts: removed (or already gone), the ones the platform refused, and the
    first failure to read any other answer for one of them (the request fails or retries on it)."""

    deleted: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    error: GenesysError | None = None


def contact_effect(contact_id: str) -> str:
    """The ledger name of deleting one contact (hashed: effect keys are listed by operators)."""
    return f"contact:{hashlib.sha256(contact_id.encode()).hexdigest()[:24]}"


def delete_contacts(runtime: Runtime, client: GenesysClient,
                    records: list[ErasureRecord]) -> dict[str, ContactsOutcome]:
    """Delete every external contact of ``records``; returns each request's outcome by request id.

    Results are recorded chunk by chunk, so a failure in a later call loses nothing already known.
    A transient failure of one id (5xx, 429) is raised once everything else is recorded: the batch is
    retried and sends only what has no result yet.
    """
    results: dict[tuple[str, str], str] = {}  # (request id, contact id) -> recorded result
    to_send: dict[str, list[str]] = {}  # contact id -> the requests that own it
    for record in records:
        for contact_id in record.effective_identity.external_contact_ids:
            effect = contact_effect(contact_id)
            existing = runtime.effects.get(record.request_id, effect)
            if existing is not None and existing.state == "done" and existing.platform_id:
                results[(record.request_id, contact_id)] = existing.platform_id
            else:
                runtime.effects.record_intent(record.request_id, effect)
                to_send.setdefault(contact_id, []).append(record.request_id)
    by_id = {record.request_id: record for record in records}
    outcomes = {record.request_id: ContactsOutcome() for record in records}
    transient: GenesysError | None = None
    for chunk in bulk_chunks(list(to_send)):
        try:
            answered, errors = client.delete_contacts_bulk(chunk)
        except TRANSIENT:
            raise  # what earlier chunks did is recorded; the retry sends the rest
        except GenesysError as exc:  # the whole call refused (403, 400): its requests fail, not the batch
            answered, errors = {}, dict.fromkeys(chunk, exc)
        for contact_id, item in answered.items():
            result = _result_of(item)
            for request_id in to_send[contact_id]:
                _record(runtime, by_id[request_id], contact_id, result)
                results[(request_id, contact_id)] = result
        for contact_id, error in errors.items():
            if isinstance(error, TRANSIENT):
                transient = transient or error
            for request_id in to_send[contact_id]:
                outcomes[request_id].error = outcomes[request_id].error or error
    if transient is not None:
        raise transient
    for (request_id, contact_id), result in results.items():
        if result.startswith(BLOCKED):
            outcomes[request_id].blocked.append(f"external contact {contact_id}: 409 {result.removeprefix(BLOCKED)}")
        else:
            outcomes[request_id].deleted.append(contact_id)
    return outcomes


def _result_of(item: BulkItemResult) -> str:
    if item.success:
        return "deleted"
    if item.status_code == 404:
        return "already_gone"
    return BLOCKED + ((item.error.code if item.error else None) or "conflict")  # 409: never retried


def _record(runtime: Runtime, record: ErasureRecord, contact_id: str, result: str) -> None:
    runtime.effects.record_done(record.request_id, contact_effect(contact_id), result)
    runtime.audit.append("deletion.contact_deleted", request_id=record.request_id, subject=runtime.digest(record),
                         details={"contact_id": contact_id, "already_gone": result == "already_gone",
                                  "blocked": result.startswith(BLOCKED)})
    if result.startswith(BLOCKED):
        runtime.audit.append("deletion.blocked", request_id=record.request_id, subject=runtime.digest(record),
                             details={"effect": "contact", "status": 409, "code": result.removeprefix(BLOCKED)})
