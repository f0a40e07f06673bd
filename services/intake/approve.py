"""The approval gate: who approved an erasure, and when. Deletion refuses to act without it.

Approving a request that waits in ``awaiting_approval`` sends it to deletion; approving one still
in discovery records the approval so it goes straight through when it gets there.
"""

from __future__ import annotations

from shared.celery_app import app
from shared.models import Approval, ErasureRecord, RequestState
from shared.pipeline import transition
from shared.runtime import Runtime

DELETE_TASK = "erasure.deletion.erase"


class ApprovalError(ValueError):
    pass


def approve(runtime: Runtime, ticket: str, by: str) -> ErasureRecord:
    approver = by.strip()
    if not approver:
        raise ApprovalError("by: say who approves (a name or role)")
    record = runtime.store.find_by_ticket(ticket)
    if record is None:
        raise ApprovalError(f"ticket: no request with ticket {ticket!r}")
    if record.approval is not None:
        raise ApprovalError(f"ticket: request {ticket!r} was already approved by {record.approval.by}")
    if record.state.is_final:
        raise ApprovalError(f"ticket: request {ticket!r} is already {record.state.value}")
    approval = Approval(by=approver)
    details = {"approved_by": approver}
    released = transition(runtime, record.request_id, RequestState.DELETING, "approval.recorded",
                          details=details, expect=RequestState.AWAITING_APPROVAL, approval=approval)
    if released is not None:
        app.send_task(DELETE_TASK, args=[[record.request_id]])
        return released
    updated = runtime.store.update(record.request_id, approval=approval)
    runtime.audit.append("approval.recorded", request_id=record.request_id, subject=runtime.digest(record),
                         details={**details, "state": updated.state.value})
    return updated
