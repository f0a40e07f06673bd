"""What every pool's task has in common: batches, retries, delivery counting, audited state changes.

Tasks take a *batch* of request ids: a single request is a batch of one, a bulk run sends batches
so that one platform call can serve many subjects (one analytics query, one list call).
``erasure_task`` wraps a function of ``(runtime, request_ids)`` into a Celery task that
- retries platform hiccups (5xx, no answer, limiter unreachable) with exponential backoff and jitter;
- gives the worker back when the work says "not yet" (``shared.errors.RunLater``: the rate budget,
  a 429, a platform job still running), sending the batch again with that countdown;
- counts deliveries in Redis (Redis has no redelivered flag), so a batch that kills its worker
  every time ends as FAILED instead of looping forever.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Unpack

import redis
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from shared.celery_app import app
from shared.effects import ReconcileIncomplete
from shared.errors import RunLater
from shared.genesys import ServerError, TransportError
from shared.models import ErasureRecord, RecordChanges, RequestState
from shared.ratelimit import LimiterUnavailable
from shared.runtime import Runtime, get_runtime
from shared.scrub import scrub_record
from shared.store import UnknownRequest

log = logging.getLogger("erasure.pipeline")

MAX_DELIVERIES = 5
MAX_RETRIES = 12
LOCKED_RETRY_S = 2.0
#: Trouble that retrying fixes: the platform's hiccups, the budget saying "wait", Redis restarting.
RETRYABLE = (ServerError, TransportError, LimiterUnavailable, redis.exceptions.ConnectionError,
             redis.exceptions.TimeoutError)
#: What ``isolated`` lets through to the batch instead of failing one request.
TRANSIENT = (*RETRYABLE, RunLater, SoftTimeLimitExceeded)


#: Final states that get no certificate; their records are scrubbed as they are entered.
UNCERTIFIED_ENDS = frozenset({RequestState.FAILED, RequestState.REJECTED})
#: Where a failure may still take a request: a request that ended meanwhile (a step failing after its
#: request became final, an unlocked sweep getting there first) keeps its end, since the table has no way out.
OPEN_STATES = tuple(s for s in RequestState if not s.is_final)


def backoff_s(retries: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter."""
    return float(random.uniform(base / 2, min(cap, base * 2**retries)))


def transition(runtime: Runtime, request_id: str, state: RequestState, event: str,
               details: dict[str, Any] | None = None, *,
               expect: RequestState | tuple[RequestState, ...] | None = None,
               **changes: Unpack[RecordChanges]) -> ErasureRecord | None:
    """Change a request's state and write the audit entry for it (before the task acks).

    With ``expect``, the change happens only while the request is still in that state; None means
    a concurrent delivery of the same task already moved it, and the caller stops there. A move that
    the table (``shared.models.ALLOWED``) does not have raises ``IllegalTransition`` and writes nothing.
    """
    if expect is None:
        record: ErasureRecord | None = runtime.store.set_state(request_id, state, **changes)
    else:
        record = runtime.store.update_if(request_id, expect, state=state, **changes)
    if record is None:
        return None
    runtime.audit.append(event, request_id=request_id, subject=runtime.digest(record),
                         details={"state": state.value, **(details or {})})
    if state in UNCERTIFIED_ENDS:
        # No certificate follows these (the polling pool scrubs the others after certifying), and
        # nothing needs the identifiers any more: a resubmission brings its own.
        record = scrub_record(runtime.settings.require_hmac_key(), record)
        runtime.store.save(record)
        runtime.audit.append("request.scrubbed", request_id=request_id, subject=runtime.digest(record))
    return record


def load(runtime: Runtime, request_ids: Iterable[str], *states: RequestState) -> list[ErasureRecord]:
    """The records of a batch that are in one of ``states`` (others were handled by an earlier delivery)."""
    out: list[ErasureRecord] = []
    for request_id in request_ids:
        try:
            record = runtime.store.get(request_id)
        except UnknownRequest:
            log.warning("request %s is unknown; skipped", request_id)
            continue
        if record.state in states:
            out.append(record)
    runtime.store.progress.touch(r.request_id for r in out)  # taken up: progress (see shared.progress)
    return out


@contextmanager
def isolated(runtime: Runtime, record: ErasureRecord, step: str) -> Iterator[None]:
    """A non-transient failure of one request fails that request, not its whole batch.

    Transient platform trouble propagates, so the batch is retried (every step is idempotent).
    """
    try:
        yield
    except TRANSIENT:
        raise
    except ReconcileIncomplete as exc:
        # An earlier call may have reached the platform unseen: a resubmission could erase twice.
        log.error("%s for request %s: %s", step, record.request_id, exc)
        transition(runtime, record.request_id, RequestState.FAILED, "request.failed",
                   details={"step": step, "error": type(exc).__name__}, expect=OPEN_STATES,
                   reason=f"{step} stopped: {exc}, so an earlier call may have reached the platform unseen; "
                          "check the platform by hand for what this request id created before resubmitting")
    except Exception as exc:
        log.exception("%s failed for request %s", step, record.request_id)
        transition(runtime, record.request_id, RequestState.FAILED, "request.failed",
                   details={"step": step, "error": type(exc).__name__}, expect=OPEN_STATES,
                   reason=f"{step} failed with {type(exc).__name__}; see the worker log for this "
                          "request id, fix the cause, then resubmit under a new ticket")


@contextmanager
def handing_on(task_name: str, request_ids: list[str]) -> Iterator[None]:
    """Send ``request_ids`` (filled inside the block) to the next stage on every way out.

    A request appended here has already moved to the next stage's state; if a later request of the
    batch raises (a rate-limit wait, a 5xx), the retry loads only the requests that did not move, so
    these must be handed on now or nobody ever would.
    """
    try:
        yield
    finally:
        if request_ids:
            app.send_task(task_name, args=[list(request_ids)])


def chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), max(1, size)):
        yield list(items[start:start + size])


def erasure_task(name: str) -> Callable[[Callable[[Runtime, list[str]], None]], Task[Any, Any]]:
    def decorate(fn: Callable[[Runtime, list[str]], None]) -> Task[Any, Any]:
        @app.task(name=name, bind=True, max_retries=MAX_RETRIES, acks_late=True)
        def run(self: Task[Any, Any], request_ids: list[str] | str) -> None:
            ids = [request_ids] if isinstance(request_ids, str) else list(request_ids)
            runtime = get_runtime()
            if _too_many_deliveries(runtime, self, ids):
                return
            try:
                with request_locks(runtime, ids) as mine:
                    busy = [i for i in ids if i not in mine]
                    if busy:
                        # Locked by a task still running: usually the previous stage, which sends this
                        # task just before it lets go. Look again shortly; by then the state says
                        # whether there is anything left to do.
                        app.send_task(name, args=[busy], countdown=LOCKED_RETRY_S)
                    if mine:
                        _run_guarded(self, runtime, fn, name, mine)
            finally:
                # Reached on every way out but the worker's death, which is what the count is for.
                _forget_deliveries(runtime, self, ids)

        return run

    return decorate


@contextmanager
def request_locks(runtime: Runtime, request_ids: list[str]) -> Iterator[list[str]]:
    """Lock each request for the length of one task, so two deliveries never work on it at once.

    Requests locked by another live task are looked at again a moment later (see ``erasure_task``).
    A lock dies with its holder after ``visibility_timeout_s``, the same moment Redis redelivers
    the dead holder's message.
    """
    held = []
    for request_id in request_ids:
        lock = runtime.redis.lock(runtime.keys.request_lock(request_id),
                                  timeout=runtime.settings.visibility_timeout_s, blocking=False)
        if lock.acquire():
            held.append((request_id, lock))
    try:
        yield [request_id for request_id, _ in held]
    finally:
        for _, lock in held:
            with suppress(redis.exceptions.LockError):
                lock.release()


def _run_guarded(self: Task[Any, Any], runtime: Runtime, fn: Callable[[Runtime, list[str]], None], name: str,
         ids: list[str]) -> None:
    """Run a task body, turning platform waits and hiccups into Celery retries."""
    try:
        fn(runtime, ids)
    except RunLater as later:
        # Not a failure: the platform or the budget says "not yet". A fresh message with a
        # countdown, so waiting never eats into the retry cap meant for errors.
        app.send_task(name, args=[ids], countdown=later.defer_s)
    except RETRYABLE as exc:
        if self.request.retries >= MAX_RETRIES:
            _fail_batch(runtime, name, ids, f"platform kept failing ({type(exc).__name__})")
            return
        log.warning("%s for %d request(s): %s; retrying", name, len(ids), type(exc).__name__)
        raise self.retry(countdown=backoff_s(self.request.retries)) from None
    except Exception as exc:
        # A bug or a refusal that retrying cannot fix: no request may be left hanging.
        log.exception("%s failed for %d request(s)", name, len(ids))
        _fail_batch(runtime, name, ids, f"{type(exc).__name__}: see the worker log")


def _fail_batch(runtime: Runtime, task_name: str, request_ids: list[str], why: str) -> None:
    for record in load(runtime, request_ids, *OPEN_STATES):
        transition(runtime, record.request_id, RequestState.FAILED, "request.failed",
                   details={"task": task_name, "error": why.split(":")[0]}, expect=OPEN_STATES,
                   reason=f"{task_name} failed ({why}); fix the cause, then resubmit under a new ticket")


def _delivery_key(runtime: Runtime, task: Task[Any, Any], request_ids: list[str]) -> str:
    """Counted per task name and batch, not per message: a batch re-sent under a new message id
    (after its worker died holding the locks) still adds up to MAX_DELIVERIES."""
    batch = hashlib.sha256("\n".join(sorted(request_ids)).encode()).hexdigest()[:32]
    return runtime.keys.delivery(f"{task.name}:{batch}")


def _too_many_deliveries(runtime: Runtime, task: Task[Any, Any], request_ids: list[str]) -> bool:
    key = _delivery_key(runtime, task, request_ids)
    count = int(runtime.redis.incr(key))
    runtime.redis.expire(key, 7 * 24 * 3600)
    if count <= MAX_DELIVERIES:
        return False
    log.error("%s delivered %d times; failing its %d request(s)", task.name, count, len(request_ids))
    _fail_batch(runtime, str(task.name), request_ids,
                f"delivered {count} times without finishing: it may crash its worker")
    return True


def _forget_deliveries(runtime: Runtime, task: Task[Any, Any], request_ids: list[str]) -> None:
    runtime.redis.delete(_delivery_key(runtime, task, request_ids))
