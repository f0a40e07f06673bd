"""The chaos benchmark's fault schedule: every fault and recovery, at a time drawn from one seed.

Pure data: the same seed and options give the same schedule, so a run can be repeated (what the
system does in between still depends on timing). Times are seconds from the end of submission.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from shared.config import POOLS

#: Endpoint families of the platform API, by the path prefix the simulator matches them on.
FAMILIES: dict[str, str] = {
    "gdpr": "/api/v2/gdpr",
    "analytics": "/api/v2/analytics",
    "conversations/messages": "/api/v2/conversations/messages",
    "externalcontacts": "/api/v2/externalcontacts",
    "users": "/api/v2/users",
    # /recording/jobs and /recordings/deletionprotection
    "recordings": "/api/v2/recording",
}
HTTP_KINDS = ("5xx", "drop", "timeout")
#: Kinds that bring back what an earlier fault took down: run even when the run stops early.
RECOVERIES = frozenset({"worker_restart", "redis_restart"})


@dataclass(frozen=True)
class Options:
    seed: int = 7
    window_s: float = 180.0
    kill_every_s: float = 15.0
    redis_down_s: float = 5.0
    outage_s: float = 30.0
    gdpr_errors: int = 3
    #: The API client's timeout; a "timeout" fault delays the answer past it.
    client_timeout_s: float = 5.0
    http_bursts: bool = True


@dataclass(frozen=True)
class Event:
    at_s: float
    kind: str
    pool: str | None = None
    target: str | None = None  # worker_kill: "main" or "child"
    family: str | None = None
    #: For http_fault and platform_unreachable: the body posted to the simulator's /_sim/faults.
    fault: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        """The kind this event is counted under in the results (``worker_kill_main``, ``http_5xx``...)."""
        if self.kind == "worker_kill":
            return f"worker_kill_{self.target}"
        if self.kind == "http_fault":
            return f"http_{self.fault['_kind']}"
        return self.kind


def _kills(rng: random.Random, opts: Options) -> list[Event]:
    """A kill every ~kill_every_s (±30 %), cycling through every (pool, main|child) in a shuffled order; a
    killed main process is started again 2-5 s later (a killed child is replaced by its pool)."""
    combos = [(pool, target) for pool in POOLS for target in ("main", "child")]
    order: list[tuple[str, str]] = []
    events: list[Event] = []
    at = opts.kill_every_s * rng.uniform(0.3, 0.7)
    while at < opts.window_s:
        if not order:
            order = rng.sample(combos, len(combos))
        pool, target = order.pop()
        events.append(Event(round(at, 2), "worker_kill", pool=pool, target=target))
        if target == "main":
            events.append(Event(round(at + rng.uniform(2.0, 5.0), 2), "worker_restart", pool=pool))
        at += opts.kill_every_s * rng.uniform(0.7, 1.3)
    return events


def _http_faults(rng: random.Random, opts: Options) -> list[Event]:
    """One burst of each kind on each family at a random time in the window; a burst lasts until the
    window ends or its count is used up, whichever comes first (a family idle by then is spared)."""
    events: list[Event] = []
    for family, prefix in FAMILIES.items():
        for kind in HTTP_KINDS:
            at = round(opts.window_s * rng.uniform(0.02, 0.9), 2)
            body: dict[str, Any] = {"path_prefix": prefix, "for_s": max(5.0, round(opts.window_s - at, 2))}
            if kind == "5xx":
                body |= {"status": rng.choice((500, 502, 503, 504)), "count": rng.randint(5, 10)}
            elif kind == "drop":
                body |= {"drop": True, "count": rng.randint(3, 6)}
            else:
                body |= {"delay_s": opts.client_timeout_s + 2.0, "count": rng.randint(2, 3)}
            events.append(Event(at, "http_fault", family=family, fault={**body, "_kind": kind}))
    return events


def build(opts: Options) -> list[Event]:
    """The whole schedule, in time order."""
    rng = random.Random(opts.seed)
    events = _kills(rng, opts)
    redis_at = round(opts.window_s * rng.uniform(0.3, 0.5), 2)
    events += [Event(redis_at, "redis_kill"), Event(round(redis_at + opts.redis_down_s, 2), "redis_restart")]
    outage_at = round(opts.window_s * rng.uniform(0.6, 0.8), 2)
    events.append(Event(outage_at, "platform_unreachable",
                        fault={"path_prefix": "/api/v2", "drop": True, "for_s": opts.outage_s}))
    if opts.gdpr_errors:
        events.append(Event(round(opts.window_s * rng.uniform(0.0, 0.05), 2), "gdpr_error",
                            fault={"gdpr_error": True, "count": opts.gdpr_errors}))
    if opts.http_bursts:
        events += _http_faults(rng, opts)
    return sorted(events, key=lambda e: (e.at_s, e.kind, e.pool or "", e.family or ""))

