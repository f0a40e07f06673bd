"""The effect ledger: an intent before a platform call, the platform's id after it, once per request and effect."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest

from shared.effects import (
    AlreadyGone,
    Blocked,
    Done,
    EffectRecord,
    ReconcileIncomplete,
    Via,
    outcome_of,
    reconcile_pages,
)
from shared.genesys import Conflict, TransportError
from shared.models import utcnow


def raw(runtime, request_id, effect):
    return runtime.redis.hgetall(runtime.keys.effect(request_id, effect))


def test_nothing_recorded_is_none(runtime):
    assert runtime.effects.get("r1", "gdpr_delete") is None


def test_the_first_intent_wins_and_carries_no_platform_id(runtime):
    before = utcnow()
    assert runtime.effects.record_intent("r1", "gdpr_delete") is True
    assert runtime.effects.record_intent("r1", "gdpr_delete") is False  # a second delivery, or a second worker

    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="intent", platform_id=None)
    # When the call may have gone out: what an operator checking the platform by hand looks for.
    stamp = datetime.fromisoformat(raw(runtime, "r1", "gdpr_delete")["intent_at"])
    assert before <= stamp <= utcnow()


def test_the_result_replaces_the_intent_and_is_final(runtime):
    runtime.effects.record_intent("r1", "gdpr_delete")
    before = utcnow()
    runtime.effects.record_done("r1", "gdpr_delete", "gdpr-42")

    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="done", platform_id="gdpr-42")
    assert runtime.effects.record_intent("r1", "gdpr_delete") is False
    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="done", platform_id="gdpr-42")
    stored = raw(runtime, "r1", "gdpr_delete")
    assert before <= datetime.fromisoformat(stored["done_at"]) <= utcnow()
    assert datetime.fromisoformat(stored["intent_at"]) <= datetime.fromisoformat(stored["done_at"])


def test_a_result_recorded_without_an_intent_is_still_found(runtime):
    """Reconciliation records what it found in the platform's list; a redelivery then stops there."""
    runtime.effects.record_done("r1", "recording_job:0:0", "job-7")
    assert runtime.effects.get("r1", "recording_job:0:0") == EffectRecord(state="done", platform_id="job-7")
    assert runtime.effects.record_intent("r1", "recording_job:0:0") is False


def test_each_request_and_effect_has_its_own_entry(runtime):
    runtime.effects.record_intent("r1", "gdpr_delete")
    runtime.effects.record_done("r1", "gdpr_delete", "gdpr-1")

    assert runtime.effects.get("r2", "gdpr_delete") is None
    assert runtime.effects.get("r1", "user_delete") is None
    assert runtime.effects.record_intent("r2", "gdpr_delete") is True
    assert runtime.effects.record_intent("r1", "user_delete") is True
    assert runtime.effects.get("r1", "gdpr_delete").platform_id == "gdpr-1"


# --- the protocol: EffectLedger.once, recall, perform, once_bulk ---


class Calls:
    """A platform call that answers ``answers`` in turn (an exception is raised), recording what the
    ledger held for the effect at the moment of each call."""

    def __init__(self, runtime, effect, *answers):
        self.runtime, self.effect, self.answers, self.seen = runtime, effect, list(answers), []

    def __call__(self):
        self.seen.append(self.runtime.effects.get("r1", self.effect))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_once_records_the_intent_before_the_call_and_the_result_after_it(runtime):
    call = Calls(runtime, "gdpr_delete", Done("gdpr-42"))

    outcome = runtime.effects.once("r1", "gdpr_delete", call)

    assert outcome == Done("gdpr-42", Via.CALL)
    assert call.seen == [EffectRecord(state="intent", platform_id=None)]  # the intent was there during the call
    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="done", platform_id="gdpr-42")


def test_a_redelivery_finds_the_result_and_calls_nothing(runtime):
    runtime.effects.once("r1", "gdpr_delete", Calls(runtime, "gdpr_delete", Done("gdpr-42")))
    again = Calls(runtime, "gdpr_delete")  # any call would fail: it has no answer left
    reconciled = []

    outcome = runtime.effects.once("r1", "gdpr_delete", again, reconcile=lambda record: reconciled.append(record))

    assert outcome == Done("gdpr-42", Via.LEDGER)
    assert again.seen == [] and reconciled == []


def test_an_intent_without_a_result_is_reconciled_and_nothing_is_called_again(runtime):
    runtime.effects.record_intent("r1", "recording_job:0:0", {"spec": '{"ids": ["c-1"]}'})
    call = Calls(runtime, "recording_job:0:0")
    searched = []

    def reconcile(record):
        searched.append(record)
        return "job-7"

    outcome = runtime.effects.once("r1", "recording_job:0:0", call, reconcile)

    assert outcome == Done("job-7", Via.RECONCILE)
    assert call.seen == []
    assert searched == [EffectRecord(state="intent", platform_id=None, notes={"spec": '{"ids": ["c-1"]}'})]
    assert runtime.effects.get("r1", "recording_job:0:0").platform_id == "job-7"
    assert runtime.effects.once("r1", "recording_job:0:0", call, reconcile) == Done("job-7", Via.LEDGER)
    assert len(searched) == 1  # found once, known from then on


def test_an_intent_not_found_on_the_platform_is_called_again(runtime):
    runtime.effects.record_intent("r1", "gdpr_delete")  # the worker died before its call went out
    call = Calls(runtime, "gdpr_delete", Done("gdpr-9"))

    outcome = runtime.effects.once("r1", "gdpr_delete", call, reconcile=lambda record: None)

    assert outcome == Done("gdpr-9", Via.CALL) and len(call.seen) == 1
    assert runtime.effects.get("r1", "gdpr_delete").platform_id == "gdpr-9"


def test_an_intent_without_a_way_to_reconcile_is_called_again(runtime):
    """An idempotent DELETE is reconciled by making it again: the platform then says it is gone."""
    runtime.effects.record_intent("r1", "user_delete")
    call = Calls(runtime, "user_delete", AlreadyGone())

    assert runtime.effects.once("r1", "user_delete", call) == AlreadyGone(Via.CALL)
    assert runtime.effects.get("r1", "user_delete").platform_id == "already_gone"
    assert runtime.effects.once("r1", "user_delete", call) == AlreadyGone(Via.LEDGER)
    assert len(call.seen) == 1


def test_an_incomplete_reconciliation_raises_calls_nothing_and_records_nothing(runtime):
    runtime.effects.record_intent("r1", "gdpr_delete")
    call = Calls(runtime, "gdpr_delete", Done("gdpr-9"))

    def endless(record):
        raise ReconcileIncomplete("searched 3 pages of the platform's list without reaching its end")

    with pytest.raises(ReconcileIncomplete):
        runtime.effects.once("r1", "gdpr_delete", call, endless)

    assert call.seen == []
    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="intent", platform_id=None)


def test_a_409_is_recorded_as_blocked_and_never_retried(runtime):
    call = Calls(runtime, "contact:x", Conflict("DELETE -> 409", status=409, code="legal.hold"), Done("deleted"))

    assert runtime.effects.once("r1", "contact:x", call) == Blocked("legal.hold", Via.CALL)
    assert runtime.effects.get("r1", "contact:x").platform_id == "blocked:legal.hold"
    assert runtime.effects.once("r1", "contact:x", call, reconcile=lambda record: "x") == Blocked("legal.hold")
    assert len(call.seen) == 1


def test_a_409_without_a_code_is_still_blocked(runtime):
    call = Calls(runtime, "user_delete", Conflict("DELETE -> 409", status=409))
    assert runtime.effects.once("r1", "user_delete", call) == Blocked("conflict", Via.CALL)
    assert runtime.effects.get("r1", "user_delete").outcome == Blocked("conflict")


def test_any_other_failure_leaves_the_intent_for_the_next_delivery(runtime):
    call = Calls(runtime, "gdpr_delete", TransportError("POST: timed out"), Done("gdpr-3"))

    with pytest.raises(TransportError):
        runtime.effects.once("r1", "gdpr_delete", call)
    assert runtime.effects.get("r1", "gdpr_delete") == EffectRecord(state="intent", platform_id=None)
    assert runtime.effects.once("r1", "gdpr_delete", call, reconcile=lambda record: None) == Done("gdpr-3", Via.CALL)


def test_recall_without_anything_recorded_is_none_and_calls_no_reconcile(runtime):
    assert runtime.effects.recall("r1", "gdpr_delete", reconcile=lambda record: "never") is None
    runtime.effects.record_intent("r1", "gdpr_delete")
    assert runtime.effects.recall("r1", "gdpr_delete") is None  # an intent alone is no outcome
    assert runtime.effects.get("r1", "gdpr_delete").outcome is None


def test_once_stores_the_calls_notes_with_its_intent(runtime):
    call = Calls(runtime, "recording_job:0:0", Done("job-1"))

    runtime.effects.once("r1", "recording_job:0:0", call, notes={"lease": "l-1", "spec": "s"})

    assert call.seen == [EffectRecord(state="intent", platform_id=None, notes={"lease": "l-1", "spec": "s"})]


def test_the_notes_of_the_latest_intent_replace_the_earlier_ones(runtime):
    runtime.effects.record_intent("r1", "recording_job:0:0", {"lease": "l-1", "spec": "a"})
    assert runtime.effects.record_intent("r1", "recording_job:0:0", {"spec": "b"}) is False

    assert runtime.effects.get("r1", "recording_job:0:0").notes == {"lease": "l-1", "spec": "b"}
    runtime.effects.record_done("r1", "recording_job:0:0", "job-1")
    assert runtime.effects.get("r1", "recording_job:0:0") == EffectRecord(
        state="done", platform_id="job-1", notes={"lease": "l-1", "spec": "b"})


@pytest.mark.parametrize("name", ["state", "platform_id", "intent_at", "done_at"])
def test_notes_cannot_overwrite_the_ledgers_own_fields(runtime, name):
    with pytest.raises(ValueError, match=name):
        runtime.effects.record_intent("r1", "gdpr_delete", {name: "x"})
    assert runtime.effects.get("r1", "gdpr_delete").state == "intent"


@pytest.mark.parametrize(("recorded", "outcome"), [
    ("gdpr-1", Done("gdpr-1")), ("deleted", Done("deleted")), ("already_gone", AlreadyGone()),
    ("blocked:legal.hold", Blocked("legal.hold")), ("blocked:", Blocked("")),
])
def test_every_outcome_reads_back_as_it_was_recorded(runtime, recorded, outcome):
    assert outcome_of(recorded) == outcome and outcome.recorded == recorded
    assert outcome_of(recorded, Via.RECONCILE).via is Via.RECONCILE
    runtime.effects.record_outcome("r1", "e", outcome_of(recorded, Via.CALL))
    assert runtime.effects.get("r1", "e").outcome == outcome


# --- reconcile_pages: one way to search a platform list ---


class Listing:
    """A platform list, newest first, ``per_page`` a page; ``page_count`` None if the list does not say."""

    def __init__(self, entries, per_page=3, page_count=...):
        self.entries, self.per_page, self.read = entries, per_page, []
        self.count = -(-len(entries) // per_page) if page_count is ... else page_count

    def __call__(self, number):
        self.read.append(number)
        start = (number - 1) * self.per_page
        return SimpleNamespace(entities=self.entries[start:start + self.per_page], page_count=self.count)


def test_reconcile_pages_finds_the_entry_on_page_n_and_reads_no_further():
    listing = Listing([f"other-{n}" for n in range(7)] + ["ours"] + [f"older-{n}" for n in range(5)])

    assert reconcile_pages(listing, lambda entry: entry == "ours", max_pages=10) == "ours"
    assert listing.read == [1, 2, 3]


def test_reconcile_pages_stops_at_the_last_page():
    listing = Listing([f"other-{n}" for n in range(6)])  # two full pages, and the list says two

    assert reconcile_pages(listing, lambda entry: entry == "ours", max_pages=10) is None
    assert listing.read == [1, 2]


def test_reconcile_pages_stops_at_an_empty_page_or_an_unknown_count():
    empty = Listing([f"other-{n}" for n in range(3)], page_count=9)
    assert reconcile_pages(empty, lambda entry: False, max_pages=10) is None
    assert empty.read == [1, 2]
    unknown = Listing([f"other-{n}" for n in range(6)], page_count=None)
    assert reconcile_pages(unknown, lambda entry: False, max_pages=10) is None
    assert unknown.read == [1]


def test_reconcile_pages_that_cannot_reach_the_end_raise():
    listing = Listing([f"other-{n}" for n in range(30)])  # ten pages

    with pytest.raises(ReconcileIncomplete, match=r"^searched 4 pages of the platform's list without reaching its end$"):
        reconcile_pages(listing, lambda entry: entry == "ours", max_pages=4)
    assert listing.read == [1, 2, 3, 4]
    assert reconcile_pages(Listing(["a", "b", "ours"]), lambda entry: entry == "ours", max_pages=1) == "ours"


def test_reconcile_pages_stops_once_a_page_reaches_back_before_our_call():
    listing = Listing([5, 4, 3, 2, 1, 0, -1, -2, -3])  # newest first; ours would be newer than 2

    assert reconcile_pages(listing, lambda entry: entry == 99, max_pages=10, older=lambda entry: entry < 1) is None
    assert listing.read == [1, 2]  # page 2 ends with 0: nothing further down can be ours
    assert reconcile_pages(listing, lambda entry: entry == 99, max_pages=10, older=lambda entry: entry < -5) is None
    assert listing.read[2:] == [1, 2, 3]


# --- once_bulk: many effects, one bulk call per chunk ---


def test_once_bulk_sends_each_id_once_and_skips_what_is_recorded(runtime):
    runtime.effects.record_done("r2", "contact:b", "deleted")  # recorded by an earlier delivery
    targets = {("r1", "contact:a"): "a", ("r2", "contact:a"): "a", ("r2", "contact:b"): "b", ("r3", "contact:c"): "c"}
    sent, told = [], []

    def send(ids):
        sent.append(list(ids))
        intents = [runtime.effects.get(*key).state for key in targets if key != ("r2", "contact:b")]
        assert intents == ["intent"] * 3  # every effect about to be sent has its intent
        answers = {cid: AlreadyGone() if cid == "c" else Done("deleted") for cid in ids}
        return {**answers, "z": Done("deleted")}  # an id nobody asked about is ignored

    outcomes = runtime.effects.once_bulk(targets, send, chunk_size=100, on_result=lambda key, o: told.append((key, o)))

    assert sent == [["a", "c"]]
    assert outcomes == {("r1", "contact:a"): Done("deleted", Via.CALL), ("r2", "contact:a"): Done("deleted", Via.CALL),
                        ("r2", "contact:b"): Done("deleted"), ("r3", "contact:c"): AlreadyGone(Via.CALL)}
    assert told == [(("r1", "contact:a"), Done("deleted", Via.CALL)), (("r2", "contact:a"), Done("deleted", Via.CALL)),
                    (("r3", "contact:c"), AlreadyGone(Via.CALL))]
    assert runtime.effects.get("r3", "contact:c").platform_id == "already_gone"


def test_once_bulk_records_chunk_by_chunk_and_leaves_unanswered_ids_as_intents(runtime):
    targets = {("r1", f"contact:{n}"): str(n) for n in range(5)}
    sent = []

    def send(ids):
        sent.append(list(ids))
        if len(sent) == 3:
            raise TransportError("POST: timed out")
        return {cid: Blocked("legal.hold") if cid == "1" else Done("deleted") for cid in ids if cid != "2"}

    with pytest.raises(TransportError):
        runtime.effects.once_bulk(targets, send, chunk_size=2)

    assert sent == [["0", "1"], ["2", "3"], ["4"]]
    recorded = {n: runtime.effects.get("r1", f"contact:{n}") for n in range(5)}
    assert [recorded[n].platform_id for n in range(5)] == ["deleted", "blocked:legal.hold", None, "deleted", None]
    assert recorded[2].state == recorded[4].state == "intent"

    again = runtime.effects.once_bulk(targets, lambda ids: sent.append(list(ids)) or {}, chunk_size=2)
    assert sent[3:] == [["2", "4"]]  # only what has no result
    assert again == {("r1", "contact:0"): Done("deleted"), ("r1", "contact:1"): Blocked("legal.hold"),
                     ("r1", "contact:3"): Done("deleted")}


def test_a_creating_call_is_not_made_beside_another_deliverys_fresh_intent(runtime):
    """Two deliveries of one request (its lock expired under a slow one): the one that finds the other's
    intent written since it looked makes no call and looks again (then reconciles that intent)."""
    from shared.errors import RunLater

    calls = []
    ledger = runtime.effects

    def search():
        ledger.record_intent("R-9", "gdpr_delete")  # the other delivery writes its intent meanwhile
        return None

    def create():
        calls.append("POST")
        return Done("g-1")

    with pytest.raises(RunLater) as wait:
        ledger.once("R-9", "gdpr_delete", create, reconcile=lambda _: None, unrecorded=search)
    assert calls == [] and wait.value.request_id == "R-9"
    # An idempotent DELETE (no search) is simply made again: its 404 says the first one went through.
    ledger.record_intent("R-9", "user_delete")
    assert ledger.once("R-9", "user_delete", lambda: Done("deleted")).platform_id == "deleted"
