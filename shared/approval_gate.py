"""The approval gate's release: both sides of the gate (the approver in the intake, the redaction pool
that parks a request there) call it after their own write, so neither imports the other."""

from __future__ import annotations

from shared.celery_app import app
from shared.models import ErasureRecord, RequestState
from shared.pipeline import transition
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK


def release_if_approved(runtime: Runtime, request_id: str) -> ErasureRecord | None:
    """Send a request waiting at the gate on to deletion if it carries an approval.

    Called by both sides of the gate (the approver and the redaction pool) after their own write,
    so an approval recorded while redaction was deciding is never stranded; ``update_if`` lets
    only one of them send the deletion task.
    """
    record = runtime.store.get(request_id)
    if record.approval is None or record.state is not RequestState.AWAITING_APPROVAL:
        return None
    released = transition(runtime, request_id, RequestState.DELETING, "approval.released",
                          details={"approved_by": record.approval.by}, expect=RequestState.AWAITING_APPROVAL)
    if released is not None:
        app.send_task(DELETE_TASK, args=[[request_id]])
    return released
