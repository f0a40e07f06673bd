"""A batch's contacts go in bulk calls, each exactly once in its request's ledger, across redeliveries."""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import start_in_thread

from services.deletion.contacts import contact_effect, delete_contacts
from shared.genesys import PermissionDenied, ServerError
from shared.genesys.models import BulkItemResult
from shared.models import ErasureRecord, Subject, utcnow


@pytest.fixture(scope="module")
def sim():
    with start_in_thread(SimConfig(subjects=12, seed=5)) as running:
        yield running


def _record(request_id: str, contact_ids: list[str]) -> ErasureRecord:
    return ErasureRecord(request_id=request_id, ticket=f"T-{request_id}", verified_at=utcnow(),
                         subject=Subject(emails=[f"{request_id}@example.org"], external_contact_ids=contact_ids))


def _subjects(sim):
    return httpx.get(f"{sim.url}/_sim/subjects", timeout=30).json()


def test_one_bulk_call_for_a_batch_and_a_redelivery_sends_only_what_was_not_recorded(runtime, client, sim):
    subjects = _subjects(sim)
    a, b, c = (s["external_contact_id"] for s in subjects[:3])
    records = [_record("r1", [a]), _record("r2", [b, c])]
    for record in records:
        runtime.store.save(record)
    calls = []
    real = client.delete_contacts_bulk

    def counting(ids):
        calls.append(list(ids))
        return real(ids)

    client.delete_contacts_bulk = counting
    # A worker died after the intents and the call, before any result: r1's contact was deleted then.
    runtime.effects.record_intent("r1", contact_effect(a))
    real([a])
    # r2's first contact had its result recorded by that delivery.
    runtime.effects.record_intent("r2", contact_effect(b))
    runtime.effects.record_done("r2", contact_effect(b), "deleted")
    real([b])

    outcome = delete_contacts(runtime, client, records)

    assert calls == [[a, c]]  # one call for the batch; b's recorded result is not sent again
    assert outcome["r1"].deleted == [a] and outcome["r2"].deleted == [b, c]
    assert runtime.effects.get("r1", contact_effect(a)).platform_id == "already_gone"
    assert runtime.effects.get("r2", contact_effect(c)).platform_id == "deleted"
    assert client.get_contacts_bulk([a, b, c]).found == {}

    calls.clear()
    again = delete_contacts(runtime, client, records)  # the whole batch delivered twice
    assert calls == []
    assert again["r2"].deleted == [b, c]


def test_a_5xx_on_the_bulk_removal_is_retried_and_each_contact_recorded_once(runtime, client, sim):
    client._backoff = lambda attempt: None
    subjects = _subjects(sim)
    d, e = (s["external_contact_id"] for s in subjects[5:7])
    records = [_record("r3", [d]), _record("r4", [e])]
    path = "/api/v2/externalcontacts/bulk/contacts/remove"
    fault = {"path": path, "method": "POST", "status": 503, "count": 1}
    assert httpx.post(f"{sim.url}/_sim/faults", json=fault).status_code == 200

    outcome = delete_contacts(runtime, client, records)

    assert httpx.get(f"{sim.url}/_sim/stats").json()["faults_pending"] == []  # the 503 was served
    assert outcome["r3"].deleted == [d] and outcome["r4"].deleted == [e]
    assert runtime.effects.get("r3", contact_effect(d)).platform_id == "deleted"
    assert client.get_contacts_bulk([d, e]).found == {}
    events = [x["event"] for x in runtime.audit.entries_for("r3")]
    assert events.count("deletion.contact_deleted") == 1


class OneDenied:
    """A client whose bulk removal refuses one id outright (403) and deletes the rest."""

    def __init__(self, denied: str):
        self.denied = denied
        self.sent: list[list[str]] = []

    def delete_contacts_bulk(self, ids):
        self.sent.append(list(ids))
        ok = {c: BulkItemResult(id=c, success=True, status=200) for c in ids if c != self.denied}
        return ok, {c: PermissionDenied("POST bulk: one id -> 403", status=403) for c in ids if c == self.denied}


def test_an_id_refused_outright_fails_only_the_request_that_owns_it(runtime):
    records = [_record("r5", ["ok-1"]), _record("r6", ["ok-2", "denied"])]
    outcome = delete_contacts(runtime, OneDenied("denied"), records)
    assert outcome["r5"].error is None and outcome["r5"].deleted == ["ok-1"]
    assert isinstance(outcome["r6"].error, PermissionDenied)
    # What was deleted is recorded and audited even for the request that fails.
    assert runtime.effects.get("r6", contact_effect("ok-2")).platform_id == "deleted"
    assert runtime.effects.get("r6", contact_effect("denied")).state == "intent"
    assert [e["event"] for e in runtime.audit.entries_for("r6")].count("deletion.contact_deleted") == 1


def test_a_transient_failure_of_one_id_retries_the_batch_after_recording_the_rest(runtime):
    class OneBusy(OneDenied):
        def delete_contacts_bulk(self, ids):
            ok, _ = super().delete_contacts_bulk(ids)
            return ok, {c: ServerError("POST bulk: one id -> 503", status=503) for c in ids if c == self.denied}

    client = OneBusy("busy")
    records = [_record("r7", ["ok-3", "busy"])]
    with pytest.raises(ServerError):
        delete_contacts(runtime, client, records)
    assert runtime.effects.get("r7", contact_effect("ok-3")).platform_id == "deleted"
    client.denied = None  # the platform recovers; the retry sends only what has no result
    outcome = delete_contacts(runtime, client, records)
    assert client.sent[-1] == ["busy"] and outcome["r7"].deleted == ["ok-3", "busy"]
