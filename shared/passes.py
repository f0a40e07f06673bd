"""Loops that follow the platform's work one pass at a time (the GDPR sweep, the recording-job follow).

A pass is a task sent by name with a countdown; a flag key says one is already on its way, so however
many requests ask for the next pass, one is scheduled. Any pool may ask (the deletion pool hands a
started recording job over this way); the polling pool runs the passes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress

from redis.exceptions import LockError

from shared.celery_app import app
from shared.runtime import Runtime

log = logging.getLogger("erasure.polling")


def schedule_pass(runtime: Runtime, task_name: str, flag_key: str, countdown_s: float) -> bool:
    """Send ``task_name`` with a countdown unless ``flag_key`` says one is already on its way; True if
    this call sent it."""
    ttl_ms = int((countdown_s + 120) * 1000)
    if not runtime.redis.set(flag_key, "1", nx=True, px=ttl_ms):
        return False
    app.send_task(task_name, countdown=countdown_s)
    return True


def run_pass(runtime: Runtime, *, task_name: str, flag_key: str, lock_key: str, pending_key: str,
             work: Callable[[Runtime], None]) -> None:
    """Run one pass of a polling loop, one at a time.

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
