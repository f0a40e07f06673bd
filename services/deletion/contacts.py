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

from shared.effects import DELETED, AlreadyGone, Blocked, Done, EffectKey, Outcome
from shared.genesys import BULK_CONTACT_IDS, GenesysClient, GenesysError
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
    targets = {(record.request_id, contact_effect(contact_id)): contact_id
               for record in records for contact_id in record.effective_identity.external_contact_ids}
    by_id = {record.request_id: record for record in records}
    errors: dict[str, GenesysError] = {}  # contact id -> the first failure to read an answer for it

    def send(chunk: list[str]) -> dict[str, Outcome]:
        try:
            answered, failed = client.delete_contacts_bulk(chunk)
        except TRANSIENT:
            raise  # what earlier chunks did is recorded; the retry sends the rest
        except GenesysError as exc:  # the whole call refused (403, 400): its requests fail, not the batch
            answered, failed = {}, dict.fromkeys(chunk, exc)
        for contact_id, error in failed.items():
            errors.setdefault(contact_id, error)
        return {contact_id: _outcome_of(item) for contact_id, item in answered.items()}

    def audit(key: EffectKey, outcome: Outcome) -> None:
        _audit(runtime, by_id[key[0]], targets[key], outcome)

    results = runtime.effects.once_bulk(targets, send, BULK_CONTACT_IDS, on_result=audit)
    outcomes = {record.request_id: ContactsOutcome() for record in records}
    transient: GenesysError | None = None
    for key, contact_id in targets.items():
        request_id = key[0]
        result = results.get(key)
        if result is None:  # no answer read: it keeps its intent and is sent again next time
            error = errors.get(contact_id)
            if isinstance(error, TRANSIENT):
                transient = transient or error
            outcomes[request_id].error = outcomes[request_id].error or error
        elif isinstance(result, Blocked):
            outcomes[request_id].blocked.append(f"external contact {contact_id}: 409 {result.code}")
        else:
            outcomes[request_id].deleted.append(contact_id)
    if transient is not None:
        raise transient
    return outcomes


def _outcome_of(item: BulkItemResult) -> Outcome:
    if item.success:
        return Done(DELETED)
    if item.status_code == 404:
        return AlreadyGone()
    return Blocked((item.error.code if item.error else None) or "conflict")  # 409: never retried


def _audit(runtime: Runtime, record: ErasureRecord, contact_id: str, outcome: Outcome) -> None:
    runtime.audit.append("deletion.contact_deleted", request_id=record.request_id, subject=runtime.digest(record),
                         details={"contact_id": contact_id, "already_gone": isinstance(outcome, AlreadyGone),
                                  "blocked": isinstance(outcome, Blocked)})
    if isinstance(outcome, Blocked):
        runtime.audit.append("deletion.blocked", request_id=record.request_id, subject=runtime.digest(record),
                             details={"effect": "contact", "status": 409, "code": outcome.code})
