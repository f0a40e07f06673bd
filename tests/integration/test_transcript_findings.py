"""What the subject typed is theirs: a second email written in a chat joins the identity and is
erased; and a remnant the platform leaves behind on purpose is caught by verification."""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import running_stack, sim_find, submit, wait_certificate, wait_final


@pytest.fixture()
def typed_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=13, gdpr_step_s=0.1, rate_limit=6000, typed_emails=2)
    with running_stack(tmp_path, redis_available, config) as stack:
        yield stack


def test_second_email_typed_in_chat_is_added_and_erased(typed_stack):
    subjects = httpx.get(f"{typed_stack.sim_url}/_sim/subjects").json()
    subject = next(s for s in subjects if s.get("typed_emails"))
    typed = subject["typed_emails"][0]
    known = [e for e in subject["emails"] if e != typed]
    assert sim_find(typed_stack, [typed]), "the typed email should be in the org before the erasure"
    # Neither the subject search nor the contacts know the typed address: only the transcript does.
    [request_id] = submit(typed_stack, [{"ticket": "TYPED-1", "emails": known[:1], "approved_by": "it"}])
    states = wait_final(typed_stack, [request_id])
    assert states[request_id] is RequestState.COMPLETED
    record = typed_stack.runtime.store.get(request_id)
    assert record.redaction_rounds == 1
    events = [e for e in typed_stack.runtime.audit.entries_for(request_id) if e["event"] == "redaction.identifiers_found"]
    assert events and events[0]["details"]["new_identifiers"] >= 1
    assert sim_find(typed_stack, [typed]) == []
    assert sim_find(typed_stack, subject["emails"] + subject["phones"]) == []


def test_remnant_left_by_platform_is_caught(typed_stack):
    httpx.post(f"{typed_stack.sim_url}/_sim/faults", json={"gdpr_remnant": True, "count": 1}).raise_for_status()
    subjects = httpx.get(f"{typed_stack.sim_url}/_sim/subjects").json()
    subject = next(s for s in subjects if not s.get("typed_emails"))
    [request_id] = submit(typed_stack, [{"ticket": "REMNANT-1", "emails": subject["emails"][:1], "approved_by": "it"}])
    states = wait_final(typed_stack, [request_id])
    assert states[request_id] is RequestState.PARTIAL
    record = typed_stack.runtime.store.get(request_id)
    assert record.verification is not None and not record.verification.ok
    assert record.verification.remnants
    assert all(":" in r for r in record.verification.remnants)  # kind:id, never a value
    certificate = wait_certificate(typed_stack, request_id)
    assert certificate["verification"]["remnants"] == record.verification.remnants
    leaked = sim_find(typed_stack, subject["emails"] + subject["phones"] + [subject["name"]])
    assert leaked, "the simulator kept a remnant on purpose"
    assert not any(v.lower() in str(record.verification.remnants).lower()
                   for v in subject["emails"] + subject["phones"] + [subject["name"]])
