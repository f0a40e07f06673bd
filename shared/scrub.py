"""Scrubbing a final request: its stored identifiers become keyed digests.

Once a request is final (and its certificate issued), nothing in Redis needs the subject's
identifiers in clear any more: the certificate and audit already hold only digests. Record ids of
platform objects (conversations, contacts, GDPR requests) stay, so the erasure can still be traced.

What only the work in flight read goes too (the record is compacted): which conversations redaction was
to read, which source found which identifier, when discovery last looked again. Kept: what ``erasure
status``, the API, the certificate and a later release of held conversations (which deletes and verifies
again: conversation and message ids, conversations then in progress) read.
"""

from __future__ import annotations

from shared.digest import digest_value
from shared.models import ErasureRecord, Subject


def _digest_subject(key: bytes, subject: Subject | None) -> Subject | None:
    if subject is None:
        return None
    return Subject(
        emails=[digest_value(key, v) for v in subject.emails],
        phones=[digest_value(key, v) for v in subject.phones],
        names=[digest_value(key, v) for v in subject.names],
        external_contact_ids=subject.external_contact_ids,
        user_id=subject.user_id,
        cookie_ids=[digest_value(key, v) for v in subject.cookie_ids],
    )


def scrub_record(key: bytes, record: ErasureRecord) -> ErasureRecord:
    """A copy of the record with every identifying value replaced by its digest (idempotent)."""
    if record.scrubbed:
        return record
    return record.model_copy(update={
        "subject": _digest_subject(key, record.subject),
        "identity": _digest_subject(key, record.identity),
        "excluded": _digest_subject(key, record.excluded),
        "message_conversation_ids": [],
        "identity_sources": {},
        "last_revisit_at": None,
        "scrubbed": True,
    })
