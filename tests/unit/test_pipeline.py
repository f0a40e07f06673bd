"""What every pool's task relies on: handing requests on, and ends that scrub what they no longer need."""

from __future__ import annotations

import contextlib
import uuid

import kombu.exceptions
import pytest
import redis
from celery.exceptions import Reject, SoftTimeLimitExceeded

from shared import celery_app, pipeline
from shared.errors import RunLater
from shared.genesys import RateLimited, ServerError, TransportError
from shared.models import ErasureRecord, RequestState, Subject, utcnow
from shared.ratelimit import LimiterUnavailable, RateLimitWait


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


def test_requests_moved_on_are_handed_on_even_when_a_later_one_raises(sent):
    ready: list[str] = []
    with pytest.raises(RuntimeError), pipeline.handing_on("next.stage", ready):
        ready.append("r1")
        raise RuntimeError("the second request of the batch hit a 5xx")
    assert sent == [("next.stage", [["r1"]])]


def test_nothing_is_sent_for_an_empty_hand_on(sent):
    with pipeline.handing_on("next.stage", []):
        pass
    assert sent == []


def test_a_failed_request_keeps_no_identifier_in_clear(runtime):
    record = runtime.store.create(ErasureRecord(
        ticket="F-1", subject=Subject(emails=["jane.doe@example.org"], phones=["+447700900123"], names=["Jane Doe"]),
        verified_at=utcnow()))
    failed = pipeline.transition(runtime, record.request_id, RequestState.FAILED, "request.failed", reason="boom")
    assert failed is not None and failed.scrubbed
    raw = runtime.redis.get(runtime.keys.request(record.request_id))
    assert "jane.doe@example.org" not in raw and "+447700900123" not in raw and "Jane Doe" not in raw
    assert runtime.store.get(record.request_id).state is RequestState.FAILED
    assert [e["event"] for e in runtime.audit.entries()][-2:] == ["request.failed", "request.scrubbed"]


# --- erasure_task: retries, "later" signals and delivery counting, run eagerly on fakeredis ---

@pytest.fixture
def sent_kw(monkeypatch):
    calls = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args, kw)))
    return calls


@pytest.fixture
def wired(runtime, monkeypatch, sent_kw):
    """Tasks run in this process against the fakeredis runtime; messages they send are recorded."""
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    return runtime


def stored_request(runtime, ticket, state=RequestState.DISCOVERING):
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=[f"{ticket.lower()}@example.org"]),
                           verified_at=utcnow(), state=state)
    return runtime.store.create(record).request_id


def make_task(body):
    """A pool task around ``body``, under a name of its own (tasks register by name)."""
    return pipeline.erasure_task(f"test.pipeline.{uuid.uuid4().hex}")(body)


def failing(times, error):
    """A body that raises ``error()`` on its first ``times`` runs, then moves its requests on."""
    runs = []

    def body(runtime, ids):
        runs.append(list(ids))
        if len(runs) <= times:
            raise error()
        for request_id in ids:
            pipeline.transition(runtime, request_id, RequestState.REDACTING, "test.done")

    return body, runs


def test_a_hiccup_on_every_try_but_the_last_allowed_one_is_retried_to_success(wired):
    request_id = stored_request(wired, "P-1")
    body, runs = failing(pipeline.MAX_RETRIES, lambda: ServerError("GET x -> 503", status=503))

    make_task(body).apply(args=[[request_id]])

    assert len(runs) == pipeline.MAX_RETRIES + 1
    assert wired.store.get(request_id).state is RequestState.REDACTING


@pytest.mark.parametrize("error", [lambda: ServerError("GET x -> 503", status=503),
                                   lambda: TransportError("GET x: timed out"),
                                   lambda: LimiterUnavailable("redis down")])
def test_a_task_failing_retryably_every_time_fails_its_requests_after_the_retry_limit(wired, error):
    ids = [stored_request(wired, "P-2"), stored_request(wired, "P-3")]
    body, runs = failing(10 ** 6, error)

    make_task(body).apply(args=[ids])

    assert len(runs) == pipeline.MAX_RETRIES + 1  # the first try and every retry, then no more
    name = type(error()).__name__
    for request_id in ids:
        record = wired.store.get(request_id)
        assert record.state is RequestState.FAILED
        assert f"platform kept failing ({name})" in record.reason and "resubmit under a new ticket" in record.reason
        failed = [e for e in wired.audit.entries_for(request_id) if e["event"] == "request.failed"]
        assert len(failed) == 1 and failed[0]["details"]["error"] == f"platform kept failing ({name})"


def test_a_batch_that_runs_out_of_its_soft_time_limit_is_retried_not_failed(wired):
    """A slow platform or a small rate budget can make a batch outlive its time limit: what it did stays
    done and the rest is retried, instead of failing requests that nothing is wrong with."""
    request_id = stored_request(wired, "P-7")
    body, runs = failing(2, SoftTimeLimitExceeded)

    make_task(body).apply(args=[[request_id]])

    assert len(runs) == 3
    assert wired.store.get(request_id).state is RequestState.REDACTING


def test_a_final_request_in_a_failing_batch_is_left_as_it_ended(wired):
    done = stored_request(wired, "P-4", state=RequestState.COMPLETED)
    open_ = stored_request(wired, "P-5")
    body, _ = failing(10 ** 6, lambda: ServerError("GET x -> 503", status=503))

    make_task(body).apply(args=[[done, open_]])

    assert wired.store.get(done).state is RequestState.COMPLETED
    assert wired.store.get(done).reason is None
    assert wired.store.get(open_).state is RequestState.FAILED


def test_a_bug_fails_the_batch_at_once_without_retrying(wired):
    request_id = stored_request(wired, "P-6")
    body, runs = failing(10 ** 6, lambda: KeyError("a bug"))

    make_task(body).apply(args=[[request_id]])

    assert len(runs) == 1
    record = wired.store.get(request_id)
    assert record.state is RequestState.FAILED and "KeyError: see the worker log" in record.reason


@pytest.mark.parametrize(("later", "countdown"), [
    (lambda: RunLater(42.0, "a platform job still running"), 42.0),
    (lambda: RateLimitWait(7.5), 7.5),
    (lambda: RateLimited("POST x -> 429", retry_after_s=3.0), 3.0),
])
def test_a_later_signal_never_uses_the_retry_budget(wired, sent_kw, later, countdown):
    request_id = stored_request(wired, "P-7")
    body, runs = failing(1, later)
    task = make_task(body)

    # Even with every retry already spent on errors, "not yet" is no failure: a fresh message waits.
    task.apply(args=[[request_id]], retries=pipeline.MAX_RETRIES)

    assert len(runs) == 1
    assert wired.store.get(request_id).state is RequestState.DISCOVERING
    assert sent_kw == [(task.name, [[request_id]], {"countdown": countdown})]  # a new message: retries start at 0
    task.apply(*sent_kw[0][1:2])  # ...which then runs the work
    assert wired.store.get(request_id).state is RequestState.REDACTING


@pytest.mark.parametrize("inside_isolated", [False, True])
def test_a_configuration_error_at_run_time_leaves_the_request_waiting_not_failed(wired, sent_kw, inside_isolated,
                                                                                caplog):
    """Issue 19: a worker missing a setting failed every request it touched, burning upstream tickets for an
    operator's mistake. The batch now waits, as for "not yet", and runs once the setting is there."""
    from shared.config import ConfigError

    request_id = stored_request(wired, "P-CFG")
    runs = []

    def body(runtime, ids):
        runs.append(list(ids))
        for record in pipeline.load(runtime, ids, RequestState.DISCOVERING):
            with pipeline.isolated(runtime, record, "discover") if inside_isolated else contextlib.nullcontext():
                if len(runs) == 1:
                    raise ConfigError("set ERASURE_GENESYS_REGION or ERASURE_GENESYS_BASE_URL")
                pipeline.transition(runtime, record.request_id, RequestState.REDACTING, "test.done")

    task = make_task(body)
    task.apply(args=[[request_id]], retries=pipeline.MAX_RETRIES)

    assert wired.store.get(request_id).state is RequestState.DISCOVERING  # waiting, not FAILED
    assert not [e for e in wired.audit.entries_for(request_id) if e["event"] == "request.failed"]
    countdown = wired.settings.retry_backoff_cap_s
    assert sent_kw == [(task.name, [[request_id]], {"countdown": countdown})]
    assert "ERASURE_GENESYS_REGION" in caplog.text
    task.apply(*sent_kw[0][1:2])  # the corrected worker takes it
    assert wired.store.get(request_id).state is RequestState.REDACTING


def test_later_signals_then_hiccups_still_get_every_retry(wired, sent_kw):
    request_id = stored_request(wired, "P-8")
    outcomes = [RunLater(1.0, "not yet")] * (pipeline.MAX_RETRIES + 2)
    outcomes += [ServerError("GET x -> 503", status=503)] * pipeline.MAX_RETRIES
    runs = []

    def body(runtime, ids):
        runs.append(1)
        if len(runs) <= len(outcomes):
            raise outcomes[len(runs) - 1]
        pipeline.transition(runtime, ids[0], RequestState.REDACTING, "test.done")

    task = make_task(body)
    task.apply(args=[[request_id]])
    while sent_kw:  # each "later" message delivered in turn
        _, args, _ = sent_kw.pop(0)
        task.apply(args=args)

    assert len(runs) == len(outcomes) + 1
    assert wired.store.get(request_id).state is RequestState.REDACTING


class WorkerKilled:
    """Deliveries whose worker dies inside the task: the task's own ``finally`` never runs."""

    def __init__(self, monkeypatch):
        monkeypatch.setattr(pipeline, "_forget_deliveries", lambda runtime, task, ids: None)


def test_a_batch_that_keeps_killing_its_worker_fails_once_the_delivery_cap_is_reached(wired, monkeypatch):
    ids = [stored_request(wired, "P-9"), stored_request(wired, "P-10")]
    runs = []
    task = make_task(lambda runtime, batch: runs.append(batch))
    WorkerKilled(monkeypatch)

    for delivery in range(1, pipeline.MAX_DELIVERIES + 1):  # up to the cap: each delivery runs the work
        task.apply(args=[ids if delivery % 2 else ids[::-1]])  # a re-sent batch may list its ids in another order
        assert len(runs) == delivery
        assert all(wired.store.get(i).state is RequestState.DISCOVERING for i in ids)

    task.apply(args=[ids])  # one more: the batch is failed instead of run again

    assert len(runs) == pipeline.MAX_DELIVERIES
    for request_id in ids:
        record = wired.store.get(request_id)
        assert record.state is RequestState.FAILED
        assert f"delivered {pipeline.MAX_DELIVERIES + 1} times without finishing" in record.reason
        [entry] = [e for e in wired.audit.entries_for(request_id) if e["event"] == "request.failed"]
        assert entry["details"]["task"] == task.name


#: What an operator can live with: a batch that crashes its worker every time is given up within this
#: many deliveries (each one costs a worker restart and a visibility timeout), not left to loop.
POISON_BATCH_GIVEN_UP_WITHIN = 10


def test_a_batch_that_crashes_every_worker_is_given_up_within_a_handful_of_deliveries(wired, monkeypatch):
    request_id = stored_request(wired, "P-11")
    runs = []
    task = make_task(lambda runtime, batch: runs.append(batch))
    WorkerKilled(monkeypatch)

    for _ in range(POISON_BATCH_GIVEN_UP_WITHIN):
        task.apply(args=[[request_id]])

    assert wired.store.get(request_id).state is RequestState.FAILED
    assert 1 < len(runs) < POISON_BATCH_GIVEN_UP_WITHIN  # redelivery is tried, and then it stops


def test_deliveries_are_counted_per_batch_and_task(wired, monkeypatch):
    a, b = stored_request(wired, "P-11"), stored_request(wired, "P-12")
    first = make_task(lambda runtime, batch: None)
    second = make_task(lambda runtime, batch: None)
    WorkerKilled(monkeypatch)

    for _ in range(pipeline.MAX_DELIVERIES):
        first.apply(args=[[a]])
    second.apply(args=[[a]])  # another task of the same request: its own count
    first.apply(args=[[a, b]])  # another batch: its own count

    assert wired.store.get(a).state is RequestState.DISCOVERING
    assert wired.store.get(b).state is RequestState.DISCOVERING


def test_a_delivery_that_finishes_resets_the_count(wired):
    request_id = stored_request(wired, "P-13")
    runs = []
    task = make_task(lambda runtime, batch: runs.append(batch))

    for _ in range(3 * pipeline.MAX_DELIVERIES):  # a request handed back and forth many times, never crashing
        task.apply(args=[[request_id]])

    assert len(runs) == 3 * pipeline.MAX_DELIVERIES
    assert wired.store.get(request_id).state is RequestState.DISCOVERING
    assert wired.redis.keys(wired.keys.delivery("*")) == []


def test_a_batch_whose_killed_worker_still_holds_its_locks_keeps_counting_toward_the_cap(wired, monkeypatch, sent_kw):
    """A killed pool child (or one killed at the hard time limit) leaves its locks, and its message comes back
    at once: the deliveries that find every lock held are no attempts and leave the count as they found it,
    so a batch that kills its worker every time still ends FAILED."""
    request_id = stored_request(wired, "P-16")
    runs = []
    task = make_task(lambda runtime, batch: runs.append(batch))
    WorkerKilled(monkeypatch)

    for _ in range(pipeline.MAX_DELIVERIES):
        task.apply(args=[[request_id]])  # runs, and its worker dies
        dead_holder = wired.redis.lock(wired.keys.request_lock(request_id), timeout=60)
        assert dead_holder.acquire(blocking=False)
        for _ in range(3):
            task.apply(args=[[request_id]])  # requeued at once: locked, looked at again later
        dead_holder.release()  # the lock expired

    task.apply(args=[[request_id]])

    assert len(runs) == pipeline.MAX_DELIVERIES
    assert wired.store.get(request_id).state is RequestState.FAILED


def test_a_request_locked_by_a_running_task_is_looked_at_again_shortly(wired, sent_kw):
    mine, busy = stored_request(wired, "P-14"), stored_request(wired, "P-15")
    runs = []
    task = make_task(lambda runtime, batch: runs.append(batch))
    lock = wired.redis.lock(wired.keys.request_lock(busy), timeout=60)
    assert lock.acquire(blocking=False)

    task.apply(args=[[mine, busy]])

    assert runs == [[mine]]
    assert sent_kw == [(task.name, [[busy]], {"countdown": pipeline.LOCKED_RETRY_S})]
    assert not wired.redis.exists(wired.keys.request_lock(mine))  # released when the task ended


# --- the polling pool's hand-over: a message that cannot be carried out fails its request, never vanishes ---

def test_a_hand_over_to_polling_that_keeps_breaking_fails_its_request_with_a_reason(wired, monkeypatch):
    from services.polling import tasks as polling

    request_id = stored_request(wired, "H-1", state=RequestState.POLLING)
    monkeypatch.setattr(polling, "start_polling", lambda runtime, ids: (_ for _ in ()).throw(KeyError("gdpr ids")))

    polling.start.apply(args=[[request_id]])

    record = wired.store.get(request_id)
    assert record.state is RequestState.FAILED and "erasure.polling.start failed" in record.reason


def test_a_hand_over_to_polling_follows_only_requests_still_in_polling(wired, monkeypatch):
    from services.polling import tasks as polling

    started = []
    monkeypatch.setattr(polling, "start_polling", lambda runtime, ids: started.append(ids))
    polling_id = stored_request(wired, "H-2", state=RequestState.POLLING)
    ended_id = stored_request(wired, "H-3", state=RequestState.COMPLETED)

    polling.start.apply(args=[[polling_id, ended_id]])

    assert started == [[polling_id]]
    assert wired.store.get(ended_id).state is RequestState.COMPLETED


# --- Redis unreachable (issue 14): a task's message is never acknowledged then, wherever Redis fails ---

def connection_refused(*_args, **_kwargs):
    raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def kept(result) -> bool:
    """The eager run's outcome: the worker would reject the message back onto its queue."""
    return result.state == "REJECTED" and isinstance(result.result, Reject) and result.result.requeue


def moving_on(runtime, ids):
    for request_id in ids:
        pipeline.transition(runtime, request_id, RequestState.REDACTING, "test.done")


def test_redis_unreachable_for_the_delivery_count_keeps_the_message(wired, monkeypatch):
    request_id = stored_request(wired, "K-1")
    monkeypatch.setattr(wired.redis, "incr", connection_refused)
    assert kept(make_task(moving_on).apply(args=[[request_id]]))


def test_redis_unreachable_for_the_request_locks_keeps_the_message(wired, monkeypatch):
    request_id = stored_request(wired, "K-2")
    monkeypatch.setattr(wired.redis, "lock", lambda *a, **kw: type("Lock", (), {"acquire": connection_refused})())
    assert kept(make_task(moving_on).apply(args=[[request_id]]))


def unpublishable(*_args, **_kwargs):
    """Celery's ``Task.retry`` when the broker cannot take the new message: it rejects without requeue."""
    raise Reject("OperationalError: connection refused", requeue=False)


def test_a_retry_that_cannot_be_published_keeps_the_message(wired, monkeypatch):
    request_id = stored_request(wired, "K-3")
    body, runs = failing(10 ** 6, lambda: redis.exceptions.ConnectionError("Connection refused."))
    task = make_task(body)
    monkeypatch.setattr(task, "retry", unpublishable)
    assert kept(task.apply(args=[[request_id]]))
    assert len(runs) == 1 and wired.store.get(request_id).state is RequestState.DISCOVERING


def test_a_hand_on_that_cannot_be_sent_keeps_the_message(wired, monkeypatch):
    request_id = stored_request(wired, "K-4")

    def body(runtime, ids):
        with pipeline.handing_on("next.stage", moved := []):
            moving_on(runtime, ids)
            moved.extend(ids)

    def broker_down(*_args, **_kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_app.app, "send_task", broker_down)
    task = make_task(body)
    monkeypatch.setattr(task, "retry", unpublishable)
    assert kept(task.apply(args=[[request_id]]))  # its redelivery hands the request on (moved_on)


def test_forgetting_deliveries_with_redis_gone_does_not_fail_a_finished_task(wired, monkeypatch):
    request_id = stored_request(wired, "K-5")
    monkeypatch.setattr(wired.redis, "delete", connection_refused)
    result = make_task(moving_on).apply(args=[[request_id]])
    assert result.state == "SUCCESS"
    assert wired.store.get(request_id).state is RequestState.REDACTING


def test_a_request_lock_lives_as_long_as_a_task_may_run(wired):
    """Not the visibility timeout: a killed holder's locks are gone before Redis redelivers its message."""
    request_id = stored_request(wired, "L-1")
    ttls = []
    make_task(lambda runtime, ids: ttls.append(runtime.redis.ttl(runtime.keys.request_lock(ids[0])))).apply(
        args=[[request_id]])
    assert 0 < ttls[0] <= wired.settings.task_time_limit_s < wired.settings.visibility_timeout_s


def test_a_redelivered_batch_hands_on_what_its_killed_delivery_moved(wired):
    """What ``moved_on`` finds: the requests of the batch already in the state the task hands on from."""
    moved, left, elsewhere = (stored_request(wired, f"M-{n}") for n in range(3))
    pipeline.transition(wired, moved, RequestState.REDACTING, "test.moved")
    pipeline.transition(wired, elsewhere, RequestState.FAILED, "test.failed", reason="x")
    assert pipeline.moved_on(wired, [left, moved, elsewhere, "unknown"], RequestState.REDACTING) == [moved]


def test_a_hand_on_lost_with_redis_is_made_by_the_redelivery_and_only_by_it(wired, monkeypatch, sent_kw):
    """A delivery that moved a request and could not send its hand-on (Redis down) keeps its message and
    its delivery count, so the redelivery hands the request on; an ordinary re-run later sends nothing
    again (every later stage would otherwise run twice)."""
    request_id = stored_request(wired, "K-6")

    def body(runtime, ids):
        moved = pipeline.moved_on(runtime, ids, RequestState.REDACTING)
        with pipeline.handing_on("next.stage", moved):
            for record in pipeline.load(runtime, ids, RequestState.DISCOVERING):
                pipeline.transition(runtime, record.request_id, RequestState.REDACTING, "test.done")
                moved.append(record.request_id)

    def broker_down(*_args, **_kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    task = make_task(body)
    monkeypatch.setattr(task, "retry", unpublishable)
    with monkeypatch.context() as down:
        down.setattr(celery_app.app, "send_task", broker_down)
        assert kept(task.apply(args=[[request_id]]))
    assert wired.store.get(request_id).state is RequestState.REDACTING and not sent_kw

    redelivery = task.apply(args=[[request_id]])  # the redelivery
    assert redelivery.state == "SUCCESS", redelivery.traceback
    assert [(name, args) for name, args, _ in sent_kw] == [("next.stage", [[request_id]])]

    sent_kw.clear()
    task.apply(args=[[request_id]])  # a later ordinary run (a duplicate, a "not yet")
    assert sent_kw == []


def test_redis_failing_half_way_through_the_locks_releases_those_taken(wired, monkeypatch):
    first, second = stored_request(wired, "K-7"), stored_request(wired, "K-8")
    real_lock = wired.redis.lock
    calls = []

    def lock(name, **kwargs):
        calls.append(name)
        if len(calls) == 2:
            raise redis.exceptions.ConnectionError("Connection refused.")
        return real_lock(name, **kwargs)

    monkeypatch.setattr(wired.redis, "lock", lock)
    with pytest.raises(redis.exceptions.ConnectionError), pipeline.request_locks(wired, [first, second]):
        pass
    assert not wired.redis.exists(wired.keys.request_lock(first))
