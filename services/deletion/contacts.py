"""External contacts of a whole deletion batch, removed in bulk calls, each exactly once in the ledger.

Every contact is its own effect in its request's ledger: an intent is recorded for each before the
bulk call, the result for each after it. A redelivered batch skips contacts whose result is recorded
and sends the rest again: removing a contact twice is harmless (the platform answers 404 for that id,
which means already gone, which is success). A 409 for an id is recorded as blocked and never retried.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from services.deletion.recordings import BLOCKED
from shared.genesys import GenesysClient
from shared.models import ErasureRecord
from shared.runtime import Runtime


@dataclass
class ContactsOutcome:
    """One request's contacts: removed (or already gone), and the ones the platform refused."""

    deleted: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def contact_effect(contact_id: str) -> str:
    """The ledger name of deleting one contact (hashed: effect keys are listed by operators)."""
    return f"contact:{hashlib.sha256(contact_id.encode()).hexdigest()[:24]}"


def delete_contacts(runtime: Runtime, client: GenesysClient,
                    records: list[ErasureRecord]) -> dict[str, ContactsOutcome]:
    """Delete every external contact of ``records``; returns each request's outcome by request id."""
    results: dict[tuple[str, str], str] = {}  # (request id, contact id) -> recorded result
    to_send: dict[tuple[str, str], str] = {}  # (request id, contact id) -> effect
    for record in records:
        for contact_id in record.effective_identity.external_contact_ids:
            effect = contact_effect(contact_id)
            existing = runtime.effects.get(record.request_id, effect)
            if existing is not None and existing.state == "done" and existing.platform_id:
                results[(record.request_id, contact_id)] = existing.platform_id
            else:
                runtime.effects.record_intent(record.request_id, effect)
                to_send[(record.request_id, contact_id)] = effect
    answered = client.delete_contacts_bulk([c for _, c in to_send]) if to_send else {}
    by_id = {record.request_id: record for record in records}
    for (request_id, contact_id), effect in to_send.items():
        item = answered[contact_id]
        if item.success:
            result = "deleted"
        elif item.status_code == 404:
            result = "already_gone"
        else:  # 409: the platform refused; what blocked it is recorded, never retried
            result = BLOCKED + ((item.error.code if item.error else None) or "conflict")
        runtime.effects.record_done(request_id, effect, result)
        results[(request_id, contact_id)] = result
        record = by_id[request_id]
        runtime.audit.append("deletion.contact_deleted", request_id=request_id, subject=runtime.digest(record),
                             details={"contact_id": contact_id, "already_gone": result == "already_gone",
                                      "blocked": result.startswith(BLOCKED)})
        if result.startswith(BLOCKED):
            runtime.audit.append("deletion.blocked", request_id=request_id, subject=runtime.digest(record),
                                 details={"effect": "contact", "status": 409, "code": result.removeprefix(BLOCKED)})
    outcomes = {record.request_id: ContactsOutcome() for record in records}
    for (request_id, contact_id), result in results.items():
        if result.startswith(BLOCKED):
            outcomes[request_id].blocked.append(f"external contact {contact_id}: 409 {result.removeprefix(BLOCKED)}")
        else:
            outcomes[request_id].deleted.append(contact_id)
    return outcomes
