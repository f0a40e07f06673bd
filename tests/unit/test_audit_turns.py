"""How writers take turns at the audit head: back to one round trip once alone, a replayed append written
once, and a bounded wait for a turn held by someone else."""

from __future__ import annotations

import time

import fakeredis
import pytest
import redis

from shared import audit
from shared.audit import AuditLog, ChainCheck
from shared.keys import Keys

KEY = b"k" * 32


def _writers(count):
    server = fakeredis.FakeServer()
    return [AuditLog(fakeredis.FakeRedis(server=server, decode_responses=True), Keys("t"), KEY) for _ in range(count)]


def _contend(first, second):
    """``first`` meets ``second`` and is left on the slow path (it waits for its turn first)."""
    first.append("a")
    second.append("b")
    first.append("c")  # refused on its stale head, then appends in its turn
    assert first._contended


def _count_calls(log):
    calls = []
    take, commit, blpop = log._take_turn, log._commit, log._r.blpop
    log._take_turn = lambda *a, **k: calls.append("take") or take(*a, **k)
    log._commit = lambda *a: calls.append("commit") or commit(*a)
    log._r.blpop = lambda *a, **k: calls.append("blpop") or blpop(*a, **k)
    return calls


def _until(condition, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_baton_poll_that_times_out_is_not_meeting_another_writer():
    """The baton is gone (expired) and nobody holds the turn: the writer polls once, takes the free turn, and
    its next append is one compare-and-append again, not another poll."""
    first, second = _writers(2)
    _contend(first, second)
    keys = Keys("t")
    first._r.delete(keys.audit_turn, keys.audit_baton)  # the turn ran out and the baton expired with it
    first._last_append_at = time.monotonic()  # recent: the writer still blocks for the baton first
    first.append("d")
    calls = _count_calls(first)
    first.append("e")
    assert calls == ["commit"]
    assert first.verify() == ChainCheck(5, None)


def test_after_an_idle_gap_longer_than_a_turn_a_contended_writer_appends_in_one_round_trip(monkeypatch):
    monkeypatch.setattr(audit, "_TURN_S", 0.1)
    first, second = _writers(2)
    _contend(first, second)
    keys = Keys("t")
    calls = _count_calls(first)
    for event in ("d", "e"):
        idle_from = time.monotonic()
        _until(lambda: not first._r.exists(keys.audit_turn, keys.audit_baton)
               and time.monotonic() - idle_from > audit._TURN_S)
        calls.clear()
        started = time.monotonic()
        first.append(event)
        assert calls == ["commit"] and time.monotonic() - started < audit._WAIT_S
    assert [e["event"] for e in first.entries()] == ["a", "b", "c", "d", "e"]
    assert first.verify() == ChainCheck(5, None)


@pytest.mark.parametrize("request_id", [None, "r-1"])
def test_a_replayed_append_whose_reply_was_lost_writes_the_entry_once(request_id):
    """The connection retries a command whose reply was lost (``shared.redis_conn``): the script runs twice
    with the same arguments, and the entry is written once, indexed once, and the append returns."""
    log, other = _writers(2)
    log.append("a")
    other.append("b")
    log.append("c")  # log now waits for its turn: the replay happens on that path too
    script = log._append_script

    def replayed(*args, **kwargs):
        script(*args, **kwargs)  # written, but the reply is lost
        return script(*args, **kwargs)

    log._append_script = replayed
    fast = other.append("d", request_id=request_id)  # the short path (no token)
    other._append_script = replayed
    turn = log.append("e", request_id=request_id)  # the turn path
    assert [e["event"] for e in log.entries()] == ["a", "b", "c", "d", "e"]
    assert (fast["seq"], turn["seq"]) == (4, 5)
    assert log.verify() == ChainCheck(5, None)
    if request_id is not None:
        assert log._r.lrange(Keys("t").audit_of_request(request_id), 0, -1) == ["4", "5"]


def test_the_same_commit_run_twice_writes_one_entry_and_answers_written_both_times():
    (log,) = _writers(1)
    log.append("a")
    answers = []
    script = log._append_script
    log._append_script = lambda *a, **k: answers.append(script(*a, **k)) or script(*a, **k)
    entry = log.append("b")
    assert answers[0][:2] == [1, f"2:{entry['hash']}"] and len(log.entries()) == 2
    mark = Keys("t").audit_done(f"2:{log.entries()[1]['hash']}")
    assert 0 < log._r.pttl(mark) <= audit._DONE_MS


def test_waiting_for_a_turn_held_by_another_writer_gives_up_at_the_deadline(monkeypatch):
    """A turn held past the deadline (another writer's, renewed): the append raises Redis's TimeoutError,
    which the task pipeline treats as Redis being down (the message is kept), and writes nothing."""
    monkeypatch.setattr(audit, "_DEADLINE_S", 0.2)
    log, other = _writers(2)
    log.append("a")
    log._r.set(Keys("t").audit_turn, "another-writer", px=60_000)
    started = time.monotonic()
    with pytest.raises(redis.exceptions.TimeoutError):
        other.append("b")
    assert 0.2 <= time.monotonic() - started < 2.0
    assert [e["event"] for e in log.entries()] == ["a"]
