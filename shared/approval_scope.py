"""The scope of an approval: what deletion will act on, as a keyed digest and counts.

A person approves what they were shown. If discovery or redaction later widens what the erasure reaches
(a contact found from an email, an address the subject typed in a chat, more conversations), that approval
no longer covers it and the request goes back to the gate (``shared.approval_gate``).

The scope is the erasable identity (what the GDPR_DELETEs and the contact and user deletions name: emails,
phones, external contact ids, journey cookie ids, the user id, and names only when the operator opted in
with ``erase_by_name``) plus the conversations discovery and redaction put in scope (their recordings are
deleted by conversation). Reassigned numbers (``excluded``) are not in it: deletion does not touch them.
Which recordings exist is learnt only by the deletion pool, after the gate, so recordings are covered by
their conversations, not counted.

The digest is an HMAC under the deployment's key over a sorted, de-duplicated, kind-tagged list, so it is
the same whatever order discovery found things in, and a guessed email cannot be tested against it.
"""

from __future__ import annotations

import json

from shared.digest import digest_value
from shared.models import Approval, ApprovalScope, ErasureRecord

#: Domain separation: a scope digest never equals a subject digest of the same values.
_VERSION = "approval-scope:v1"


def _entries(record: ErasureRecord) -> dict[str, list[str]]:
    identity = record.erasable_identity
    return {
        "emails": identity.emails,
        "phones": identity.phones,
        "names": identity.names if record.erase_by_name else [],
        "external_contacts": identity.external_contact_ids,
        "cookies": identity.cookie_ids,
        "user": [identity.user_id] if identity.user_id else [],
        "conversations": [*record.conversation_ids, *record.sensitive_conversation_ids],
    }


def scope_digest(key: bytes, record: ErasureRecord) -> str:
    """One keyed digest of what deletion would act on now; insensitive to order and repetition."""
    tagged = sorted({f"{kind}:{value}" for kind, values in _entries(record).items() for value in values})
    return digest_value(key, _VERSION + "\n" + json.dumps(tagged, separators=(",", ":")))


def scope_summary(record: ErasureRecord) -> tuple[dict[str, int], int]:
    """Counts a person can check: identifiers by kind, and conversations (distinct)."""
    entries = _entries(record)
    conversations = len(set(entries.pop("conversations")))
    return {kind: len(set(values)) for kind, values in entries.items()}, conversations


def current_scope(key: bytes, record: ErasureRecord) -> ApprovalScope:
    """The request's scope as it stands: what an approval given now is bound to."""
    identifiers, conversations = scope_summary(record)
    return ApprovalScope(digest=scope_digest(key, record), identifiers=identifiers, conversations=conversations)


def stale_approval(key: bytes, record: ErasureRecord) -> Approval | None:
    """The request's approval if it no longer covers the request, else None.

    It does not when it was given against a scope that is no longer the request's, or before a review
    before delete that was flagged (the export held what discovery missed, or could not be read): the
    approver had not seen that, whatever kind of approval it was. Otherwise an approval without a scope
    (pre-approved upstream, an operator-side door, a retention purge) approves the subject as discovered
    and never goes stale. A release of held conversations (``recording_round`` > 0) acts on what the
    approved erasure already named, on a record whose identifiers are scrubbed: not stale.
    """
    approval = record.approval
    if approval is None or record.recording_round > 0:
        return None
    if predates_flagged_review(record, approval):
        return approval
    if approval.scope is None:
        return None
    return None if approval.scope.digest == scope_digest(key, record) else approval


def predates_flagged_review(record: ErasureRecord, approval: Approval) -> bool:
    """Whether a flagged review stands on the request that ``approval`` was not given with (no clocks
    compared: the approval says whether the completed review was in front of the approver)."""
    review = record.review
    return review is not None and review.flagged and not approval.reviewed


def approval_holds(key: bytes, record: ErasureRecord) -> bool:
    """Whether the gate lets this request through: it has an approval, and the approval still covers it."""
    return record.approval is not None and stale_approval(key, record) is None


def scope_change(before: ApprovalScope, after: ApprovalScope) -> dict[str, object]:
    """What changed, in counts only (for the audit log and the reason): never a value."""
    return {"identifiers_before": before.identifiers, "identifiers_now": after.identifiers,
            "conversations_before": before.conversations, "conversations_now": after.conversations,
            "scope_before": before.digest, "scope_now": after.digest}
