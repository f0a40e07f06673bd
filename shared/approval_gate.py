"""The approval gate's release: both sides of the gate (the approver in the intake, the redaction pool
that parks a request there) call it after their own write, so neither imports the other.

An approval a person gave is bound to the scope they were shown (``shared.approval_scope``). One whose
scope is no longer the request's is not honoured: it moves to ``superseded_approvals`` (the certificate
still shows it), the request waits at the gate with the reason, and a new approval lets it go on.
"""

from __future__ import annotations

from typing import Any, Unpack

from shared.approval_scope import approval_holds, current_scope, predates_flagged_review, scope_change, stale_approval
from shared.lanes import send_ids
from shared.models import ErasureRecord, RecordChanges, RequestState
from shared.pipeline import transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK

#: How a reason set by the gate begins (``erasure status``, the API's ``reason``); an approval clears it.
SCOPE_CHANGED = "the approval no longer covers the request"


def to_gate(runtime: Runtime, record: ErasureRecord, event: str, details: dict[str, Any], *,
            expect: RequestState | None = None, **changes: Unpack[RecordChanges]) -> bool:
    """A request whose scope is settled (redaction's last round, or its review) goes on to deletion if an
    approval covers that scope, else waits at the gate; True if it moved to DELETING (the caller hands it
    on to the deletion pool). The approval is judged against the record *with* ``changes``: an approval
    given before they widened the scope does not cover it (the gate supersedes it).

    Every kind passes the gate: an access request deletes nothing, but hands the subject's data to whoever
    reads its link, so a second person approves it as they would an erasure."""
    scoped = record.model_copy(update=dict(changes))
    # A flagged review waits for a person even where approval is off: what it adds to the scope comes from
    # reading an archive whose format is not published, and nobody has looked at it yet.
    flagged = scoped.review is not None and scoped.review.flagged
    approved = (not runtime.settings.require_approval and not flagged) or approval_holds(
        runtime.settings.require_hmac_key(), scoped)
    next_state = RequestState.DELETING if approved else RequestState.AWAITING_APPROVAL
    moved = transition(runtime, record.request_id, next_state, event, details={**details, "approved": approved},
                       expect=expect, **changes)
    if moved is None:
        return False
    if not approved:
        # Approved while we were deciding: released; or approved against another scope: superseded.
        release_if_approved(runtime, record.request_id)
    return approved


def release_if_approved(runtime: Runtime, request_id: str) -> ErasureRecord | None:
    """Send a request waiting at the gate on to deletion if it carries an approval that still covers it.

    Called by both sides of the gate (the approver and the redaction pool) after their own write,
    so an approval recorded while redaction was deciding is never stranded; ``update_if`` lets
    only one of them send the deletion task. An approval whose scope changed is superseded instead.
    """
    record = runtime.store.get(request_id)
    if record.approval is None or record.state is not RequestState.AWAITING_APPROVAL:
        return None
    if supersede_stale_approval(runtime, record):
        return None
    released = transition(runtime, request_id, RequestState.DELETING, "approval.released",
                          details={"approved_by": record.approval.by}, expect=RequestState.AWAITING_APPROVAL,
                          reason=reason_after_approval(record))
    if released is not None:
        send_ids(DELETE_TASK, [request_id], lane=record.lane)
    return released


def supersede_stale_approval(runtime: Runtime, record: ErasureRecord) -> bool:
    """If ``record`` (waiting at the gate) carries an approval given against another scope, move it to
    ``superseded_approvals``, say why in ``reason`` and the audit log (counts, never values); True if stale.

    Only while the stored request still carries that very approval, so two callers (redaction and a
    resume) supersede it once, and a newer approval is never taken away."""
    key = runtime.settings.require_hmac_key()
    stale = stale_approval(key, record)
    if stale is None:
        return False
    now = current_scope(key, record)
    if predates_flagged_review(record, stale):
        change: dict[str, object] = {"review": record.review.status if record.review else None,
                                     "scope_now": now.digest, "conversations_now": now.conversations}
        reason = (f"{SCOPE_CHANGED}: the review before delete was flagged after {stale.by} approved it (the "
                  f"platform's export held what discovery missed, or could not be read); it waits for an approval "
                  f"of the request as reviewed (GET /requests/{record.ticket} or erasure approve {record.ticket} --show)")
    else:  # a stale approval that predates no flagged review was given against another scope
        assert stale.scope is not None
        change = scope_change(stale.scope, now)
        reason = (f"{SCOPE_CHANGED}: its scope changed after {stale.by} approved it (identifiers "
                  f"{sum(stale.scope.identifiers.values())} -> {sum(now.identifiers.values())}, conversations "
                  f"{stale.scope.conversations} -> {now.conversations}); it waits for an approval of the scope as it "
                  f"is now (GET /requests/{record.ticket} shows it; or erasure approve)")
    updated = runtime.store.update_if(record.request_id, RequestState.AWAITING_APPROVAL,
                                      when=lambda current: current.approval == stale, approval=None,
                                      superseded_approvals=[*record.superseded_approvals, stale], reason=reason)
    if updated is not None:
        runtime.audit.append("approval.scope_changed", request_id=record.request_id, subject=runtime.digest(record),
                             details={"approved_by": stale.by, "key_id": stale.key_id, "via": stale.via, **change})
    return True


def reason_after_approval(record: ErasureRecord) -> str | None:
    """The request's reason once an approval lets it go on: the gate's scope-changed reason no longer holds."""
    return None if (record.reason or "").startswith(SCOPE_CHANGED) else record.reason
