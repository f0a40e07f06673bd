"""The state table (``shared.models.ALLOWED``): the store makes every move it has and refuses every other.

A refused move raises ``IllegalTransition`` (a ValueError naming the request id and the two states,
nothing personal) and leaves the stored record exactly as it was.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import get_type_hints

import pytest

from shared import pipeline
from shared.models import (
    ALLOWED,
    FINAL_STATES,
    Approval,
    ErasureRecord,
    RecordChanges,
    RequestState,
    Subject,
    may_move,
)
from shared.store import IllegalTransition, UnknownRequest
from tests.support.redis_races import interfere_once

S = RequestState
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
EMAIL = "jane.doe@example.org"
MOVES = sorted((old, new) for old, targets in ALLOWED.items() for new in targets)
FORBIDDEN = sorted(pair for pair in itertools.product(RequestState, repeat=2) if pair not in set(MOVES))


def stored(runtime, state, ticket="T-1", **fields):
    """A request created in ``state`` (creation takes any state), last written long ago."""
    return runtime.store.create(ErasureRecord(ticket=ticket, subject=Subject(emails=[EMAIL]), verified_at=LONG_AGO,
                                              received_at=LONG_AGO, updated_at=LONG_AGO, state=state, **fields))


def raw(runtime, request_id):
    return runtime.redis.get(runtime.keys.request(request_id))


# --- the table itself ---

def test_the_table_covers_every_state_and_names_only_states():
    assert set(ALLOWED) == set(RequestState)
    assert all(isinstance(new, RequestState) for targets in ALLOWED.values() for new in targets)


def test_no_state_moves_to_itself():
    assert [s for s in RequestState if s in ALLOWED[s] or may_move(s, s)] == []


def test_every_open_state_can_fail_and_reach_an_end():
    for state in RequestState:
        if state.is_final:
            continue
        assert may_move(state, S.FAILED), state
        seen, todo = {state}, [state]
        while todo:  # no open state is a dead end: some path leads on to a final state
            for new in ALLOWED[todo.pop()]:
                if new not in seen:
                    seen.add(new)
                    todo.append(new)
        assert seen & {S.COMPLETED, S.COMPLETED_WITH_WITHHELD, S.PARTIAL}, state


def test_final_states_have_no_way_out_but_release_held():
    """release-held reopens a COMPLETED_WITH_WITHHELD request whose held conversations are free now."""
    exits = {state: ALLOWED[state] for state in FINAL_STATES if ALLOWED[state]}
    assert exits == {S.COMPLETED_WITH_WITHHELD: frozenset({S.DELETING})}
    assert not S.HELD.is_final and ALLOWED[S.HELD] == {S.DELETING, S.FAILED}  # a hold waits for release-held


def test_only_received_has_no_way_in():
    """RECEIVED is where the intake creates a request; REJECTED is entered from the gate only (the console)."""
    entered = {new for targets in ALLOWED.values() for new in targets}
    assert set(RequestState) - entered == {S.RECEIVED}
    assert [old for old, targets in ALLOWED.items() if S.REJECTED in targets] == [S.AWAITING_APPROVAL]


PRODUCT_PATHS = {
    "erasure": [S.RECEIVED, S.DISCOVERING, S.REDACTING, S.DELETING, S.POLLING, S.VERIFYING, S.COMPLETED],
    "new identifiers in transcripts": [S.DISCOVERING, S.REDACTING, S.DISCOVERING, S.REDACTING, S.DELETING],
    "approval gate": [S.REDACTING, S.AWAITING_APPROVAL, S.DELETING],
    "rejected at the gate": [S.REDACTING, S.AWAITING_APPROVAL, S.REJECTED],
    "deletion finds no approval": [S.DELETING, S.AWAITING_APPROVAL, S.DELETING],
    "hold on the subject": [S.DELETING, S.HELD, S.DELETING, S.POLLING],
    "held conversations released": [S.VERIFYING, S.COMPLETED_WITH_WITHHELD, S.DELETING, S.POLLING, S.VERIFYING,
                                    S.COMPLETED],
    "retention purge": [S.DELETING, S.POLLING, S.VERIFYING, S.COMPLETED_WITH_WITHHELD],
    "GDPR request ERROR or timeout": [S.POLLING, S.PARTIAL],
    "remnants found": [S.VERIFYING, S.PARTIAL],
    "active conversations too long": [S.DISCOVERING, S.FAILED],
}


@pytest.mark.parametrize("path", list(PRODUCT_PATHS.values()), ids=list(PRODUCT_PATHS))
def test_the_paths_the_product_takes_are_walked_through_transition(runtime, path):
    record = stored(runtime, path[0])
    for state in path[1:]:
        assert pipeline.transition(runtime, record.request_id, state, "test.moved") is not None
    assert runtime.store.get(record.request_id).state is path[-1]
    moves = [e["details"]["state"] for e in runtime.audit.entries_for(record.request_id) if e["event"] == "test.moved"]
    assert moves == [s.value for s in path[1:]]


# --- the store makes every move of the table ---

@pytest.mark.parametrize(("old", "new"), MOVES, ids=[f"{o.value}->{n.value}" for o, n in MOVES])
def test_every_allowed_move_is_made_by_each_way_of_moving(runtime, old, new):
    store = runtime.store
    by_set_state = stored(runtime, old, "T-1")
    by_guard = stored(runtime, old, "T-2")
    by_claim = stored(runtime, old, "T-3")
    by_save = stored(runtime, old, "T-4")

    store.set_state(by_set_state.request_id, new, reason="moved")
    assert store.update_if(by_guard.request_id, old, state=new, reason="moved") is not None
    assert store.claim_state(by_claim.request_id, old, new)
    store.save(by_save.model_copy(update={"state": new, "reason": "moved"}))

    for record in (by_set_state, by_guard, by_claim, by_save):
        after = store.get(record.request_id)
        assert after.state is new and after.updated_at > LONG_AGO
        assert after.reason == (None if record is by_claim else "moved")


# --- and refuses every other, writing nothing ---

@pytest.mark.parametrize(("old", "new"), FORBIDDEN, ids=[f"{o.value}->{n.value}" for o, n in FORBIDDEN])
def test_every_move_not_in_the_table_is_refused_and_writes_nothing(runtime, old, new):
    store = runtime.store
    record = stored(runtime, old)
    before = raw(runtime, record.request_id)
    attempts = {
        "set_state": lambda: store.set_state(record.request_id, new, reason="moved"),
        "update_if": lambda: store.update_if(record.request_id, old, state=new, reason="moved"),
        "claim_state": lambda: store.claim_state(record.request_id, old, new),
    }
    if new is not old:  # saving a record in the state it is in is no move (a scrubbed copy): see below
        attempts["save"] = lambda: store.save(record.model_copy(update={"state": new, "reason": "moved"}))
    for way, attempt in attempts.items():
        with pytest.raises(IllegalTransition) as info:
            attempt()
        assert (info.value.request_id, info.value.old, info.value.new) == (record.request_id, old, new), way
        assert raw(runtime, record.request_id) == before, way


def test_the_refusal_names_the_request_and_the_states_and_nothing_personal(runtime):
    record = stored(runtime, S.COMPLETED)
    with pytest.raises(ValueError) as info:  # IllegalTransition is a ValueError
        pipeline.transition(runtime, record.request_id, S.DELETING, "test.moved", reason="again")
    assert str(info.value) == f"request {record.request_id}: completed -> deleting is not an allowed state change"
    assert EMAIL not in str(info.value)
    assert runtime.audit.entries() == []  # no audit entry for a move that did not happen
    assert runtime.store.get(record.request_id).reason is None


def test_a_guard_that_does_not_match_answers_none_before_the_table_is_asked(runtime):
    """A concurrent delivery that moved the request first is a race, not a bug: None, no exception."""
    record = stored(runtime, S.COMPLETED)
    assert runtime.store.update_if(record.request_id, S.POLLING, state=S.VERIFYING) is None
    assert not runtime.store.claim_state(record.request_id, S.POLLING, S.VERIFYING)
    assert runtime.store.get(record.request_id).updated_at == LONG_AGO


def test_the_check_is_made_on_the_state_there_at_the_write_not_an_earlier_read(runtime):
    """The GDPR sweep (no request lock) times a POLLING request out to PARTIAL just as verification completes
    it: the move is checked against COMPLETED, refused, and the completion stands."""
    record = stored(runtime, S.POLLING)
    store = runtime.store

    def verification():
        store.set_state(record.request_id, S.VERIFYING)
        store.set_state(record.request_id, S.COMPLETED, reason="verified")

    done = interfere_once(runtime.redis, verification)

    with pytest.raises(IllegalTransition) as info:
        store.set_state(record.request_id, S.PARTIAL, reason="timeout")

    assert done == [True] and info.value.old is S.COMPLETED
    after = store.get(record.request_id)
    assert (after.state, after.reason) == (S.COMPLETED, "verified")


def test_save_rereads_a_record_written_meanwhile_and_checks_its_state(runtime):
    record = stored(runtime, S.POLLING)
    store = runtime.store

    def verification():
        store.set_state(record.request_id, S.VERIFYING)
        store.set_state(record.request_id, S.COMPLETED)

    interfere_once(runtime.redis, verification)

    with pytest.raises(IllegalTransition) as info:  # POLLING -> PARTIAL when read, COMPLETED -> PARTIAL at the write
        store.save(record.model_copy(update={"state": S.PARTIAL}))

    assert (info.value.old, info.value.new) == (S.COMPLETED, S.PARTIAL)
    assert store.get(record.request_id).state is S.COMPLETED


def test_save_of_an_allowed_move_after_a_write_meanwhile_is_written(runtime):
    record = stored(runtime, S.POLLING)
    store = runtime.store
    interfere_once(runtime.redis, lambda: store.set_state(record.request_id, S.VERIFYING))
    store.save(record.model_copy(update={"state": S.PARTIAL, "reason": "timeout"}))
    after = store.get(record.request_id)
    assert (after.state, after.reason) == (S.PARTIAL, "timeout")


def test_save_writes_a_new_record_and_a_record_in_its_own_state(runtime):
    """A scrubbed copy of a final request is saved in the state it is in: that is no move."""
    fresh = ErasureRecord(request_id="r-new", ticket="T-9", subject=Subject(emails=[EMAIL]), verified_at=LONG_AGO,
                          state=S.REJECTED, updated_at=LONG_AGO)
    runtime.store.save(fresh)
    assert runtime.store.get("r-new").state is S.REJECTED
    record = stored(runtime, S.FAILED)
    runtime.store.save(record.model_copy(update={"reason": "scrubbed", "scrubbed": True}))
    after = runtime.store.get(record.request_id)
    assert (after.state, after.reason, after.scrubbed) == (S.FAILED, "scrubbed", True)
    assert after.updated_at > LONG_AGO


# --- typed updates ---

def test_an_update_changes_fields_but_never_the_state(runtime):
    record = stored(runtime, S.POLLING)
    before = raw(runtime, record.request_id)
    with pytest.raises(TypeError, match="'state' is not a field a write may change"):
        runtime.store.update(record.request_id, state=S.COMPLETED)
    with pytest.raises(TypeError, match="'ticket' is not a field a write may change"):
        runtime.store.set_state(record.request_id, S.VERIFYING, ticket="T-other")
    with pytest.raises(TypeError, match="'verified_at' is not a field a write may change"):
        runtime.store.update_if(record.request_id, S.POLLING, verified_at=LONG_AGO)
    assert raw(runtime, record.request_id) == before

    updated = runtime.store.update(record.request_id, poll_attempts=2, reason="waiting")
    assert (updated.state, updated.poll_attempts, updated.reason) == (S.POLLING, 2, "waiting")
    assert runtime.store.get(record.request_id) == updated


def test_record_changes_are_typed_as_the_record_fields_they_change():
    changes = get_type_hints(RecordChanges)
    hints = get_type_hints(ErasureRecord)
    fields = {name: hints[name] for name in ErasureRecord.model_fields}
    assert {name: fields[name] for name in changes} == changes
    fixed = {"request_id", "ticket", "verified_at", "window", "state", "received_at", "updated_at", "scrubbed",
             "subject_digest", "purge_policy", "erase_by_name", "submitted_by", "callback_url", "kind",
             "review_export", "lane"}
    assert set(fields) - set(changes) == fixed


def test_an_update_keeps_a_field_another_writer_set_meanwhile(runtime):
    """``erasure approve`` (no request lock) records an approval while a task updates the same request."""
    record = stored(runtime, S.REDACTING)
    store = runtime.store
    approval = Approval(by="dpo", at=LONG_AGO)
    interfere_once(runtime.redis, lambda: store.update_if(record.request_id, S.REDACTING, approval=approval))

    store.update(record.request_id, transcripts_scanned=3)

    after = store.get(record.request_id)
    assert after.approval == approval and after.transcripts_scanned == 3


def test_update_and_set_state_of_an_unknown_request(runtime):
    with pytest.raises(UnknownRequest) as info:
        runtime.store.update("r-none", reason="x")
    assert info.value.args == ("r-none",)
    with pytest.raises(UnknownRequest) as info:
        runtime.store.set_state("r-none", S.FAILED)
    assert info.value.args == ("r-none",)
    assert runtime.redis.get(runtime.keys.request("r-none")) is None


# --- failure paths never reopen an ended request ---

def test_a_step_failing_after_its_request_ended_leaves_the_end_as_it_is(runtime):
    """E.g. the certificate step raising after verification completed the request."""
    record = stored(runtime, S.COMPLETED)
    with pipeline.isolated(runtime, record, "verification"):
        raise RuntimeError("certificate failed")
    after = runtime.store.get(record.request_id)
    assert after.state is S.COMPLETED and after.reason is None
    assert runtime.audit.entries() == []


