"""Carrying out the chaos schedule on a running stack, and noting what was done and when.

The bench is also the workers' supervisor, as systemd or Kubernetes would be: a pool whose main process
exits by itself (not killed by the schedule) is noted with its exit code and the error it logged, and
started again ``supervise_delay_s`` later (None: left down, as with bare ``celery worker`` commands).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench._chaos_schedule import RECOVERIES, Event
from bench._chaos_stack import ChaosStack

_UNRECOVERABLE = re.compile(r"Unrecoverable error: (\w+)")


def logged_error(log: Path) -> str | None:
    """The exception class of the last 'Unrecoverable error' in a worker log (no message: it may quote data)."""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - (1 << 20)))  # tracebacks follow it
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    found = _UNRECOVERABLE.findall(tail)
    return found[-1] if found else None


@dataclass
class FaultRunner:
    stack: ChaosStack
    schedule: list[Event]
    seed: int
    started: float  # time.monotonic() at the schedule's zero
    supervise_delay_s: float | None = 3.0
    fired: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    unexpected_exits: list[dict[str, Any]] = field(default_factory=list)
    #: When the last fault's trouble was over: a worker or Redis back up, the outage over, a burst sent.
    last_fault_end_s: float | None = None
    _next: int = 0
    _down: set[str] = field(default_factory=set)  # pools the schedule killed and will start again
    _supervised: dict[str, float] = field(default_factory=dict)  # pool -> when to start it again
    _left_down: set[str] = field(default_factory=set)  # exited by itself, not supervised
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed + 1)  # which child to kill: seeded, apart from the schedule's draws

    def now_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def redis_down(self) -> bool:
        return self.stack.redis is not None and not self.stack.redis.alive()

    def done(self) -> bool:
        return self._next >= len(self.schedule) and not self._supervised

    def tick(self) -> None:
        """Fire every event that is due, and supervise the workers."""
        while self._next < len(self.schedule) and self.schedule[self._next].at_s <= self.now_s():
            self._fire(self.schedule[self._next])
            self._next += 1
        self._supervise()

    def finish(self) -> None:
        """The run is over early: bring back what is still down; the other events are not fired."""
        for event in self.schedule[self._next:]:
            if event.kind in RECOVERIES:
                self._fire(event)
            else:
                self.skipped[event.label()] += 1
        self._next = len(self.schedule)
        for pool in list(self._supervised):
            self._supervised[pool] = 0.0
        self._supervise()

    # ------------------------------------------------------------------ one event
    def _fire(self, event: Event) -> None:
        at = self.now_s()
        detail = self._apply(event)
        if detail is None:
            self.skipped[event.label()] += 1
            return
        if event.kind not in RECOVERIES:
            self.fired[event.label()] += 1
        end = at + float(event.fault["for_s"]) if event.kind == "platform_unreachable" else at
        self.last_fault_end_s = max(self.last_fault_end_s or 0.0, end)
        self.timeline.append({"t_s": round(at, 2), "event": event.label(), **detail})

    def _apply(self, event: Event) -> dict[str, Any] | None:
        """Do it; what to note in the timeline, or None when it could not be done (the pool was down)."""
        stack = self.stack
        if event.kind == "worker_kill":
            assert event.pool is not None
            if event.target == "main":
                pid = stack.kill_main(event.pool)
                if pid is not None:
                    self._down.add(event.pool)
            else:
                pid = stack.kill_child(event.pool, self._rng.randrange(1 << 16))
            return None if pid is None else {"pool": event.pool}
        if event.kind == "worker_restart":
            assert event.pool is not None
            if event.pool not in self._down:
                return None
            self._down.discard(event.pool)
            stack.restart(event.pool)
            return {"pool": event.pool}
        if event.kind == "redis_kill":
            assert stack.redis is not None
            stack.redis.kill()
            return {}
        if event.kind == "redis_restart":
            assert stack.redis is not None
            stack.redis.start()
            return {}
        body = {k: v for k, v in event.fault.items() if not k.startswith("_")}
        try:
            stack.sim_post("/_sim/faults", body)
        except httpx.HTTPError:
            return None
        return {"family": event.family} if event.family else {}

    # ------------------------------------------------------------------ supervision
    def _supervise(self) -> None:
        now = self.now_s()
        for pool, code in self.stack.exited().items():
            if pool in self._down or pool in self._supervised or pool in self._left_down:
                continue
            error = logged_error(self.stack.log_dir / f"worker-{pool}.log")
            self.unexpected_exits.append({"pool": pool, "t_s": round(now, 2), "returncode": code, "error": error})
            print(f"  chaos: the {pool} worker exited by itself (rc {code}, {error or 'no error logged'})", flush=True)
            if self.supervise_delay_s is None:
                self._left_down.add(pool)
            else:
                self._supervised[pool] = now + self.supervise_delay_s
        for pool, due in list(self._supervised.items()):
            if due <= now:
                del self._supervised[pool]
                self.stack.restart(pool)
