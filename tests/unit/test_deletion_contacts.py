"""A batch's contacts go in bulk calls, each exactly once in its request's ledger, across redeliveries."""

from __future__ import annotations

import httpx
import pytest

from services.deletion.contacts import contact_effect, delete_contacts
from services.simulator.config import SimConfig
from services.simulator.server import start_in_thread
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
    assert client.get_contacts_bulk([a, b, c]) == {}

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
    assert client.get_contacts_bulk([d, e]) == {}
    events = [x["event"] for x in runtime.audit.entries_for("r3")]
    assert events.count("deletion.contact_deleted") == 1
