"""What every pool's task has in common: retries, delivery counting, audited state changes.

``erasure_task`` wraps a function of ``request_id`` into a Celery task that
- retries platform hiccups (5xx, no answer, limiter unreachable) with exponential backoff and jitter;
- gives the worker back when the rate budget says wait (``RateLimitWait``), with that countdown;
- counts deliveries in Redis (Redis has no redelivered flag), so a task that kills its worker
  every time ends as FAILED instead of looping forever.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any, TypeVar

from celery import Task

from shared.celery_app import app
from shared.genesys import ServerError, TransportError
from shared.models import RequestState
from shared.ratelimit import LimiterUnavailable, RateLimitWait
from shared.runtime import Runtime, get_runtime

log = logging.getLogger("erasure.pipeline")

MAX_DELIVERIES = 5
MAX_RETRIES = 12
F = TypeVar("F", bound=Callable[..., Any])


class Reschedule(Exception):
    """Raised by a task to run again later (a platform job still running): no error, no retry cap."""

    def __init__(self, countdown_s: float) -> None:
        super().__init__(f"again in {countdown_s:.1f}s")
        self.countdown_s = countdown_s


def backoff_s(retries: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter."""
    return float(random.uniform(base / 2, min(cap, base * 2**retries)))


def transition(runtime: Runtime, request_id: str, state: RequestState, event: str,
               details: dict[str, Any] | None = None, **changes: Any) -> None:
    """Change a request's state and write the audit entry for it (before the task acks)."""
    record = runtime.store.set_state(request_id, state, **changes)
    runtime.audit.append(event, request_id=request_id, subject=runtime.digest(record),
                         details={"state": state.value, **(details or {})})


def erasure_task(name: str) -> Callable[[Callable[[Runtime, str], None]], Task[Any, Any]]:
    def decorate(fn: Callable[[Runtime, str], None]) -> Task[Any, Any]:
        @app.task(name=name, bind=True, max_retries=MAX_RETRIES, acks_late=True)
        def run(self: Task[Any, Any], request_id: str) -> None:
            runtime = get_runtime()
            if _too_many_deliveries(runtime, self, request_id):
                return
            try:
                fn(runtime, request_id)
            except RateLimitWait as wait:
                raise self.retry(countdown=wait.wait_s, max_retries=None) from None
            except Reschedule as again:
                _forget_deliveries(runtime, self)
                raise self.retry(countdown=again.countdown_s, max_retries=None) from None
            except (ServerError, TransportError, LimiterUnavailable) as exc:
                log.warning("%s for request %s: %s; retrying", name, request_id, type(exc).__name__)
                raise self.retry(countdown=backoff_s(self.request.retries)) from None
            _forget_deliveries(runtime, self)

        return run

    return decorate


def _too_many_deliveries(runtime: Runtime, task: Task[Any, Any], request_id: str) -> bool:
    key = runtime.keys.delivery(f"{task.request.id}:{task.request.retries}")
    count = int(runtime.redis.incr(key))
    runtime.redis.expire(key, 7 * 24 * 3600)
    if count <= MAX_DELIVERIES:
        return False
    log.error("%s for request %s delivered %d times; marking failed", task.name, request_id, count)
    transition(runtime, request_id, RequestState.FAILED, "request.failed",
               details={"task": task.name, "deliveries": count},
               reason=f"{task.name} was delivered {count} times without finishing (it may crash its "
                      "worker); inspect the worker logs, then resubmit under a new ticket")
    return True


def _forget_deliveries(runtime: Runtime, task: Task[Any, Any]) -> None:
    runtime.redis.delete(runtime.keys.delivery(f"{task.request.id}:{task.request.retries}"))
