"""The light row per request (``shared.summaries``): written by the store with every write of the record,
read for lists in one round trip, and made from the record for requests stored before rows existed."""

from __future__ import annotations

from datetime import timedelta

from shared import summaries
from shared.models import Approval, ErasureRecord, RequestState, Subject, utcnow
from tests.support.records import put_state


def new(runtime, ticket="SUM-1", **fields):
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=["jane@example.org"]),
                           verified_at=utcnow() - timedelta(days=3), submitted_by="a1b2c3d4e5f6", **fields)
    return runtime.store.create(record)


def rows(runtime):
    return {s.request_id: s for s in summaries.read_all(runtime.redis, runtime.keys)[0]}


def test_each_write_of_the_record_writes_its_row_in_the_same_transaction(runtime):
    record = new(runtime)
    row = rows(runtime)[record.request_id]
    assert (row.ticket, row.state, row.kind, row.submitted_by, row.approved) == (
        "SUM-1", RequestState.RECEIVED, "erase", "a1b2c3d4e5f6", False)
    assert abs(row.deadline - record.deadline) < timedelta(milliseconds=1)
    assert abs(row.received_at - record.received_at) < timedelta(milliseconds=1)
    runtime.store.set_state(record.request_id, RequestState.DISCOVERING)
    runtime.store.update(record.request_id, approval=Approval(by="dpo"))
    row = rows(runtime)[record.request_id]
    assert row.state is RequestState.DISCOVERING and row.approved
    put_state(runtime, record.request_id, RequestState.FAILED)
    assert rows(runtime)[record.request_id].state is RequestState.FAILED


def test_a_row_holds_no_identifier(runtime):
    record = new(runtime)
    assert "jane" not in str(runtime.redis.hget(runtime.keys.request_summaries, record.request_id))


def test_rows_are_read_oldest_first_with_the_dead_letters_in_one_round_trip(runtime):
    late = new(runtime, "SUM-2", received_at=utcnow())
    early = new(runtime, "SUM-1", received_at=utcnow() - timedelta(hours=1))
    runtime.redis.hset(runtime.keys.webhook_dead_letters, "x", "{}")
    found, dead = summaries.read_all(runtime.redis, runtime.keys)
    assert [s.request_id for s in found] == [early.request_id, late.request_id] and dead == 1


def test_requests_stored_before_rows_existed_get_theirs_from_the_record(runtime):
    record = new(runtime)
    runtime.redis.delete(runtime.keys.request_summaries)
    assert rows(runtime)[record.request_id].ticket == "SUM-1"
    assert runtime.redis.hexists(runtime.keys.request_summaries, record.request_id)  # filled in for next time


def test_a_garbled_row_is_left_out_of_lists(runtime):
    record = new(runtime)
    runtime.redis.hset(runtime.keys.request_summaries, record.request_id, "not json")
    assert rows(runtime) == {}
