"""The erasure certificate: what a DPO shows a regulator, with no personal data in it.

``build_certificate`` states what happened; ``shared.certificate_signing`` signs it at issue and
``shared.certificate_store`` keeps it unchanged after (an amendment is a new certificate).
"""

from __future__ import annotations

import json
from typing import Any

from shared.anonymise import replaced_counts
from shared.audit import parse_head
from shared.models import Approval, ErasureRecord, RequestKind, RequestState, utcnow
from shared.webhooks import target_label

# 2: signed at issue (shared.certificate_signing), audit_position, no downstream_notified (kept apart).
CERTIFICATE_VERSION = 2


REASSIGNED_BASIS = (
    "identifier used by another person after the request's date window; the platform's GDPR API "
    "erases a value everywhere without a date bound, so it was kept out to protect the later owner"
)

NAMES_BASIS = (
    "names were not sent with the GDPR_DELETE: the platform searches by a name and a common one reaches "
    "namesakes; they were used only to search, and may remain in the subject's conversations (the operator "
    "can opt in per request with erase_by_name)"
)

#: Why an anonymise request leaves journey cookies as they are (its external contacts are deleted).
COOKIE_BASIS = (
    "a web-messaging journey cookie has no replacement-term type on the platform (GDPR_UPDATE replaces names, "
    "addresses, phones, emails, social handles and external ids), so anonymising cannot rewrite it; the "
    "contact that tied it to the subject was deleted, and an erase request removes it"
)


def withheld(record: ErasureRecord) -> list[dict[str, Any]]:
    """What was not erased and why, by kind and count (identifiers) or by platform id and hold
    (conversations whose recordings a legal hold keeps, a subject held as a whole): never the values."""
    out: list[dict[str, Any]] = []
    for entry in record.withheld:
        item: dict[str, Any] = {"kind": entry.kind, "count": 1, "hold": entry.hold, "reason": entry.reason,
                                "basis": entry.basis}
        if entry.id is not None:
            item["id"] = entry.id
        out.append(item)
    cookies = record.erasable_identity.cookie_ids
    if record.kind is RequestKind.ANONYMISE and cookies:
        out.append({"kind": "identifier:journey_cookie", "count": len(cookies), "basis": COOKIE_BASIS})
    if record.excluded and not record.excluded.is_empty():
        for kind, values in (("phone", record.excluded.phones), ("email", record.excluded.emails)):
            if values:
                out.append({"kind": f"identifier:{kind}", "count": len(values), "basis": REASSIGNED_BASIS})
    return out


def names_block(record: ErasureRecord) -> dict[str, Any]:
    """Whether the subject's names went with the GDPR_DELETE (only on the operator's opt-in, never alone:
    a name widens the deletion to namesakes), and how many were only searched with, and why."""
    not_sent = 0 if record.gdpr_names_sent else len(record.erasable_identity.names)
    block: dict[str, Any] = {"erase_by_name": record.erase_by_name, "sent_to_gdpr_delete": record.gdpr_names_sent,
                             "not_sent": not_sent}
    if not_sent:
        block["basis"] = NAMES_BASIS
    return block


#: An approval with no scope (pre-approved upstream, an operator-side door, a retention purge) is a standing
#: approval of the subject as discovery found it, not a person's look at a scope.
AS_DISCOVERED = "as discovered"


def approval_block(approval: Approval | None) -> dict[str, Any] | None:
    """Who approved, and which scope: its digest and counts, or ``AS_DISCOVERED`` for a standing approval."""
    if approval is None:
        return None
    block = approval.model_dump(mode="json", exclude_none=True)
    block["scope"] = block.get("scope") or AS_DISCOVERED
    if not approval.reviewed:
        block.pop("reviewed", None)  # said only where a review before delete was in front of the approver
    return block


def anonymised_block(record: ErasureRecord) -> dict[str, Any] | None:
    """What an anonymise request's GDPR_UPDATE replaced (counts by kind) and kept; None for other kinds."""
    if record.kind is not RequestKind.ANONYMISE:
        return None
    return {"identifiers": replaced_counts(record), "conversations_kept": len(record.conversation_ids)}


def audit_position(audit_head: str | None) -> dict[str, Any] | None:
    """Where the audit chain stood at issue, from its stored head ``"<seq>:<hash>"``: the entry's seq and
    hash, explicit, so an auditor can find that entry in the chain (None before any entry)."""
    if audit_head is None:
        return None
    seq, digest = parse_head(audit_head)
    return {"seq": seq, "hash": digest}


def review_block(record: ErasureRecord) -> dict[str, Any] | None:
    review = record.review
    if review is None:
        return None
    return {"status": review.status, "flagged": review.flagged, "gdpr_request_ids": review.gdpr_request_ids,
            "completed_at": review.completed_at.isoformat() if review.completed_at else None,
            "export": review.summary.model_dump(mode="json") if review.summary else None,
            "discovered_conversations": review.discovered_conversations,
            "missed_conversation_ids": review.missed_conversation_ids,
            "missed_external_contacts": review.missed_external_contacts}


def build_certificate(record: ErasureRecord, subject_digest: str, audit_head: str | None) -> dict[str, Any]:
    """What the request did, from its record. ``audit_head`` is the audit log's stored head at issue
    (``"<seq>:<hash>"``). Unsigned: ``shared.certificate_signing.sign`` adds the issue fields."""
    completed = record.completed_at or utcnow()
    anonymise = record.kind is RequestKind.ANONYMISE
    verification = record.verification
    position = audit_position(audit_head)
    certificate: dict[str, Any] = {
        "certificate_version": CERTIFICATE_VERSION,
        "ticket": record.ticket,
        "request_id": record.request_id,
        "kind": record.kind.value,
        "subject_digest": subject_digest,
        "outcome": record.state.value,
        "received_at": record.received_at.isoformat(),
        "verified_at": record.verified_at.isoformat(),
        "submitted_at": record.submitted_at.isoformat() if record.submitted_at else None,
        "completed_at": completed.isoformat(),
        "deadline": record.deadline.isoformat(),
        "deadline_met": completed <= record.deadline,
        "approval": approval_block(record.approval),
        # Approvals the gate stopped honouring because the scope widened after them (shared.approval_gate).
        "superseded_approvals": [approval_block(a) for a in record.superseded_approvals],
        "platform": {"gdpr_request_ids": record.gdpr_request_ids, "recording_job_ids": record.recording_job_ids},
        "retention_policy": record.purge_policy,
        # Names widen a GDPR_DELETE to namesakes: sent only on the operator's opt-in, never alone.
        "names": names_block(record),
        "erased": {
            # Reassigned numbers are withheld, not erased; so are names not sent with the GDPR_DELETE. An
            # anonymise erases neither identifiers nor conversations: it replaces them ("anonymised" below).
            "identifiers": 0 if anonymise else len(record.erasable_identity.values())
            - (0 if record.gdpr_names_sent else len(record.erasable_identity.names)),
            "conversations": 0 if anonymise else len(record.conversation_ids),
            "external_contacts": len(record.contacts_deleted),
            "recordings_of_conversations": len(record.recording_conversation_ids),
            "users": record.users_deleted,
        },
        "recordings_deferred_to_retention_purge": record.recordings_deferred,
        "failed_recordings": record.failed_recordings,
        "blocked": record.blocked,
        "withheld": withheld(record),
        "verification": verification.model_dump(mode="json") if verification else None,
        "reason": record.reason,
        # The request's own callback, by scheme and host (its path or query may hold a token).
        "callback": target_label(record.callback_url) if record.callback_url else None,
        # The audit position at issue; audit_chain_head (its hash) is kept for readers of version 1.
        "audit_position": position,
        "audit_chain_head": position["hash"] if position else None,
        "complete": record.state in (RequestState.COMPLETED, RequestState.COMPLETED_WITH_WITHHELD),
        # Anonymise (issue 17): identifiers replaced by placeholders, by kind, and the conversations kept.
        "anonymised": anonymised_block(record),
    }
    if record.review is not None:
        # Review before delete (issue 17): what the platform's own export held beside what discovery found,
        # counts and platform ids only; the conversations discovery missed were erased with the rest.
        certificate["review"] = review_block(record)
    if record.kind is RequestKind.ACCESS:
        # What was exported and when (the platform's request, its completion, the link's expiry), never the
        # link; an access request erases nothing, so it counts nothing as erased.
        certificate["erased"] = {}
        certificate["export"] = record.export.model_dump(mode="json") if record.export else None
    return certificate


def certificate_json(certificate: dict[str, Any]) -> str:
    return json.dumps(certificate, indent=2, sort_keys=True)
