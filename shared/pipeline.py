"""What every pool's task has in common: batches, retries, delivery counting, audited state changes.

Tasks take a *batch* of request ids: a single request is a batch of one, a bulk run sends batches
so that one platform call can serve many subjects (one analytics query, one list call).
``erasure_task`` wraps a function of ``(runtime, request_ids)`` into a Celery task that
- retries platform hiccups with exponential backoff and jitter: one request's own call (inside
  ``isolated``) for that request alone, a call the whole batch shares (a query, the limiter) for the batch;
- gives the worker back when the work says "not yet" (``shared.errors.RunLater``: the rate budget,
  a 429, a platform job still running), sending the batch again with that countdown; a ``ConfigError``
  (a setting missing or refused) is the deployment's mistake, so its batch waits the same way;
- counts deliveries in Redis (Redis has no redelivered flag), so a batch that kills its worker
  every time ends as FAILED instead of looping forever;
- never lets a message go while Redis is unreachable: the message goes back to its queue
  (``Reject(requeue=True)``), or stays unacknowledged until Redis redelivers it.

A task moves each request on to the next stage's state and sends the next stage's message at the
end of its batch (``handing_on``). A worker killed in between leaves requests moved on with no
message; so a task also hands on again the requests of its batch it finds already in the state it
hands on from (``moved_on``): a redelivered batch re-drives what its dead delivery moved.
"""

from __future__ import annotations

import hashlib
import logging
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn, Unpack

import kombu.exceptions
import redis
from celery import Task
from celery.exceptions import Reject, SoftTimeLimitExceeded

from shared.celery_app import app
from shared.config import ConfigError
from shared.effects import ReconcileIncomplete
from shared.errors import RunLater
from shared.genesys import ServerError, TransportError
from shared.lane_context import in_lane
from shared.lanes import lane_of_priority, send_ids
from shared.metrics import REQUESTS_FINISHED, TASKS
from shared.models import ErasureRecord, RecordChanges, RequestState
from shared.ratelimit import LimiterUnavailable
from shared.retention import retire
from shared.runtime import Runtime, get_runtime
from shared.store import UnknownRequest

log = logging.getLogger("erasure.pipeline")

MAX_DELIVERIES = 5
MAX_RETRIES = 12
LOCKED_RETRY_S = 2.0
#: Redis unreachable, as the store, the locks or the broker: a message must not be let go then.
#: (redis-py's BusyLoadingError, Redis reading its AOF back after a restart, is a ConnectionError.)
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, kombu.exceptions.OperationalError)
#: Trouble that retrying fixes: the platform's hiccups, the budget saying "wait", Redis restarting.
RETRYABLE = (ServerError, TransportError, LimiterUnavailable, *REDIS_DOWN)
#: What ``isolated`` lets through to the batch instead of failing one request (in an ``erasure_task``,
#: a hiccup of the request's own call is retried for that request alone: see ``isolated``).
TRANSIENT = (*RETRYABLE, RunLater, SoftTimeLimitExceeded)
#: A platform hiccup: the 5xx or the lost answer of one call.
HICCUPS = (ServerError, TransportError)


#: Final states that get no certificate; their records are scrubbed as they are entered.
UNCERTIFIED_ENDS = frozenset({RequestState.FAILED, RequestState.REJECTED})
#: Where a failure may still take a request: a request that ended meanwhile (a step failing after its
#: request became final, an unlocked sweep getting there first) keeps its end, since the table has no way out.
OPEN_STATES = tuple(s for s in RequestState if not s.is_final)


def backoff_s(retries: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter."""
    return float(random.uniform(base / 2, min(cap, base * 2**retries)))


@dataclass
class _Delivery:
    """The delivery of a batch that is running in this context: where ``isolated`` leaves the requests
    whose own call hit a hiccup, to be retried alone once the batch is done."""

    retries: int
    #: An earlier delivery of this very batch started and never finished (its worker died): what it moved
    #: on may never have been handed on (see ``moved_on``).
    redelivered: bool = False
    hiccups: dict[str, tuple[str, str]] = field(default_factory=dict)  # request id -> (step, error type)


_delivery: ContextVar[_Delivery | None] = ContextVar("erasure_delivery", default=None)


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
    if state.is_final:
        REQUESTS_FINISHED.labels(state.value, record.kind.value).inc()
    if state in UNCERTIFIED_ENDS:
        # No certificate follows these (the polling pool scrubs the others after certifying), and
        # nothing needs the identifiers any more: a resubmission brings its own.
        record = retire(runtime, record)
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


def moved_on(runtime: Runtime, request_ids: Iterable[str], state: RequestState) -> list[str]:
    """The requests of a batch already in ``state``, the one this task moves them to and hands on from.

    A delivery that moved them and was killed before its hand-on left them there with no message; the
    redelivered batch (which loads only requests still in its own state) hands them on again. Only a
    redelivery does (the batch's delivery count says an earlier delivery died): an ordinary re-run (a
    "not yet", a retry, a duplicate) finds them handed on already, and handing them on again would make
    every later stage run twice. A request handed on twice is still handled once: the next task loads
    only requests in its own state.
    """
    if not is_redelivery():
        return []
    ids = list(request_ids)
    states = runtime.store.states(ids)
    return [request_id for request_id in ids if states.get(request_id) is state]


def is_redelivery() -> bool:
    """Whether this delivery of the running task follows one that died (or runs outside a task): only then
    is a hand-on an earlier delivery may have missed sent again (``moved_on``)."""
    delivery = _delivery.get()
    return delivery is None or delivery.redelivered


@contextmanager
def isolated(runtime: Runtime, record: ErasureRecord, step: str) -> Iterator[None]:
    """A failure of one request's own work stays with that request, not its whole batch.

    A hiccup of its own call (5xx, no answer) retries that request alone once the batch is done
    (see ``_retry_hiccups``); the rest of the batch goes on. Anything else transient (the
    rate budget, the limiter or Redis unreachable, a time limit) propagates, so the batch is retried
    (every step is idempotent); outside an ``erasure_task`` (the sweep) hiccups propagate too.
    A permanent failure fails the request.
    """
    try:
        yield
    except HICCUPS as exc:
        delivery = _delivery.get()
        if delivery is None:
            raise
        log.warning("%s for request %s: %s; it is retried alone", step, record.request_id, type(exc).__name__)
        delivery.hiccups[record.request_id] = (step, type(exc).__name__)
    except (*TRANSIENT, ConfigError):  # a setting missing is the deployment's, not this request's: the batch waits
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
    """Send ``request_ids`` (filled inside the block) to the next stage on every way out but a kill.

    A request appended here has already moved to the next stage's state; if a later request of the
    batch raises (a rate-limit wait, a 5xx), the retry loads only the requests that did not move, so
    these must be handed on now. A killed worker runs no ``finally``: the redelivered batch sends them
    (start ``request_ids`` with ``moved_on``). If the message cannot be sent (Redis down), the error
    goes up and the batch's message is kept (``erasure_task``), so its redelivery sends them.
    """
    try:
        yield
    finally:
        if request_ids:
            send_ids(task_name, request_ids)  # in the running batch's lane


def chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), max(1, size)):
        yield list(items[start:start + size])


def erasure_task(name: str) -> Callable[[Callable[[Runtime, list[str]], None]], Task[Any, Any]]:
    def decorate(fn: Callable[[Runtime, list[str]], None]) -> Task[Any, Any]:
        @app.task(name=name, bind=True, max_retries=MAX_RETRIES, acks_late=True)
        def run(self: Task[Any, Any], request_ids: list[str] | str) -> None:
            ids = [request_ids] if isinstance(request_ids, str) else list(request_ids)
            # The batch's lane is its message's: every message it sends and every token it asks for is that lane's.
            lane = lane_of_priority((self.request.delivery_info or {}).get("priority"))
            with in_lane(lane), kept_while_redis_is_down(name, len(ids)):
                _deliver(self, name, fn, ids)

        return run

    return decorate


@contextmanager
def kept_while_redis_is_down(task_name: str, size: int) -> Iterator[None]:
    """Redis unreachable anywhere in a task (the store, a lock, the delivery count, sending a message):
    its message goes back to its queue instead of being acknowledged.

    ``Reject(requeue=True)`` puts it back at once when Redis answers again by the time the worker
    rejects it; while Redis is still down the reject fails too, and the message stays in kombu's
    unacknowledged set (Redis keeps it) until the visibility timeout hands it out again. Either way
    it comes back; an acknowledged failure would have lost it.
    """
    try:
        yield
    except REDIS_DOWN as exc:
        log.warning("%s for %d request(s): Redis unreachable (%s); the message is kept for redelivery",
                    task_name, size, type(exc).__name__)
        raise Reject(f"Redis unreachable ({type(exc).__name__})", requeue=True) from None


def _deliver(self: Task[Any, Any], name: str, fn: Callable[[Runtime, list[str]], None], ids: list[str]) -> None:
    runtime = get_runtime()
    count = _count_delivery(runtime, self, ids)
    if _too_many_deliveries(runtime, self, ids, count):
        TASKS.labels(name, "too_many").inc()
        return
    mine: list[str] = []
    kept = False  # the message goes back to its queue: this delivery counts as one that never finished
    try:
        with request_locks(runtime, ids) as mine:
            busy = [i for i in ids if i not in mine]
            if busy:
                # Locked by a task still running: usually the previous stage, which sends this
                # task just before it lets go. Look again shortly; by then the state says
                # whether there is anything left to do.
                send_ids(name, busy, countdown=LOCKED_RETRY_S)
                TASKS.labels(name, "locked").inc()
            if mine:
                _run_guarded(self, runtime, fn, name, mine, redelivered=count > 1)
    except (*REDIS_DOWN, Reject):
        kept = True
        TASKS.labels(name, "kept").inc()
        raise
    finally:
        # Reached on every way out but the worker's death, which is what the count is for. A message
        # kept for redelivery (Redis down) keeps its count too: its redelivery must hand on what this
        # delivery moved but could not send (``moved_on``). Best effort: with Redis down the count stays.
        with suppress(*REDIS_DOWN):
            if mine and not kept:
                _forget_deliveries(runtime, self, ids)
            elif not mine:
                # Nothing was ours to run (all locked): not an attempt, so the count is left as found.
                # A batch requeued at once after its worker was killed holding the locks (a killed pool
                # child, a hard time limit) keeps counting toward MAX_DELIVERIES while it waits for them.
                _undo_delivery(runtime, self, ids)


@contextmanager
def request_locks(runtime: Runtime, request_ids: list[str]) -> Iterator[list[str]]:
    """Lock each request for the length of one task, so two deliveries never work on it at once.

    Requests locked by another live task are looked at again a moment later (see ``erasure_task``).
    A lock lives as long as a task may run (``Settings.request_lock_s``, the task time limit): a
    killed holder's locks are gone within minutes, before Redis redelivers its message (the
    visibility timeout is longer). Releasing is best effort: a lock Redis could not release expires.
    """
    held = []
    try:
        for request_id in request_ids:  # inside the try: Redis failing half-way releases those taken
            lock = runtime.redis.lock(runtime.keys.request_lock(request_id),
                                      timeout=runtime.settings.request_lock_s, blocking=False)
            if lock.acquire():
                held.append((request_id, lock))
        yield [request_id for request_id, _ in held]
    finally:
        for _, lock in held:
            with suppress(redis.exceptions.LockError, *REDIS_DOWN):
                lock.release()


def _run_guarded(self: Task[Any, Any], runtime: Runtime, fn: Callable[[Runtime, list[str]], None], name: str,
                 ids: list[str], *, redelivered: bool = False) -> None:
    """Run a task body, turning platform waits and hiccups into Celery retries."""
    delivery = _Delivery(int(self.request.retries or 0), redelivered=redelivered)
    token = _delivery.set(delivery)
    outcome = "ok"
    try:
        fn(runtime, ids)
    except RunLater as later:
        # Not a failure: the platform or the budget says "not yet". A fresh message with a
        # countdown, so waiting never eats into the retry cap meant for errors.
        outcome = "deferred"
        send_ids(name, ids, countdown=later.defer_s)
    except ConfigError as exc:
        # The deployment's mistake (a setting missing or refused), not the requests': failing them would burn
        # their tickets for it. They wait, as for "not yet", until a corrected worker takes them; the log
        # names the variable (never a value) every time, and the deadline metrics show them ageing.
        log.error("%s for %d request(s) waits for the configuration: %s", name, len(ids), exc)
        outcome = "deferred"
        send_ids(name, ids, countdown=runtime.settings.retry_backoff_cap_s)
    except (*RETRYABLE, SoftTimeLimitExceeded) as exc:
        # Something the whole batch shares (a query, the limiter, Redis), or the batch ran out of its time
        # limit (a slow platform, a small budget): the batch is retried. What it finished stays done, and
        # every step is idempotent, so the retry picks up where this delivery stopped.
        if self.request.retries >= MAX_RETRIES:
            outcome = "failed"
            _fail_batch(runtime, name, ids, f"platform kept failing ({type(exc).__name__})")
            return
        outcome = "retried"
        log.warning("%s for %d request(s): %s; retrying", name, len(ids), type(exc).__name__)
        retry_or_keep(self, backoff_s(self.request.retries, cap=runtime.settings.retry_backoff_cap_s))
    except Exception as exc:
        # A bug or a refusal that retrying cannot fix: no request may be left hanging.
        outcome = "failed"
        log.exception("%s failed for %d request(s)", name, len(ids))
        _fail_batch(runtime, name, ids, f"{type(exc).__name__}: see the worker log")
    else:
        _retry_hiccups(self, runtime, delivery)
    finally:
        _delivery.reset(token)
        if not isinstance(sys.exc_info()[1], Reject):  # a retry that could not be sent: counted as kept
            TASKS.labels(name, outcome).inc()


def retry_or_keep(self: Task[Any, Any], countdown: float, ids: list[str] | None = None) -> NoReturn:
    """Celery's retry (of ``ids`` only, if given), except when it cannot publish (Redis down): Celery
    then raises ``Reject(requeue=False)``, which would drop the message; it is kept instead."""
    try:
        retry = self.retry(args=None if ids is None else (ids,), countdown=countdown, throw=False)
    except Reject as unsent:
        raise Reject(unsent.args[0] if unsent.args else "retry not published", requeue=True) from None
    raise retry


def _retry_hiccups(self: Task[Any, Any], runtime: Runtime, delivery: _Delivery) -> None:
    """Retry the requests whose own call hit a hiccup, alone, with the batch's retry count plus one;
    past ``MAX_RETRIES`` they fail with the reason. The rest of their batch went on (and was handed
    on) in this delivery, and its calls are not made again."""
    if not delivery.hiccups:
        return
    if delivery.retries >= MAX_RETRIES:
        for request_id, (step, error) in delivery.hiccups.items():
            transition(runtime, request_id, RequestState.FAILED, "request.failed",
                       details={"step": step, "error": f"platform kept failing ({error})"}, expect=OPEN_STATES,
                       reason=f"{step} failed: the platform kept failing ({error}) after {MAX_RETRIES} retries; "
                              "check the platform's status, then resubmit under a new ticket")
        return
    retry_or_keep(self, backoff_s(delivery.retries, cap=runtime.settings.retry_backoff_cap_s), list(delivery.hiccups))


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


def _count_delivery(runtime: Runtime, task: Task[Any, Any], request_ids: list[str]) -> int:
    """Count this delivery of the batch; more than one means an earlier one never finished."""
    key = _delivery_key(runtime, task, request_ids)
    count = int(runtime.redis.incr(key))
    runtime.redis.expire(key, 7 * 24 * 3600)
    return count


def _too_many_deliveries(runtime: Runtime, task: Task[Any, Any], request_ids: list[str], count: int) -> bool:
    if count <= MAX_DELIVERIES:
        return False
    log.error("%s delivered %d times; failing its %d request(s)", task.name, count, len(request_ids))
    _fail_batch(runtime, str(task.name), request_ids,
                f"delivered {count} times without finishing: it may crash its worker")
    return True


def _forget_deliveries(runtime: Runtime, task: Task[Any, Any], request_ids: list[str]) -> None:
    runtime.redis.delete(_delivery_key(runtime, task, request_ids))


def _undo_delivery(runtime: Runtime, task: Task[Any, Any], request_ids: list[str]) -> None:
    key = _delivery_key(runtime, task, request_ids)
    if int(runtime.redis.decr(key)) <= 0:
        runtime.redis.delete(key)
