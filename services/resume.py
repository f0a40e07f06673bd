"""Re-enqueueing unfinished requests after a crash, a lost queue or a Redis restart.

Every task acts only on requests in the state it handles, so sending a request to the task of its
current state is always safe: a request whose task is still queued is simply handled once.
"""

from __future__ import annotations

from collections import defaultdict

from services.polling.schedule import start_polling
from services.polling.tasks import issue_certificate
from shared.approval_gate import release_if_approved
from shared.celery_app import app
from shared.models import RequestState
from shared.pipeline import UNCERTIFIED_ENDS, chunks
from shared.runtime import Runtime
from shared.task_names import DELETE_TASK, DISCOVER_TASK, REDACT_TASK, VERIFY_TASK

TASK_FOR_STATE = {
    RequestState.RECEIVED: DISCOVER_TASK,
    RequestState.DISCOVERING: DISCOVER_TASK,
    RequestState.REDACTING: REDACT_TASK,
    RequestState.DELETING: DELETE_TASK,
    RequestState.VERIFYING: VERIFY_TASK,
}


def resume(runtime: Runtime) -> dict[str, int]:
    """Send every unfinished request to the task of its state, and certify final ones a crash left
    uncertified; returns counts by state."""
    by_state: dict[RequestState, list[str]] = defaultdict(list)
    for record in runtime.store.iter_records():
        if record.state.is_final:
            # Certified ends whose certificate was lost in a crash: issue it (and scrub) now.
            if not record.scrubbed and record.state not in UNCERTIFIED_ENDS:
                issue_certificate(runtime, record.request_id)
                by_state[record.state].append(record.request_id)
            continue
        if record.state is RequestState.AWAITING_APPROVAL:
            # Waits for a person, unless it was approved and the release was lost in a crash.
            if record.approval is not None and release_if_approved(runtime, record.request_id):
                by_state[record.state].append(record.request_id)
            continue
        # HELD waits for its legal hold to end: `erasure release-held` resumes it, not this.
        if record.state is not RequestState.HELD:
            by_state[record.state].append(record.request_id)
    for state, ids in by_state.items():
        if state is RequestState.AWAITING_APPROVAL or state.is_final:
            continue  # released or certified above
        if state is RequestState.POLLING:
            start_polling(runtime, ids)
            continue
        for batch in chunks(ids, runtime.settings.batch_size):
            app.send_task(TASK_FOR_STATE[state], args=[batch])
    return {state.value: len(ids) for state, ids in by_state.items()}
