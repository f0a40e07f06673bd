"""Names widen a deletion (issue 15, item 6). A name is a search term of the platform's GDPR search, so a
GDPR_DELETE naming a common name reaches every namesake (the simulator matches whole names; the real rule
is UNCONFIRMED). Without the operator's opt-in the name stays out of the GDPR_DELETE and the namesake keeps
their data; with it, the name goes with a certain identifier and the certificate says so."""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import running_stack, sim_find, submit, wait_certificate, wait_final


@pytest.fixture()
def namesake_stack(tmp_path, redis_available):
    config = SimConfig(subjects=4, seed=3, gdpr_step_s=0.2, rate_limit=6000, namesakes=2)
    with running_stack(tmp_path, redis_available, config) as stack:
        yield stack


def gdpr_subjects(stack, ids: list[str]) -> list[dict]:
    with stack.platform_api() as api:
        return [api.get(f"/api/v2/gdpr/requests/{i}").json()["subject"] for i in ids]


def holding_name(stack, subject: dict) -> set[str]:
    return {m["id"] for m in sim_find(stack, [subject["name"]]) if m["kind"] == "conversation"}


def test_a_name_goes_to_the_gdpr_delete_only_on_opt_in_and_then_reaches_the_namesake(namesake_stack):
    stack = namesake_stack
    plain, opted = [s for s in httpx.get(f"{stack.sim_url}/_sim/subjects").json() if s["namesake_conversation_ids"]]
    for subject in (plain, opted):
        assert set(subject["namesake_conversation_ids"]) <= holding_name(stack, subject)

    ids = submit(stack, [
        {"ticket": "NAME-NO", "emails": plain["emails"][:1], "names": [plain["name"]], "approved_by": "dpo"},
        {"ticket": "NAME-YES", "emails": opted["emails"][:1], "names": [opted["name"]], "erase_by_name": True,
         "approved_by": "dpo"},
    ])
    states = wait_final(stack, ids, timeout_s=90)
    assert all(states[i] in (RequestState.COMPLETED, RequestState.COMPLETED_WITH_WITHHELD) for i in ids), states
    records = [stack.runtime.store.get(i) for i in ids]

    # No opt-in: no GDPR_DELETE the platform received names anyone, and the namesake's data is untouched.
    assert all("name" not in s for s in gdpr_subjects(stack, records[0].gdpr_request_ids))
    assert set(plain["namesake_conversation_ids"]) <= holding_name(stack, plain)
    assert wait_certificate(stack, ids[0])["names"]["sent_to_gdpr_delete"] is False
    # Opt-in: the name went, with the email, never alone; the platform then reached the namesake too.
    [first, *_] = gdpr_subjects(stack, records[1].gdpr_request_ids)
    assert first["name"] == opted["name"] and first["emailAddresses"]
    assert not set(opted["namesake_conversation_ids"]) & holding_name(stack, opted)
    names = wait_certificate(stack, ids[1])["names"]
    assert names["erase_by_name"] is True and names["sent_to_gdpr_delete"] is True
    # Either way the subject's own email is gone.
    assert sim_find(stack, plain["emails"] + opted["emails"]) == []
