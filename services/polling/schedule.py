"""Handing submitted requests to the polling pool.

The deletion pool sends ``POLL_START_TASK`` (by name) with the requests it moved to POLLING; this
pool's ``start`` task (and ``erasure resume``) then calls ``start_polling``. In ``list`` mode (the
default) pending platform request ids go into one Redis hash and a single sweep task lists the
platform's GDPR requests for all of them at once; at most one sweep is scheduled at a time. In
``each`` mode every batch polls its own requests with one GET each.
"""

from __future__ import annotations

from services.polling.recording_follow import resume_recordings
from shared.lanes import send_ids
from shared.passes import schedule_pass
from shared.runtime import Runtime
from shared.task_names import POLL_TASK, SWEEP_TASK


def start_polling(runtime: Runtime, request_ids: list[str]) -> None:
    settings = runtime.settings
    resume_recordings(runtime, request_ids)  # recording DELETE jobs are followed on their own
    if settings.poll_mode == "each":
        send_ids(POLL_TASK, request_ids, countdown=settings.poll_interval_s)  # the running batch's lane
        return
    mapping: dict[str, str] = {}
    for request_id in request_ids:
        for gdpr_id in runtime.store.get(request_id).gdpr_request_ids:
            mapping[gdpr_id] = request_id
    if mapping:
        runtime.redis.hset(runtime.keys.pending_gdpr, mapping=mapping)  # type: ignore[arg-type]
    schedule_sweep(runtime, settings.poll_interval_s)


def schedule_sweep(runtime: Runtime, countdown_s: float, *, force: bool = False) -> bool:
    """Schedule the next sweep unless one is already scheduled (``force``: even then, for a re-drive);
    True if this call scheduled it."""
    return schedule_pass(runtime, SWEEP_TASK, runtime.keys.sweep_scheduled, countdown_s, force=force)
