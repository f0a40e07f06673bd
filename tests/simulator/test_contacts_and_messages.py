"""External contacts and messaging conversation reads."""

from __future__ import annotations

from typing import Any

import httpx
from genesys_sim.server import RunningSimulator

LOOKUP = "/api/v2/externalcontacts/identifierlookup/contacts"


def test_identifier_lookup_then_delete(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[0]
    r = api.post(LOOKUP, json={"type": "Email", "value": subject["emails"][0].upper()})
    assert r.status_code == 200, r.text
    contact = r.json()
    assert contact["id"] == subject["external_contact_id"]
    assert f"{contact['firstName']} {contact['lastName']}" == subject["name"]
    assert contact["workEmail"] == subject["emails"][0]
    assert contact["cellPhone"]["e164"] == subject["phones"][0] and contact["cellPhone"]["display"].startswith("+")
    assert contact["type"] == "Identified"
    assert {"type": "Email", "value": subject["emails"][0]} in [
        {"type": i["type"], "value": i["value"]} for i in contact["identifiers"]
    ]

    r = api.post(LOOKUP, json={"type": "Phone", "value": subject["phones"][-1]})
    assert r.status_code == 200 and r.json()["id"] == subject["external_contact_id"]
    assert api.get(f"/api/v2/externalcontacts/contacts/{contact['id']}").status_code == 200

    r = api.delete(f"/api/v2/externalcontacts/contacts/{contact['id']}")
    assert r.status_code == 200 and r.json() == {}
    assert api.get(f"/api/v2/externalcontacts/contacts/{contact['id']}").status_code == 404
    assert api.delete(f"/api/v2/externalcontacts/contacts/{contact['id']}").status_code == 404
    assert api.post(LOOKUP, json={"type": "Email", "value": subject["emails"][0]}).status_code == 404


def test_identifier_lookup_validation(api: httpx.Client) -> None:
    assert api.post(LOOKUP, json={"type": "Email", "value": "nobody@example.org"}).status_code == 404
    assert api.post(LOOKUP, json={"type": "Guest", "value": "x"}).status_code == 400
    assert api.post(LOOKUP, json={"type": "Phone", "value": "07911123456"}).status_code == 400


def test_contact_keyword_listing(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[1]
    r = api.get("/api/v2/externalcontacts/contacts", params={"q": subject["emails"][0]})
    body = r.json()
    assert r.status_code == 200
    assert [c["id"] for c in body["entities"]] == [subject["external_contact_id"]]
    assert body["total"] == 1 and body["pageNumber"] == 1 and body["pageCount"] == 1
    everyone = api.get("/api/v2/externalcontacts/contacts", params={"pageSize": 5}).json()
    assert everyone["total"] > len(subjects) and len(everyone["entities"]) == 5 and "nextUri" in everyone
    assert api.get("/api/v2/externalcontacts/contacts", params={"pageSize": 200, "pageNumber": 6}).status_code == 400


def test_message_conversation_and_bulk(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[0]
    cid = subject["conversation_ids"][0]
    r = api.get(f"/api/v2/conversations/messages/{cid}")
    assert r.status_code == 200
    conv = r.json()
    assert conv["id"] == cid and conv["selfUri"].endswith(cid)
    customer = next(p for p in conv["participants"] if p["purpose"] == "customer")
    assert customer["name"] == subject["name"] and customer["messages"]
    ids = [m["messageId"] for p in conv["participants"] for m in p.get("messages", [])]
    assert 3 <= len(ids) <= 6
    r = api.post(f"/api/v2/conversations/messages/{cid}/messages/bulk", json=ids)
    entities = r.json()["entities"]
    assert [e["id"] for e in entities] == ids
    first = entities[0]
    assert first["conversationId"] == cid and first["direction"] == "inbound"
    assert first["normalizedMessage"]["type"] == "Text"
    assert subject["name"] in first["textBody"]
    assert any(e in first["textBody"] for e in subject["emails"])
    one = api.get(f"/api/v2/conversations/messages/{cid}/messages/{ids[0]}").json()
    assert one["textBody"] == first["textBody"]
    assert api.post(f"/api/v2/conversations/messages/{cid}/messages/bulk", json=["x"] * 1001).status_code == 400


def test_non_message_conversation_is_404(sim: RunningSimulator, api: httpx.Client) -> None:
    voice = next(
        c["conversationId"]
        for c in sim.store.data.seed.conversations.values()
        if c["participants"][0]["sessions"][0]["mediaType"] == "voice"
    )
    assert api.get(f"/api/v2/conversations/messages/{voice}").status_code == 404
    assert api.get("/api/v2/conversations/messages/unknown-id").status_code == 404


BULK_FETCH = "/api/v2/externalcontacts/bulk/contacts"
BULK_REMOVE = "/api/v2/externalcontacts/bulk/contacts/remove"


def test_bulk_fetch_and_remove_answer_per_id(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    known = [s["external_contact_id"] for s in subjects[3:6]]
    unknown = "00000000-0000-4000-8000-000000000000"
    r = api.post(BULK_FETCH, json={"entities": [{"id": c} for c in [*known, unknown]]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["id"] for x in body["results"]] == [*known, unknown]
    assert [x["entity"]["id"] for x in body["results"][:3]] == known and all(x["success"] for x in body["results"][:3])
    assert body["results"][3]["success"] is False and body["results"][3]["error"]["status"] == 404
    assert body["errorCount"] == 1 and body["errorIndexes"] == [3]

    r = api.post(BULK_REMOVE, json={"entities": [{"id": known[0]}, {"id": unknown}]})
    assert r.status_code == 200, r.text
    assert [(x["id"], x["success"], x["status"]) for x in r.json()["results"]] == [(known[0], True, 200), (unknown, False, 404)]
    assert api.get(f"/api/v2/externalcontacts/contacts/{known[0]}").status_code == 404
    again = api.post(BULK_REMOVE, json={"entities": [{"id": known[0]}]}).json()
    assert again["results"][0]["status"] == 404 and again["errorCount"] == 1  # already gone
    assert api.get(f"/api/v2/externalcontacts/contacts/{known[1]}").status_code == 200  # only what was named


def test_bulk_calls_refuse_bad_bodies(api: httpx.Client) -> None:
    for path in (BULK_FETCH, BULK_REMOVE):
        assert api.post(path, json={"entities": []}).status_code == 400
        assert api.post(path, json={"entities": [{"name": "x"}]}).status_code == 400
        assert api.post(path, json=["a", "b"]).status_code == 400
        assert api.post(path, json={"entities": [{"id": f"c{i}"} for i in range(101)]}).status_code == 400
