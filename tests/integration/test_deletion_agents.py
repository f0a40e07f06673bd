"""Former agents: the user is deleted besides the GDPR request. A 409 from the platform is not
retried: the request ends PARTIAL and its reason names what blocked it, while the rest still goes."""

from __future__ import annotations

import json

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.models import RequestState
from tests.support.stack import running_stack, sim_find, submit, wait_final

USER_DELETE = ("DELETE", "/api/v2/users/{userId}")


@pytest.fixture()
def agent_stack(tmp_path, redis_available):
    # Seed 1: the former agents handled chats too, where customers typed their own addresses: none of
    # that may join the agent's identity (the test checks every customer's data is still there).
    config = SimConfig(subjects=2, seed=1, gdpr_step_s=0.2, rate_limit=6000, former_agents=3)
    with running_stack(tmp_path, redis_available, config, ERASURE_RECORDING_POLL_S="0.1") as stack:
        yield stack


def user_deletes(stack) -> dict[int, int]:
    stats = httpx.get(f"{stack.sim_url}/_sim/stats").json()
    return {r["status"]: r["count"] for r in stats["requests"] if (r["method"], r["path"]) == USER_DELETE}


def test_former_agent_user_deleted_and_409_reported_not_retried(agent_stack):
    stack = agent_stack
    agents = {a["id"]: a for a in httpx.get(f"{stack.sim_url}/_sim/agents").json()}
    first, second = agents["agent-0003"], agents["agent-0002"]
    [request_id] = submit(stack, [{"ticket": "AGENT-1", "user_id": first["user_id"], "approved_by": "dpo"}])
    assert wait_final(stack, [request_id], timeout_s=60)[request_id] is RequestState.COMPLETED
    client = stack.runtime.genesys("deletion")
    assert client.get_user(first["user_id"]) is None  # deleted
    assert user_deletes(stack) == {200: 1}
    assert sim_find(stack, [first["user_id"], first["name"]]) == []
    cert = json.loads(stack.runtime.redis.get(stack.runtime.keys.certificate(request_id)))
    assert cert["erased"]["users"] == 1 and cert["complete"] is True
    record = stack.runtime.store.get(request_id)
    assert record.identity.emails == [] or all(e.startswith("hmac-") for e in record.identity.emails)
    for customer in httpx.get(f"{stack.sim_url}/_sim/subjects").json():
        assert sim_find(stack, customer["emails"][:1]), "an agent's erasure must not touch a customer"

    fault = httpx.post(f"{stack.sim_url}/_sim/faults",
                       json={"path": USER_DELETE[1], "method": "DELETE", "status": 409, "count": 5})
    assert fault.status_code == 200
    [blocked_id] = submit(stack, [{"ticket": "AGENT-2", "user_id": second["user_id"], "approved_by": "dpo"}])
    assert wait_final(stack, [blocked_id], timeout_s=60)[blocked_id] is RequestState.PARTIAL
    record = stack.runtime.store.get(blocked_id)
    assert "409" in record.reason and "user: conflict" in record.reason
    assert user_deletes(stack) == {200: 1, 409: 1}  # refused once, never retried
    assert client.get_user(second["user_id"]) is not None
    assert record.gdpr_request_ids  # the rest of the erasure still went ahead
    cert = json.loads(stack.runtime.redis.get(stack.runtime.keys.certificate(blocked_id)))
    assert cert["blocked"] == ["user: conflict"] and "blocked:user" in cert["verification"]["remnants"]
