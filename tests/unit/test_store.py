"""The ticket is the idempotency key: the same ticket twice is one request."""

from datetime import UTC, datetime

import fakeredis
import pytest

from shared import pipeline
from shared.keys import Keys
from shared.models import ALLOWED, FINAL_STATES, ErasureRecord, RequestState, Subject, utcnow
from shared.store import DuplicateTicket, RequestStore, UnknownRequest
from tests.support.redis_races import interfere_once


def new_record(ticket):
    return ErasureRecord(ticket=ticket, subject=Subject(emails=["a@example.org"]), verified_at=utcnow())


def test_duplicate_ticket_refused_and_first_kept():
    store = RequestStore(fakeredis.FakeRedis(decode_responses=True), Keys("t"))
    first = store.create(new_record("T-1"))
    with pytest.raises(DuplicateTicket) as info:
        store.create(new_record("T-1"))
    assert info.value.request_id == first.request_id
    assert store.ids() == [first.request_id]


def test_state_roundtrip():
    store = RequestStore(fakeredis.FakeRedis(decode_responses=True), Keys("t"))
    record = store.create(new_record("T-2"))
    for state in (RequestState.DISCOVERING, RequestState.REDACTING, RequestState.DELETING):  # moves of the table
        store.set_state(record.request_id, state)
    assert store.get(record.request_id).state is RequestState.DELETING
    assert store.states([record.request_id]) == {record.request_id: RequestState.DELETING}
    assert store.find_by_ticket("T-2").request_id == record.request_id


def test_a_write_to_another_field_does_not_cost_a_state_change():
    """update_if rereads after a concurrent write instead of reporting 'someone else moved it'."""
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server, decode_responses=True)
    other = RequestStore(fakeredis.FakeRedis(server=server, decode_responses=True), Keys("t"))
    store = RequestStore(client, Keys("t"))
    record = store.create(new_record("T-3"))
    store.set_state(record.request_id, RequestState.DISCOVERING)
    store.set_state(record.request_id, RequestState.REDACTING)
    original_pipeline = client.pipeline

    def pipeline(*args, **kwargs):
        pipe = original_pipeline(*args, **kwargs)
        real_multi = pipe.multi

        def multi():  # between WATCH and MULTI, once: an unrelated writer updates the record
            if not getattr(pipe, "interfered", False):
                pipe.interfered = True
                other.update(record.request_id, transcripts_scanned=7)
            return real_multi()

        pipe.multi = multi
        return pipe

    client.pipeline = pipeline
    moved = store.update_if(record.request_id, RequestState.REDACTING, state=RequestState.DELETING)
    assert moved is not None and moved.state is RequestState.DELETING
    stored = store.get(record.request_id)
    assert stored.state is RequestState.DELETING and stored.transcripts_scanned == 7


# --- transitions: what store.py (and ``pipeline.transition`` on top of it) enforces today ---

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
NOT_FINAL = [s for s in RequestState if not s.is_final]


def old_record(store, ticket, state=RequestState.RECEIVED, **fields):
    """A stored request last touched long ago, so a fresh ``updated_at`` is visible without waiting."""
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=[f"{ticket.lower()}@example.org"]), verified_at=LONG_AGO,
                           received_at=LONG_AGO, updated_at=LONG_AGO, state=state, **fields)
    return store.create(record)


def test_final_states_are_exactly_these():
    finals = {s for s in RequestState if s.is_final}
    assert finals == {RequestState.COMPLETED, RequestState.COMPLETED_WITH_WITHHELD, RequestState.PARTIAL,
                      RequestState.FAILED, RequestState.REJECTED}
    assert finals == FINAL_STATES
    assert not RequestState.HELD.is_final  # a hold keeps the request back; release-held resumes it


def a_state_before(state):
    """A state the table (``ALLOWED``) lets move to ``state``."""
    return next(s for s in RequestState if state in ALLOWED[s])


@pytest.mark.parametrize("state", [s for s in RequestState if any(s in ALLOWED[o] for o in RequestState)])
def test_each_transition_writes_the_audit_entry_and_the_time(runtime, state):
    """Into every state a move leads to (RECEIVED and REJECTED have none: tests/unit/test_state_table.py)."""
    record = old_record(runtime.store, "T-10", state=a_state_before(state))
    before = utcnow()

    moved = pipeline.transition(runtime, record.request_id, state, "test.moved", details={"why": "test"},
                                expect=a_state_before(state), reason="because")

    stored = runtime.store.get(record.request_id)
    assert moved is not None and stored.state is state and stored.reason == "because"
    assert stored.updated_at >= before and stored.received_at == LONG_AGO
    entries = runtime.audit.entries_for(record.request_id)
    assert entries[0]["event"] == "test.moved"
    assert entries[0]["details"] == {"state": state.value, "why": "test"}
    assert entries[0]["subject"] == runtime.digest(record)
    # Failed and rejected requests get no certificate: their identifiers are scrubbed on the way in.
    assert [e["event"] for e in entries[1:]] == (["request.scrubbed"] if state in pipeline.UNCERTIFIED_ENDS else [])
    assert stored.scrubbed is (state in pipeline.UNCERTIFIED_ENDS)


@pytest.mark.parametrize("current", [s for s in RequestState if s is not RequestState.DELETING])
def test_an_expect_guard_refuses_a_move_from_any_other_state(runtime, current):
    record = old_record(runtime.store, "T-11", state=current)

    moved = pipeline.transition(runtime, record.request_id, RequestState.POLLING, "test.moved",
                                expect=RequestState.DELETING)

    stored = runtime.store.get(record.request_id)
    assert moved is None
    assert stored.state is current and stored.updated_at == LONG_AGO
    assert runtime.audit.entries() == []


def test_an_expect_guard_takes_several_states(runtime):
    a = old_record(runtime.store, "T-12", state=RequestState.DISCOVERING)
    b = old_record(runtime.store, "T-13", state=RequestState.HELD)
    allowed = (RequestState.RECEIVED, RequestState.DISCOVERING)
    assert runtime.store.update_if(a.request_id, allowed, state=RequestState.REDACTING).state is RequestState.REDACTING
    assert runtime.store.update_if(b.request_id, allowed, state=RequestState.REDACTING) is None
    assert runtime.store.get(b.request_id).state is RequestState.HELD


def test_a_state_whose_name_contains_another_is_not_mistaken_for_it(runtime):
    record = old_record(runtime.store, "T-14", state=RequestState.COMPLETED)
    assert runtime.store.update_if(record.request_id, RequestState.COMPLETED_WITH_WITHHELD, reason="x") is None
    assert runtime.store.get(record.request_id).reason is None


@pytest.mark.parametrize("final", sorted(FINAL_STATES))
def test_a_final_request_is_never_moved_by_a_guarded_change(runtime, final):
    """Every guarded move names non-final states, so a final request stays where it is."""
    record = old_record(runtime.store, "T-15", state=final)
    assert pipeline.transition(runtime, record.request_id, RequestState.FAILED, "request.failed",
                               expect=tuple(NOT_FINAL), reason="late") is None
    assert not runtime.store.claim_state(record.request_id, RequestState.POLLING, RequestState.VERIFYING)
    stored = runtime.store.get(record.request_id)
    assert stored.state is final and stored.reason is None and stored.updated_at == LONG_AGO


def test_claim_state_moves_once(runtime):
    record = old_record(runtime.store, "T-16", state=RequestState.POLLING)
    assert runtime.store.claim_state(record.request_id, RequestState.POLLING, RequestState.VERIFYING)
    assert not runtime.store.claim_state(record.request_id, RequestState.POLLING, RequestState.VERIFYING)
    stored = runtime.store.get(record.request_id)
    assert stored.state is RequestState.VERIFYING and stored.updated_at > LONG_AGO


def test_a_guarded_change_of_an_unknown_request_is_refused(runtime):
    assert runtime.store.update_if("nope", RequestState.RECEIVED, state=RequestState.DISCOVERING) is None
    assert not runtime.store.claim_state("nope", RequestState.RECEIVED, RequestState.DISCOVERING)
    assert pipeline.transition(runtime, "nope", RequestState.FAILED, "request.failed", expect=RequestState.RECEIVED) is None
    assert runtime.audit.entries() == []


def test_a_concurrent_state_change_wins_over_a_guarded_one(runtime):
    """Between WATCH and MULTI another delivery moves the request: the guarded change reads again and stops."""
    store = runtime.store
    record = old_record(store, "T-17", state=RequestState.REDACTING)
    interfere_once(runtime.redis, lambda: store.set_state(record.request_id, RequestState.DELETING))

    assert store.update_if(record.request_id, RequestState.REDACTING, state=RequestState.FAILED) is None
    assert store.get(record.request_id).state is RequestState.DELETING


def test_set_state_and_update_write_the_changes_and_the_time(runtime):
    record = old_record(runtime.store, "T-18")
    runtime.store.set_state(record.request_id, RequestState.FAILED, reason="r", poll_attempts=3)
    stored = runtime.store.get(record.request_id)
    assert (stored.state, stored.reason, stored.poll_attempts) == (RequestState.FAILED, "r", 3)
    assert stored.updated_at > LONG_AGO


# --- the ticket index and the request list ---

def test_two_intakes_claiming_one_ticket_at_once_make_one_request(runtime):
    store = runtime.store
    mine = ErasureRecord(ticket="T-20", subject=Subject(emails=["a@example.org"]), verified_at=utcnow())
    theirs = ErasureRecord(ticket="T-20", subject=Subject(emails=["b@example.org"]), verified_at=utcnow())
    # The other intake's whole create lands between this one's WATCH and MULTI.
    other = RequestStore(runtime.redis, runtime.keys)
    done = interfere_once(runtime.redis, lambda: other.create(theirs))

    with pytest.raises(DuplicateTicket) as info:
        store.create(mine)

    assert done == [True]
    assert info.value.request_id == theirs.request_id and info.value.ticket == "T-20"
    assert info.value.same_subject is False  # only the intake, which knows the subject, may say otherwise
    assert store.ids() == [theirs.request_id]
    assert store.find_by_ticket("T-20").subject.emails == ["b@example.org"]


def test_unknown_ticket_and_unknown_request():
    store = RequestStore(fakeredis.FakeRedis(decode_responses=True), Keys("t"))
    assert store.find_by_ticket("T-none") is None
    with pytest.raises(UnknownRequest) as info:
        store.get("r-none")
    assert info.value.args == ("r-none",)


def test_requests_are_listed_in_the_order_they_were_received(runtime):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    made = {}
    for ticket, day in (("T-22", 3), ("T-23", 1), ("T-24", 2), ("T-25", 4)):
        record = ErasureRecord(ticket=ticket, subject=Subject(emails=["a@example.org"]), verified_at=base,
                               received_at=base.replace(day=day))
        made[day] = runtime.store.create(record).request_id
    assert runtime.store.ids() == [made[1], made[2], made[3], made[4]]
    assert [r.ticket for r in runtime.store.iter_records()] == ["T-23", "T-24", "T-22", "T-25"]


def test_iter_records_skips_a_request_whose_record_is_gone(runtime):
    for n in range(3):
        old_record(runtime.store, f"T-3{n}")
    ids = runtime.store.ids()
    runtime.redis.delete(runtime.keys.request(ids[1]))
    assert [r.request_id for r in runtime.store.iter_records()] == [ids[0], ids[2]]


def test_iter_records_reads_the_store_in_chunks_not_a_record_at_a_time(runtime, monkeypatch):
    for n in range(5):
        old_record(runtime.store, f"T-4{n}")
    ids = runtime.store.ids()
    calls: list[int] = []
    real_mget = runtime.redis.mget
    monkeypatch.setattr(runtime.redis, "mget", lambda keys, *rest: calls.append(len(keys)) or real_mget(keys, *rest))
    monkeypatch.setattr(runtime.redis, "get", lambda *_: pytest.fail("a record read on its own"))
    assert [r.request_id for r in runtime.store.iter_records(chunk=2)] == ids and calls == [2, 2, 1]


def test_states_of_many_requests_across_chunks(runtime):
    ids = [f"r{n:04d}" for n in range(2101)]
    stored = {0: RequestState.RECEIVED, 999: RequestState.DELETING, 1000: RequestState.POLLING,
              1001: RequestState.HELD, 2000: RequestState.FAILED, 2100: RequestState.COMPLETED}
    for index, state in stored.items():
        runtime.store.save(ErasureRecord(request_id=ids[index], ticket=f"T-{index}", state=state,
                                         subject=Subject(emails=["a@example.org"]), verified_at=utcnow()))
    reads = []
    mget = runtime.redis.mget
    runtime.redis.mget = lambda keys: reads.append(len(keys)) or mget(keys)

    assert runtime.store.states(ids) == {ids[i]: state for i, state in stored.items()}
    assert reads == [1000, 1000, 101]  # a progress display polls this: a few round trips, not one per request
    assert runtime.store.states([]) == {}
