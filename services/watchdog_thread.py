"""The watchdog without an operator: every worker process runs its pass every ``watchdog_interval_s``.

A daemon thread in the worker's main process, started by Celery's ``worker_ready`` signal (this module
is in ``shared.celery_app.TASK_MODULES``, which every worker imports) and stopped on ``worker_shutdown``.
Whichever pools are up, a lease in Redis (SET NX PX for one interval) lets one worker's pass run per
interval; the claim in ``shared.progress`` keeps each stall to one re-drive even if passes overlap (a
pass longer than the interval, ``erasure watchdog`` run by hand). The lease expires by itself, so a
worker killed mid-pass holds nothing for longer than an interval.

A pass that fails (Redis restarting, most likely) does not end the thread: it logs, backs off and goes on.

The same thread asks Redis to rewrite its append-only file after scrubs (``shared.retention``), at most once
per ``ERASURE_AOF_REWRITE_INTERVAL_S`` across all workers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import redis
from celery.signals import worker_ready, worker_shutdown

from services.watchdog import WatchReport, watch_once
from shared.audit_checkpoints import checkpoint_if_moved
from shared.config import get_settings
from shared.retention import rewrite_aof_if_due
from shared.runtime import Runtime, get_runtime

log = logging.getLogger("erasure.watchdog")

#: The longest pause after failed passes (the interval doubles per failure up to this).
MAX_BACKOFF_S = 300.0

_stop = threading.Event()
_thread: threading.Thread | None = None


def leased_pass(runtime: Runtime, owner: str) -> WatchReport | None:
    """This interval's pass, if no other worker has taken it; None when another has."""
    interval_ms = max(1, int(runtime.settings.watchdog_interval_s * 1000))
    if not runtime.redis.set(runtime.keys.watchdog_lease, owner, nx=True, px=interval_ms):
        return None
    report = watch_once(runtime)
    try:
        checkpoint_if_moved(runtime)  # the audit head, signed once an interval if it moved (issue 18)
    except Exception as exc:  # a failed checkpoint must not back off the re-drives; the next pass tries again
        log.warning("audit checkpoint not written (%s)", type(exc).__name__,
                    exc_info=not isinstance(exc, redis.exceptions.RedisError))
    return report


def worker_pass(runtime: Runtime, owner: str) -> WatchReport | None:
    """What each tick of the thread does: the leased watchdog pass, then the AOF rewrite if one is due."""
    report = leased_pass(runtime, owner)
    rewrite_aof_if_due(runtime.redis, runtime.keys, runtime.settings.aof_rewrite_interval_s)
    return report


def run_loop(pass_once: Callable[[], object], interval_s: float, stop: threading.Event,
             what: str = "watchdog pass") -> None:
    """Call ``pass_once`` every ``interval_s`` until ``stop`` is set; an error backs off, never ends it.
    ``what`` names the pass in the log (the store gauges' thread runs the same loop)."""
    delay = interval_s
    failures = 0
    while not stop.wait(delay):
        try:
            pass_once()
        except Exception as exc:
            failures = min(failures + 1, 16)
            delay = min(interval_s * 2**failures, max(interval_s, MAX_BACKOFF_S))
            # Redis going away is expected: its type says enough. Anything else is a bug: keep the traceback.
            log.warning("%s failed (%s); next try in %.0f s", what, type(exc).__name__, delay,
                        exc_info=not isinstance(exc, redis.exceptions.RedisError))
        else:
            failures = 0
            delay = interval_s


def start(interval_s: float, pass_once: Callable[[], object]) -> threading.Thread | None:
    """Start the thread (once per process); None if the watchdog is off (interval 0)."""
    global _thread
    if interval_s <= 0:
        return None
    if _thread is not None and _thread.is_alive():
        return _thread
    _stop.clear()
    _thread = threading.Thread(target=run_loop, args=(pass_once, interval_s, _stop), name="erasure-watchdog",
                               daemon=True)
    _thread.start()
    return _thread


def stop(timeout_s: float = 10.0) -> None:
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=timeout_s)


@worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    owner = f"{socket.gethostname()}:{os.getpid()}"
    start(get_settings().watchdog_interval_s, lambda: worker_pass(get_runtime(), owner))


@worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    stop()
