"""An approval is bound to the scope that was shown: one given over HTTP before redaction found an address
the subject typed in a chat (which widens the identity) is superseded, the request waits at the gate with
nothing deleted, an approval of the stale scope is 409, and a second approval of the wider scope lets it
finish. A pre-approved request (a trusted upstream key) widened the same way goes through without a stop.

Real HTTP (uvicorn), real Redis, real workers; the redaction pool starts only once the early approval is in.
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.api_keys import ApiKeyStore
from shared.models import RequestState
from tests.support.intake_api import create_key, running_api
from tests.support.stack import running_stack, sim_find, wait_certificate, wait_final, wait_until

# The upstream key is trusted by its id (ERASURE_PREAPPROVE_KEYS), known before the intake starts: the key
# is installed from a token made here, as a deployment installs one from its secret store.
UPSTREAM_ID = "a1b2c3d4e5f6"
UPSTREAM = f"ek_{UPSTREAM_ID}_{secrets.token_urlsafe(32)}"


@pytest.fixture()
def discovery_only(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=13, gdpr_step_s=0.1, rate_limit=6000, typed_emails=2)
    with running_stack(tmp_path, redis_available, config, pools=("discovery",),
                       ERASURE_PREAPPROVE_KEYS=f'["{UPSTREAM_ID}"]') as stack:
        yield stack


def events(stack, request_id):
    return [e for e in stack.runtime.audit.entries_for(request_id)]


def test_an_approval_given_before_redaction_widened_the_identity_waits_for_a_second(discovery_only):
    stack = discovery_only
    store = stack.runtime.store
    first, second = [s for s in httpx.get(f"{stack.sim_url}/_sim/subjects").json() if s.get("typed_emails")][:2]
    typed = first["typed_emails"][0]
    with running_api(stack.env, stack.tmp / "logs") as url:
        _, submitter = create_key(stack, "dsar-tool", "requests:submit", "requests:read")
        ApiKeyStore(stack.runtime.redis, stack.runtime.keys).create("dsar-upstream", ["requests:submit"], token=UPSTREAM)
        upstream = {"Authorization": f"Bearer {UPSTREAM}"}
        _, dpo = create_key(stack, "dpo-desk", "requests:approve", "requests:read")
        lead_id, lead = create_key(stack, "privacy-lead", "requests:approve", "requests:read")

        def submit(ticket, subject, headers, **extra):
            known = [e for e in subject["emails"] if e not in subject["typed_emails"]]
            answer = httpx.post(f"{url}/requests", json={"ticket": ticket, "emails": known[:1], **extra},
                                headers=headers, timeout=30)
            assert answer.status_code == 202, answer.text
            return answer.json()["request_id"]

        gated = submit("SCOPE-1", first, submitter)
        preapproved = submit("SCOPE-2", second, upstream, approved_by="ignored: recorded as the key")
        wait_until(lambda: all(store.get(i).state is RequestState.REDACTING for i in (gated, preapproved)),
                   timeout_s=60, message="discovery to hand both requests to redaction")

        shown = httpx.get(f"{url}/requests/SCOPE-1", headers=dpo).json()["scope"]
        early = httpx.post(f"{url}/requests/SCOPE-1/approve", json={"scope": shown["digest"]}, headers=dpo)
        assert early.status_code == 200, early.text
        assert early.json()["state"] == "redacting" and early.json()["approved_scope"] == shown

        for pool in ("redaction", "deletion", "polling"):
            stack.workers.start(pool, stack.env, stack.tmp / "logs", concurrency=2)

        def parked():
            record = store.get(gated)
            return record.state is RequestState.AWAITING_APPROVAL and record.superseded_approvals and record
        record = wait_until(parked, timeout_s=90, message="the early approval to be superseded at the gate")
        assert record.redaction_rounds == 1 and record.approval is None and record.gdpr_request_ids == []
        assert sim_find(stack, [typed])  # nothing of this subject was deleted
        [changed] = [e for e in events(stack, gated) if e["event"] == "approval.scope_changed"]
        assert changed["details"]["identifiers_now"]["emails"] > changed["details"]["identifiers_before"]["emails"]
        assert typed not in str(changed)

        now = httpx.get(f"{url}/requests/SCOPE-1", headers=lead).json()
        assert now["state"] == "awaiting_approval" and now["approved"] is False and now["superseded_approvals"] == 1
        assert now["scope"]["digest"] != shown["digest"]
        assert now["scope"]["identifiers"]["emails"] > shown["identifiers"]["emails"]
        assert now["reason"].startswith("the approval no longer covers the request")

        stale = httpx.post(f"{url}/requests/SCOPE-1/approve", json={"scope": shown["digest"]}, headers=lead)
        assert stale.status_code == 409 and store.get(gated).approval is None
        again = httpx.post(f"{url}/requests/SCOPE-1/approve", json={"scope": now["scope"]["digest"]}, headers=lead)
        assert again.status_code == 200, again.text

        states = wait_final(stack, [gated, preapproved])
        assert states == {gated: RequestState.COMPLETED, preapproved: RequestState.COMPLETED}
        assert sim_find(stack, [typed, second["typed_emails"][0]]) == []

        certificate = wait_certificate(stack, gated)
        assert certificate["approval"]["by"] == "privacy-lead" and certificate["approval"]["key_id"] == lead_id
        assert certificate["approval"]["scope"]["digest"] == now["scope"]["digest"]
        assert [a["by"] for a in certificate["superseded_approvals"]] == ["dpo-desk"]
        assert certificate["superseded_approvals"][0]["scope"]["digest"] == shown["digest"]

    # The pre-approval approves the subject as discovered: widened by its transcript too, never stopped.
    upstream_record = store.get(preapproved)
    assert upstream_record.redaction_rounds == 1 and upstream_record.superseded_approvals == []
    assert not [e for e in events(stack, preapproved)
                if e["event"] == "approval.scope_changed" or e["details"].get("state") == "awaiting_approval"]
    assert wait_certificate(stack, preapproved)["approval"]["scope"] == "as discovered"
