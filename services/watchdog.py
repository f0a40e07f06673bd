"""The watchdog's pass: requests that made no progress for ``stall_after_s`` are sent on again.

A message that never arrives (a worker killed between a request's move and the next stage's message,
a queue lost with Redis, a polling loop whose next pass was lost) leaves a request that nothing will
ever pick up. The progress index (``shared.progress``) says when each open request last moved or was
taken up by a task; a pass takes the ones idle for longer than ``stall_after_s`` and re-drives them
the way ``erasure resume`` does (``services.resume.redrive``). Each stall is re-driven once: the claim
marks the request as seen, so the next re-drive needs another ``stall_after_s`` without progress.
A request whose lock a task holds is being worked on: it is marked as seen, not re-driven.

Runs in every worker (``services.watchdog_thread``) and as ``erasure watchdog``. What an operator sees
per re-drive: the audit event ``watchdog.redriven`` (request id, state, idle seconds), the counter
``erasure_watchdog_redrives_total{state=...}`` and a log line ``watchdog re-drove request <id> ...``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from services.resume import redrive
from shared.metrics import WATCHDOG_REDRIVES
from shared.models import ErasureRecord
from shared.progress import needs_watching
from shared.runtime import Runtime
from shared.store import UnknownRequest

log = logging.getLogger("erasure.watchdog")

#: Overdue requests one pass takes; the rest are still overdue for the next pass.
MAX_PER_PASS = 1000


@dataclass(frozen=True)
class WatchReport:
    """What one pass did, in counts only."""

    redriven: dict[str, int] = field(default_factory=dict)  # by state
    busy: int = 0  # overdue, but a task holds the lock: marked as seen
    closed: int = 0  # overdue entries of requests that need nobody any more: taken out of the index

    @property
    def total(self) -> int:
        return sum(self.redriven.values())


def watch_once(runtime: Runtime, now: float | None = None, limit: int = MAX_PER_PASS) -> WatchReport:
    """One pass: re-drive requests idle for longer than ``stall_after_s`` (``now``: epoch seconds)."""
    now = time.time() if now is None else now
    progress = runtime.store.progress
    claimed = progress.claim_overdue(now - runtime.settings.stall_after_s, now, limit, runtime.keys.request_lock)
    idle = {c.request_id: c.idle_s for c in claimed if not c.busy}
    open_records: list[ErasureRecord] = []
    closed: list[str] = []
    for request_id in idle:
        try:
            record = runtime.store.get(request_id)
        except UnknownRequest:
            closed.append(request_id)
            continue
        if needs_watching(record):
            open_records.append(record)
        else:
            closed.append(request_id)
    progress.drop_unchanged(closed, now)
    done = redrive(runtime, open_records, now)
    for state, ids in done.items():
        for request_id in ids:
            idle_s = round(idle[request_id])
            runtime.audit.append("watchdog.redriven", request_id=request_id,
                                 details={"state": state.value, "idle_s": idle_s})
            WATCHDOG_REDRIVES.labels(state.value).inc()
            log.warning("watchdog re-drove request %s: %s with no progress for %d s", request_id, state.value, idle_s)
    return WatchReport(redriven={state.value: len(ids) for state, ids in done.items()},
                       busy=sum(c.busy for c in claimed), closed=len(closed))
