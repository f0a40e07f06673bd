"""Nothing is deleted before a recorded approval; the approval releases the request."""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import DELETING_CALLS, running_stack, sim_find, submit, wait_final, wait_until


@pytest.fixture()
def gated_stack(tmp_path, redis_available):
    with running_stack(tmp_path, redis_available, SimConfig(subjects=2, seed=5, gdpr_step_s=0.1, rate_limit=6000)) as stack:
        yield stack


def deleting_calls(stack) -> int:
    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    return sum(r["count"] for r in stats["requests"] if (r["method"], r["path"]) in DELETING_CALLS)


def test_no_deletion_before_approval(gated_stack):
    subject = httpx.get(f"{gated_stack.sim_url}/_sim/subjects").json()[0]
    [request_id] = submit(gated_stack, [{"ticket": "GATE-1", "emails": subject["emails"][:1]}])
    store = gated_stack.runtime.store
    wait_until(lambda: store.get(request_id).state is RequestState.AWAITING_APPROVAL, timeout_s=60,
               message="the request to wait for approval")
    assert deleting_calls(gated_stack) == 0
    assert sim_find(gated_stack, subject["emails"])  # the data is still there

    refused = gated_stack.cli("approve", "GATE-1", "--by", " ")
    assert refused.returncode == 2 and "by: say who approves" in refused.stderr
    # Who approves reaches the audit log and the certificate: a name as an API key's, never free text.
    refused = gated_stack.cli("approve", "GATE-1", "--by", "A. Officer (DPO)")
    assert refused.returncode == 2 and "by: must be a name as an API key's" in refused.stderr
    assert "Officer" not in refused.stderr
    approved = gated_stack.cli("approve", "GATE-1", "--by", "a.officer-dpo")
    assert approved.returncode == 0, approved.stderr
    states = wait_final(gated_stack, [request_id])
    assert states[request_id] is RequestState.COMPLETED
    record = store.get(request_id)
    assert record.approval.by == "a.officer-dpo"
    events = [e["event"] for e in gated_stack.runtime.audit.entries_for(request_id)]
    assert events.index("approval.recorded") < events.index("deletion.gdpr_request_submitted")
    assert sim_find(gated_stack, subject["emails"]) == []
    stats = httpx.get(f"{gated_stack.sim_url}/_sim/stats").json()
    made = {(r["method"], r["path"]) for r in stats["requests"]} & DELETING_CALLS
    # What the gate is checked against names the calls really made (the contact went in a bulk removal).
    assert {("POST", "/api/v2/gdpr/requests"), ("POST", "/api/v2/externalcontacts/bulk/contacts/remove")} <= made
    again = gated_stack.cli("approve", "GATE-1", "--by", "someone-else")
    assert again.returncode == 2 and "already approved" in again.stderr
