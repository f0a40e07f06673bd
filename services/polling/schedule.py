"""Handing submitted requests to the polling pool.

In ``list`` mode (the default) pending platform request ids go into one Redis hash and a single
sweep task lists the platform's GDPR requests for all of them at once; at most one sweep is
scheduled at a time. In ``each`` mode every batch polls its own requests with one GET each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress

from redis.exceptions import LockError

from shared.celery_app import app
from shared.runtime import Runtime
from shared.task_names import POLL_TASK, SWEEP_TASK

log = logging.getLogger("erasure.polling")



def start_polling(runtime: Runtime, request_ids: list[str]) -> None:
    settings = runtime.settings
    from services.polling.recordings import resume_recordings

    resume_recordings(runtime, request_ids)  # recording DELETE jobs are followed on their own
    if settings.poll_mode == "each":
        app.send_task(POLL_TASK, args=[request_ids], countdown=settings.poll_interval_s)
        return
    mapping: dict[str, str] = {}
    for request_id in request_ids:
        for gdpr_id in runtime.store.get(request_id).gdpr_request_ids:
            mapping[gdpr_id] = request_id
    if mapping:
        runtime.redis.hset(runtime.keys.pending_gdpr, mapping=mapping)  # type: ignore[arg-type]
    schedule_sweep(runtime, settings.poll_interval_s)


def schedule_sweep(runtime: Runtime, countdown_s: float) -> bool:
    """Schedule the next sweep unless one is already scheduled; True if this call scheduled it."""
    return schedule_pass(runtime, SWEEP_TASK, runtime.keys.sweep_scheduled, countdown_s)


def schedule_pass(runtime: Runtime, task_name: str, flag_key: str, countdown_s: float) -> bool:
    """Send ``task_name`` with a countdown unless ``flag_key`` says one is already on its way."""
    ttl_ms = int((countdown_s + 120) * 1000)
    if not runtime.redis.set(flag_key, "1", nx=True, px=ttl_ms):
        return False
    app.send_task(task_name, countdown=countdown_s)
    return True


def run_pass(runtime: Runtime, *, task_name: str, flag_key: str, lock_key: str, pending_key: str,
             work: Callable[[Runtime], None]) -> None:
    """Run one pass of a polling loop (the GDPR sweep, the recording-job follow), one at a time.

    The next pass is scheduled while anything is pending, even after a pass that failed or
    outlived its lock: a loop that stops scheduling itself would leave every request it follows
    hanging.
    """
    runtime.redis.delete(flag_key)
    lock = runtime.redis.lock(lock_key, timeout=600, blocking=False)
    if not lock.acquire():
        return  # another pass is running; it schedules the next one
    try:
        work(runtime)
    except Exception as exc:
        log.warning("%s failed (%s); trying again", task_name, type(exc).__name__)
    finally:
        if runtime.redis.hlen(pending_key):
            schedule_pass(runtime, task_name, flag_key, runtime.settings.poll_interval_s)
        with suppress(LockError):
            lock.release()
