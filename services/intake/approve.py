"""The approval gate: who approved an erasure, and when. Deletion refuses to act without it.

Approving a request that waits in ``awaiting_approval`` sends it to deletion; approving one still
in discovery records the approval so it goes straight through when it gets there.
"""

from __future__ import annotations

from shared.approval_gate import release_if_approved
from shared.celery_app import app
from shared.errors import ErasureError
from shared.models import Approval, ErasureRecord, RequestState
from shared.pipeline import transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK


class ApprovalError(ErasureError, ValueError):
    """The approval was refused; ``status`` is the HTTP answer that says why."""

    status = 422


class UnknownTicket(ApprovalError):
    status = 404


class AlreadyDecided(ApprovalError):
    status = 409


class OwnRequest(ApprovalError):
    """Four eyes: the key that submitted a request may not approve it, whatever its scopes."""

    status = 403


def approve(runtime: Runtime, ticket: str, by: str, *, key_id: str | None = None, via: str = "cli") -> ErasureRecord:
    """Record ``by``'s approval: an API key (``key_id``, never the key that submitted the request) or,
    with no key, the operator at the CLI (break-glass)."""
    approver = by.strip()
    if not approver:
        raise ApprovalError("by: say who approves (a name or role)")
    record = runtime.store.find_by_ticket(ticket)
    if record is None:
        raise UnknownTicket(f"ticket: no request with ticket {ticket!r}")
    if key_id is not None and record.submitted_by == key_id:
        raise OwnRequest("approval: the key that submitted a request cannot approve it (four eyes); "
                         "approve with another key")
    if record.approval is not None:
        raise AlreadyDecided(f"ticket: request {ticket!r} was already approved by {record.approval.by}")
    if record.state.is_final:
        raise AlreadyDecided(f"ticket: request {ticket!r} is already {record.state.value}")
    approval = Approval(by=approver, key_id=key_id, via=via)
    details = {"approved_by": approver, "key_id": key_id, "via": via}
    released = transition(runtime, record.request_id, RequestState.DELETING, "approval.recorded",
                          details=details, expect=RequestState.AWAITING_APPROVAL, approval=approval)
    if released is not None:
        app.send_task(DELETE_TASK, args=[[record.request_id]])
        return released
    # Still on its way (discovery, redaction): record the approval atomically with a state check, so a
    # request that reaches the gate meanwhile is not missed...
    earlier = tuple(s for s in RequestState if not s.is_final and s is not RequestState.AWAITING_APPROVAL)
    updated = runtime.store.update_if(record.request_id, earlier, approval=approval)
    if updated is None:
        current = runtime.store.get(record.request_id)
        if current.state.is_final:
            raise AlreadyDecided(f"ticket: request {ticket!r} is already {current.state.value}")
        return approve(runtime, ticket, by, key_id=key_id, via=via)  # it reached the gate just now: release it there
    runtime.audit.append("approval.recorded", request_id=record.request_id, subject=runtime.digest(record),
                         details={**details, "state": updated.state.value})
    # ...and if redaction parked it at the gate just before, having read no approval, release it now.
    return release_if_approved(runtime, record.request_id) or updated
