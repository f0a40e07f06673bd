"""Sending unfinished requests on again after a crash, a lost queue or a Redis restart.

``redrive`` is the one way: ``erasure resume`` gives it every stored request, the watchdog
(``services.watchdog``) the ones that made no progress for too long. Every task acts only on requests
in the state it handles, so sending a request to the task of its current state is always safe: a
request whose task is still queued is simply handled once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from services.polling.schedule import schedule_sweep, start_polling
from services.polling.tasks import issue_certificate
from shared.approval_gate import release_if_approved
from shared.lane_context import in_lane
from shared.lanes import send_ids
from shared.models import ErasureRecord, Lane, RequestState
from shared.pipeline import UNCERTIFIED_ENDS, chunks
from shared.progress import needs_watching
from shared.recording_jobs import pending_key, schedule_follow
from shared.retention import retire
from shared.runtime import Runtime
from shared.task_names import (
    DELETE_TASK,
    DISCOVER_TASK,
    REDACT_TASK,
    REVIEW_EXPORT_TASK,
    REVIEW_FOLLOW_TASK,
    VERIFY_TASK,
)

TASK_FOR_STATE = {
    RequestState.RECEIVED: DISCOVER_TASK,
    RequestState.DISCOVERING: DISCOVER_TASK,
    RequestState.REDACTING: REDACT_TASK,
    RequestState.DELETING: DELETE_TASK,
    RequestState.VERIFYING: VERIFY_TASK,
}


def resume(runtime: Runtime) -> dict[str, int]:
    """Send every unfinished request to the task of its state, and finish final ones a crash left
    uncertified or unscrubbed; returns counts by state."""
    redriven = redrive(runtime, runtime.store.iter_records())
    return {state.value: len(ids) for state, ids in redriven.items()}


def redrive(runtime: Runtime, records: Iterable[ErasureRecord], now: float | None = None) -> dict[RequestState, list[str]]:
    """Send each request on from where it stands; returns the ids acted on, by state.

    Left alone: what waits for a person or for nothing (``shared.progress.needs_watching``): a HELD
    request (``erasure release-held`` resumes it), one at the approval gate without an approval, a
    final one already scrubbed. Each one acted on counts as progress (at ``now``, epoch seconds) in the
    watchdog's index.
    """
    # By state and lane: a batch is homogeneous, and a re-driven bulk request stays bulk (shared.lanes).
    by_state: dict[tuple[RequestState, Lane], list[str]] = defaultdict(list)
    submitted_reviews: set[str] = set()  # REVIEWING with its export submitted: the polling pool's step
    for record in records:
        if needs_watching(record):
            by_state[record.state, record.lane].append(record.request_id)
            if record.review is not None:
                submitted_reviews.add(record.request_id)
    # Before acting: a request that the action finishes at once (a certificate) then leaves the index.
    runtime.store.progress.track((i for ids in by_state.values() for i in ids), now)
    done: dict[RequestState, list[str]] = {}
    for (state, lane), ids in by_state.items():
        with in_lane(lane):
            ids = _redrive_state(runtime, state, ids, submitted_reviews)
        if ids:
            done.setdefault(state, []).extend(ids)
    return done


def _redrive_state(runtime: Runtime, state: RequestState, ids: list[str], submitted_reviews: set[str]) -> list[str]:
    """Send on the requests of one state and one lane (the running lane); returns those acted on."""
    if state.is_final:
        for request_id in ids:
            _finish(runtime, request_id, state)
    elif state is RequestState.AWAITING_APPROVAL:
        # Approved, and the release was lost in a crash.
        ids = [i for i in ids if release_if_approved(runtime, i) is not None]
    elif state is RequestState.REVIEWING:
        _redrive_reviews(runtime, ids, submitted_reviews)
    elif state is RequestState.POLLING:
        start_polling(runtime, ids)
        _restart_passes(runtime)
    else:
        for batch in chunks(ids, runtime.settings.batch_size):
            send_ids(TASK_FOR_STATE[state], batch)
    return ids


def _redrive_reviews(runtime: Runtime, ids: list[str], submitted: set[str]) -> None:
    """A review not submitted yet goes to the deletion pool, one submitted (in ``submitted``) to the polling
    pool that follows it."""
    for task, chosen in ((REVIEW_EXPORT_TASK, [i for i in ids if i not in submitted]),
                         (REVIEW_FOLLOW_TASK, [i for i in ids if i in submitted])):
        for batch in chunks(chosen, runtime.settings.batch_size):
            send_ids(task, batch)


def _finish(runtime: Runtime, request_id: str, state: RequestState) -> None:
    """A final request a crash left with identifiers in clear: certify it (which scrubs), or scrub it
    where no certificate follows (FAILED, REJECTED), as ``pipeline.transition`` would have."""
    if state not in UNCERTIFIED_ENDS:
        issue_certificate(runtime, request_id)
        return
    record = runtime.store.get(request_id)
    retire(runtime, record)
    runtime.audit.append("request.scrubbed", request_id=request_id, subject=runtime.digest(record))


def _restart_passes(runtime: Runtime) -> None:
    """The polling loops may be what stopped (their message lost with its flag still set): send their
    next pass whatever the flag says (``shared.passes.schedule_pass``)."""
    interval = runtime.settings.poll_interval_s
    if runtime.settings.poll_mode == "list" and runtime.redis.hlen(runtime.keys.pending_gdpr):
        schedule_sweep(runtime, interval, force=True)
    if runtime.redis.hlen(pending_key(runtime)):
        schedule_follow(runtime, interval, force=True)
