"""Issue 4 scenarios on the real stack: identities spread over merged contacts, recycled numbers
and conversations still in progress. The conversation in progress lasts until its test ends it
(``POST /_sim/end-active``), so the tests pass in any order, each alone too."""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.digest import digest_value
from shared.models import RequestState
from tests.support.stack import running_stack, sim_find, submit, wait_final, wait_until


@pytest.fixture(scope="module")
def scenario_stack(tmp_path_factory, redis_available):
    config = SimConfig(subjects=12, seed=21, gdpr_step_s=0.2, rate_limit=6000, linked_fraction=0.5,
                       recycled=2, active=1, active_for_s=24 * 3600.0)
    with running_stack(tmp_path_factory.mktemp("scenarios"), redis_available, config, concurrency=4,
                       ERASURE_ACTIVE_REVISIT_S="1") as stack:
        stack.subjects = httpx.get(f"{stack.sim_url}/_sim/subjects").json()
        yield stack


def all_values(subject):
    return subject["emails"] + subject["phones"]


def test_active_conversation_delays_that_subject_only(scenario_stack):
    active = [s for s in scenario_stack.subjects if s.get("active_conversation_ids")]
    calm = [s for s in scenario_stack.subjects if not s.get("active_conversation_ids") and not s.get("window")
            and len(s.get("external_contact_ids", [])) <= 1]
    assert active and calm
    ids = submit(scenario_stack, [
        {"ticket": "ACTIVE-1", "emails": active[0]["emails"][:1], "approved_by": "it"},
        {"ticket": "CALM-1", "emails": calm[0]["emails"][:1], "approved_by": "it"},
    ])
    store = scenario_stack.runtime.store
    wait_until(lambda: store.get(ids[0]).active_conversation_ids, timeout_s=60,
               message="discovery to see the conversation in progress")
    wait_final(scenario_stack, [ids[1]])
    waiting = store.get(ids[0])
    assert waiting.state is RequestState.DISCOVERING
    assert waiting.active_conversation_ids == active[0]["active_conversation_ids"]
    assert waiting.gdpr_request_ids == []
    # The conversation ends only now: whatever the calm request's pace, the other one waited for this.
    ended = httpx.post(f"{scenario_stack.sim_url}/_sim/end-active").json()["ended"]
    assert ended == active[0]["active_conversation_ids"]
    wait_until(lambda: store.get(ids[0]).state.is_final, timeout_s=60, message="the active subject to finish")
    assert store.get(ids[0]).state is RequestState.COMPLETED
    assert sim_find(scenario_stack, all_values(active[0])) == []


def test_identity_spread_over_merged_contacts_is_found_whole(scenario_stack):
    linked = [s for s in scenario_stack.subjects if len(s.get("external_contact_ids", [])) > 1
              and not s.get("window") and not s.get("active_conversation_ids")]
    assert linked, "the simulator seeded no linked subjects"
    subject = linked[0]
    [request_id] = submit(scenario_stack, [{"ticket": "LINK-1", "emails": subject["emails"][:1],
                                            "approved_by": "it"}])
    states = wait_final(scenario_stack, [request_id])
    assert states[request_id] is RequestState.COMPLETED
    record = scenario_stack.runtime.store.get(request_id)
    assert record.scrubbed  # final requests keep only digests of identifiers
    key = scenario_stack.runtime.settings.require_hmac_key()
    assert set(record.identity.emails) == {digest_value(key, e) for e in subject["emails"]}
    assert set(record.identity.phones) == {digest_value(key, p) for p in subject["phones"]}
    assert set(record.identity.external_contact_ids) >= set(subject["external_contact_ids"])
    assert sim_find(scenario_stack, all_values(subject)) == []


def test_recycled_number_spares_the_later_owner(scenario_stack):
    recycled = [s for s in scenario_stack.subjects if s.get("window") and not s.get("active_conversation_ids")]
    assert recycled, "the simulator seeded no recycled numbers"
    subject = recycled[0]
    later = set(subject["later_owner_conversation_ids"])
    before = {m["id"] for m in sim_find(scenario_stack, subject["phones"])}
    assert later & before, "the later owner's conversations should carry the number"
    [request_id] = submit(scenario_stack, [{
        "ticket": "RECYCLED-1", "emails": subject["emails"], "phones": subject["phones"],
        "window_start": subject["window"]["start"], "window_end": subject["window"]["end"],
        "approved_by": "it"}])
    states = wait_final(scenario_stack, [request_id])
    record = scenario_stack.runtime.store.get(request_id)
    assert not later & set(record.conversation_ids), "discovery must not scope the later owner's calls"
    assert record.excluded is not None and record.excluded.phones
    assert states[request_id] is RequestState.COMPLETED_WITH_WITHHELD
    after = {m["id"] for m in sim_find(scenario_stack, subject["phones"])}
    assert later <= after, "the later owner's conversations must keep their data"
    assert sim_find(scenario_stack, subject["emails"]) == []
