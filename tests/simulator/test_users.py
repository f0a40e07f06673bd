"""Former agents: users, their conversations, erasure by userId and user deletion."""

from __future__ import annotations

import httpx

from tests.support.sim_api import find, gdpr_delete, wait_completed


def test_former_agents_ground_truth_and_user(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    agents = shaped.get("/_sim/agents").json()
    assert agents == shaped.get("/_sim/subjects", params={"kind": "agent"}).json() and len(agents) == 2
    agent = agents[0]
    assert set(agent) == {"id", "user_id", "name", "email", "conversation_ids"} and agent["conversation_ids"]
    user = shaped_api.get(f"/api/v2/users/{agent['user_id']}").json()
    assert (user["id"], user["name"], user["email"], user["state"]) == (
        agent["user_id"],
        agent["name"],
        agent["email"],
        "inactive",
    )
    convs = shaped_api.get("/api/v2/analytics/conversations/details", params={"id": ",".join(agent["conversation_ids"])})
    for conv in convs.json()["conversations"]:
        handler = next(p for p in conv["participants"] if p["purpose"] == "agent")
        assert handler["userId"] == agent["user_id"] and handler["participantName"] == agent["name"]
    listed = shaped_api.get("/api/v2/users", params={"state": "inactive"}).json()
    assert {u["id"] for u in listed["entities"]} == {a["user_id"] for a in agents}
    assert shaped_api.get("/api/v2/users", params={"state": "active"}).json()["total"] >= 5
    hits = find(shaped, [agent["email"]])
    assert [(m["kind"], m["field"]) for m in hits] == [("user", "email"), ("user", "username")]


def test_erase_former_agent_then_delete_user(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    agent = shaped.get("/_sim/agents").json()[1]
    values = [agent["user_id"], agent["name"]]
    assert {m["kind"] for m in find(shaped, values)} == {"conversation", "user"}

    wait_completed(shaped_api, gdpr_delete(shaped_api, {"userId": agent["user_id"]}))
    assert {m["kind"] for m in find(shaped, values)} == {"user"}
    stats = shaped.get("/_sim/stats").json()
    assert {"requestType": "GDPR_DELETE", "subject": agent["id"], "count": 1} in stats["gdpr_requests"]

    r = shaped_api.delete(f"/api/v2/users/{agent['user_id']}")
    assert r.status_code == 200 and r.json() == {}
    assert shaped_api.get(f"/api/v2/users/{agent['user_id']}").status_code == 404
    gone = shaped_api.get(f"/api/v2/users/{agent['user_id']}", params={"state": "deleted"}).json()
    assert gone["state"] == "deleted" and "name" not in gone and "email" not in gone
    assert shaped_api.delete(f"/api/v2/users/{agent['user_id']}").status_code == 404
    assert find(shaped, [*values, agent["email"]]) == []
    assert shaped_api.get("/api/v2/users/unknown-user").status_code == 404
