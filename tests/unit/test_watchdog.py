"""The watchdog re-drives a request that made no progress for ``stall_after_s``, once per stall, audited and
counted; it leaves alone what a live task holds and what waits for a person; its thread outlives Redis errors."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import redis
from prometheus_client import REGISTRY

from services import operations
from services.polling.schedule import start_polling
from services.watchdog import watch_once
from services.watchdog_thread import leased_pass, run_loop
from shared.celery_app import TASK_MODULES
from shared.config import Settings
from shared.models import Approval, ErasureRecord, RequestState, Subject, utcnow
from shared.passes import run_pass
from shared.pipeline import load, transition
from shared.task_names import DISCOVER_TASK, REDACT_TASK, SWEEP_TASK
from tests.support.records import put_state


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict]]:
    """Every task message sent, as (task name, send_task's keyword arguments)."""
    out: list[tuple[str, dict]] = []
    monkeypatch.setattr("shared.celery_app.app.send_task", lambda name, **kwargs: out.append((name, kwargs)))
    return out


def stored(runtime, ticket: str, state: RequestState = RequestState.RECEIVED, **fields) -> ErasureRecord:
    return runtime.store.create(ErasureRecord(ticket=ticket, subject=Subject(emails=[f"{ticket.lower()}@example.org"]),
                                              verified_at=utcnow(), state=state, **fields))


def last_progress(runtime, request_id: str) -> float | None:
    return runtime.store.progress.last_progress(request_id)


def stalled(runtime) -> float:
    """A moment at which everything indexed up to now has been idle for longer than ``stall_after_s``."""
    return time.time() + runtime.settings.stall_after_s + 1


def redrive_events(runtime) -> list[dict]:
    return [e for e in runtime.audit.entries() if e["event"] == "watchdog.redriven"]


# --- the progress index ---

def test_every_write_of_an_open_request_is_progress_and_its_end_takes_it_out(runtime):
    record = stored(runtime, "W-1")
    created = last_progress(runtime, record.request_id)
    assert created is not None
    moved = runtime.store.set_state(record.request_id, RequestState.DISCOVERING)
    assert last_progress(runtime, record.request_id) == moved.updated_at.timestamp() >= created
    transition(runtime, record.request_id, RequestState.FAILED, "request.failed", reason="test")  # scrubs
    assert runtime.store.get(record.request_id).scrubbed
    assert last_progress(runtime, record.request_id) is None


def test_requests_waiting_for_a_person_are_not_watched_until_the_person_acts(runtime):
    gate = stored(runtime, "W-2", RequestState.REDACTING)
    runtime.store.set_state(gate.request_id, RequestState.AWAITING_APPROVAL)
    assert last_progress(runtime, gate.request_id) is None  # waits for `erasure approve`
    runtime.store.update(gate.request_id, approval=Approval(by="dpo"))
    assert last_progress(runtime, gate.request_id) is not None  # approved: its release must happen
    held = stored(runtime, "W-3", RequestState.DELETING)
    runtime.store.set_state(held.request_id, RequestState.HELD)
    assert last_progress(runtime, held.request_id) is None  # waits for `erasure release-held`
    runtime.store.set_state(held.request_id, RequestState.DELETING)
    assert last_progress(runtime, held.request_id) is not None


def test_a_task_taking_a_request_up_is_progress_but_a_late_message_does_not_bring_back_an_ended_one(runtime):
    working = stored(runtime, "W-4", RequestState.REDACTING)
    other_state = stored(runtime, "W-5", RequestState.DELETING)
    runtime.store.progress.track([working.request_id, other_state.request_id], now=100.0)
    load(runtime, [working.request_id, other_state.request_id], RequestState.REDACTING)
    assert last_progress(runtime, working.request_id) > 100.0
    assert last_progress(runtime, other_state.request_id) == 100.0  # loaded, not taken up: not progress
    transition(runtime, working.request_id, RequestState.FAILED, "request.failed", reason="test")
    load(runtime, [working.request_id], RequestState.FAILED)  # a late message loading the ended request
    assert last_progress(runtime, working.request_id) is None


# --- the pass ---

def test_an_overdue_request_is_redriven_once_per_stall(runtime, sent):
    record = stored(runtime, "W-6")
    runtime.store.set_state(record.request_id, RequestState.DISCOVERING)
    runtime.store.set_state(record.request_id, RequestState.REDACTING)  # its REDACT_TASK message: lost
    early = watch_once(runtime, now=time.time() + runtime.settings.stall_after_s - 5)
    assert (early.total, sent) == (0, [])  # idle, but not for long enough
    first = stalled(runtime)
    report = watch_once(runtime, now=first)
    assert report.redriven == {"redacting": 1}
    assert sent == [(REDACT_TASK, {"args": [[record.request_id]]})]
    assert watch_once(runtime, now=first + 1).total == 0  # the same stall: not again
    assert watch_once(runtime, now=first + runtime.settings.stall_after_s - 1).total == 0
    again = watch_once(runtime, now=first + runtime.settings.stall_after_s + 2)  # still nothing moved it: a new stall
    assert again.redriven == {"redacting": 1} and len(sent) == 2


def test_a_request_whose_lock_a_task_holds_is_not_redriven_but_seen(runtime, sent):
    record = stored(runtime, "W-7")
    lock = runtime.redis.lock(runtime.keys.request_lock(record.request_id), timeout=60, blocking=False)
    assert lock.acquire()
    now = stalled(runtime)
    report = watch_once(runtime, now=now)
    assert (report.total, report.busy, sent) == (0, 1, [])
    lock.release()
    assert watch_once(runtime, now=now + 1).total == 0  # the live task was progress
    assert watch_once(runtime, now=now + runtime.settings.stall_after_s + 1).redriven == {"received": 1}
    assert sent == [(DISCOVER_TASK, {"args": [[record.request_id]]})]


def test_a_redrive_is_audited_counted_and_logged_without_personal_data(runtime, sent, caplog):
    record = stored(runtime, "W-8")
    before = REGISTRY.get_sample_value("erasure_watchdog_redrives_total", {"state": "received"}) or 0.0
    created = last_progress(runtime, record.request_id)
    now = created + runtime.settings.stall_after_s + 30
    with caplog.at_level(logging.WARNING, logger="erasure.watchdog"):
        watch_once(runtime, now=now)
    [event] = redrive_events(runtime)
    assert event["request_id"] == record.request_id and event["subject"] is None
    assert event["details"] == {"state": "received", "idle_s": round(now - created)}
    assert REGISTRY.get_sample_value("erasure_watchdog_redrives_total", {"state": "received"}) == before + 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "erasure.watchdog"]
    assert line == f"watchdog re-drove request {record.request_id}: received with no progress for {round(now - created)} s"
    assert "w-8@example.org" not in str(event) + line
    assert runtime.audit.verify().problem is None


def test_an_overdue_entry_of_a_request_that_needs_nobody_is_taken_out_not_redriven(runtime, sent):
    held = stored(runtime, "W-9", RequestState.DELETING)
    put_state(runtime, held.request_id, RequestState.HELD)  # written around the store: its entry stayed
    report = watch_once(runtime, now=stalled(runtime))
    assert (report.total, report.closed, sent) == (0, 1, [])
    assert last_progress(runtime, held.request_id) is None


def test_an_entry_a_write_renewed_after_the_claim_is_not_taken_out(runtime):
    held = stored(runtime, "W-14", RequestState.DELETING)
    put_state(runtime, held.request_id, RequestState.HELD)
    now = stalled(runtime)
    [claimed] = runtime.store.progress.claim_overdue(now - runtime.settings.stall_after_s, now, 10,
                                                     runtime.keys.request_lock)
    runtime.store.set_state(held.request_id, RequestState.DELETING)  # released meanwhile (erasure release-held)
    runtime.store.progress.drop_unchanged([claimed.request_id], now)  # what the pass read: HELD, needing nobody
    assert last_progress(runtime, held.request_id) is not None  # still watched


def test_a_final_request_left_unscrubbed_is_certified_by_the_watchdog(runtime, sent):
    done = stored(runtime, "W-10", RequestState.COMPLETED, completed_at=utcnow())  # crash before its certificate
    assert watch_once(runtime, now=stalled(runtime)).redriven == {"completed": 1}
    assert runtime.redis.get(runtime.keys.certificate(done.request_id)) is not None
    assert runtime.store.get(done.request_id).scrubbed and last_progress(runtime, done.request_id) is None


def test_resume_indexes_open_requests_stored_before_the_index(runtime, sent):
    record = stored(runtime, "W-11", RequestState.REDACTING)
    runtime.redis.delete(runtime.keys.progress)  # as after an upgrade
    assert operations.watchdog_pass(runtime).total == 0
    from services.resume import resume

    assert resume(runtime) == {"redacting": 1}
    assert last_progress(runtime, record.request_id) is not None


# --- a lost polling pass ---

def test_a_redrive_after_a_lost_sweep_sends_the_sweep_again_and_the_late_one_stands_down(runtime, sent):
    record = stored(runtime, "W-12", RequestState.POLLING, gdpr_request_ids=["gdpr-1"])
    start_polling(runtime, [record.request_id])
    [lost] = [k for n, k in sent if n == SWEEP_TASK]  # the sweep's message, then lost with Redis
    assert runtime.redis.exists(runtime.keys.sweep_scheduled)  # while its flag lives on for two minutes
    sent.clear()
    assert watch_once(runtime, now=stalled(runtime)).redriven == {"polling": 1}
    sweeps = [k for n, k in sent if n == SWEEP_TASK]
    assert sweeps, "the re-drive must send the sweep although the lost one's flag is still set"
    passes: list[str] = []

    def sweep_with(token: str) -> None:
        run_pass(runtime, task_name=SWEEP_TASK, flag_key=runtime.keys.sweep_scheduled, lock_key=runtime.keys.sweep_lock,
                 pending_key=runtime.keys.pending_gdpr, work=lambda _: passes.append(token), token=token)

    sweep_with(lost["kwargs"]["token"])  # the first message was only late after all: it stands down
    assert passes == []
    sweep_with(sweeps[-1]["kwargs"]["token"])
    assert passes == [sweeps[-1]["kwargs"]["token"]]


# --- running without an operator ---

def test_one_workers_pass_runs_per_interval(runtime, sent):
    stored(runtime, "W-13")
    assert leased_pass(runtime, "worker-a") is not None
    assert leased_pass(runtime, "worker-b") is None  # the interval's pass is taken
    assert 0 < runtime.redis.pttl(runtime.keys.watchdog_lease) <= runtime.settings.watchdog_interval_s * 1000


def test_a_redis_error_in_a_pass_does_not_end_the_watchdog_thread():
    stop = threading.Event()
    second_pass = threading.Event()
    calls: list[int] = []

    def pass_once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Redis is restarting")
        second_pass.set()

    thread = threading.Thread(target=run_loop, args=(pass_once, 0.01, stop), daemon=True)
    thread.start()
    try:
        assert second_pass.wait(timeout=10), "the thread stopped after the failed pass"
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()  # and it stops when told


def test_every_worker_imports_the_watchdog_thread():
    assert "services.watchdog_thread" in TASK_MODULES


# --- settings ---

def test_a_stall_shorter_than_a_deferral_is_refused_naming_what_to_set():
    with pytest.raises(ValueError, match=r"ERASURE_STALL_AFTER_S \(400\) must be greater than 660.*ERASURE_ACTIVE_REVISIT_S"):
        Settings(stall_after_s=400, active_revisit_s=600)
    with pytest.raises(ValueError, match="ERASURE_WATCHDOG_INTERVAL_S"):
        Settings(watchdog_interval_s=-1)
    assert Settings(stall_after_s=400, watchdog_interval_s=0).stall_after_s == 400  # longest deferral: 300 s
