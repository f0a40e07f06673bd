"""What one GDPR_DELETE reaches (issue 15, items 5 and 6): exactly the values its subject names.

``externalContactId`` is one contact: naming contact A leaves the id of contact B (merged with A) in B's
conversations. ``journeyCustomer`` reaches a web-messaging guest's journey cookie. A ``name`` reaches
every namesake."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.sim_api import wait_for


def _delete(api: httpx.Client, subject: dict[str, Any]) -> None:
    r = api.post("/api/v2/gdpr/requests", params={"deleteConfirmed": "true"},
                 json={"requestType": "GDPR_DELETE", "subject": subject})
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    wait_for(lambda: api.get(f"/api/v2/gdpr/requests/{rid}").json()["status"] == "COMPLETED")


def _found(raw: httpx.Client, values: list[str]) -> list[dict[str, Any]]:
    return list(raw.post("/_sim/find", json={"values": values}).json()["matches"])


def _linked(shaped: httpx.Client) -> dict[str, Any]:
    linked = [s for s in shaped.get("/_sim/subjects").json()
              if len(s["external_contact_ids"]) > 1 and not s["active_conversation_ids"] and not s["window"]]
    assert linked, "the shaped organisation has no linked subject"
    return linked[0]


def test_a_request_naming_contact_a_leaves_contact_b_and_one_naming_b_erases_it(
        shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    subject = _linked(shaped)
    contact_a, contact_b = subject["external_contact_ids"][:2]
    assert {m["kind"] for m in _found(shaped, [contact_b])} >= {"conversation"}

    _delete(shaped_api, {"emailAddresses": subject["emails"], "phoneNumbers": subject["phones"],
                         "externalContactId": contact_a})
    assert _found(shaped, [contact_a]) == []
    left = {m["kind"] for m in _found(shaped, [contact_b])}
    assert "conversation" in left, "contact B's id must stay in its conversations when only A is named"

    _delete(shaped_api, {"externalContactId": contact_b})
    assert _found(shaped, [contact_b]) == []


def test_a_journey_cookie_reaches_the_guests_web_chats(raw: httpx.Client, api: httpx.Client,
                                                         subjects: list[dict[str, Any]]) -> None:
    subject = subjects[0]
    cookie = subject["journey_cookie_ids"][0]
    held = _found(raw, [cookie])
    assert any(m["field"].endswith("journeyCustomerId") for m in held)
    contact = api.get(f"/api/v2/externalcontacts/contacts/{subject['external_contact_id']}").json()
    assert {"type": "Cookie", "value": cookie} in [{k: i[k] for k in ("type", "value")} for i in contact["identifiers"]]

    # Every email, phone and the contact, but no cookie: the guest's journey id stays in its web chats.
    _delete(api, {"emailAddresses": subject["emails"], "phoneNumbers": subject["phones"]})
    assert any(m["field"].endswith("journeyCustomerId") for m in _found(raw, [cookie]))
    _delete(api, {"journeyCustomer": {"type": "cookie", "id": cookie}})
    assert _found(raw, [cookie]) == []


def test_a_journey_customer_needs_both_type_and_id(api: httpx.Client) -> None:
    for journey in ({"id": "abc"}, {"type": "cookie"}, {"type": "cookie", "id": ""}):
        r = api.post("/api/v2/gdpr/requests", params={"deleteConfirmed": "true"},
                     json={"requestType": "GDPR_DELETE",
                           "subject": {"emailAddresses": ["a@example.org"], "journeyCustomer": journey}})
        assert r.status_code == 400, journey


def test_a_name_reaches_a_namesake(raw: httpx.Client, api: httpx.Client) -> None:
    assert raw.post("/_sim/reset", json={"namesakes": 1}).status_code == 200
    [subject] = [s for s in raw.get("/_sim/subjects").json() if s["namesake_conversation_ids"]]
    namesakes = set(subject["namesake_conversation_ids"])
    holding = {m["id"] for m in _found(raw, [subject["name"]]) if m["kind"] == "conversation"}
    assert namesakes <= holding

    _delete(api, {"emailAddresses": subject["emails"]})  # no name: the namesake keeps theirs
    assert namesakes <= {m["id"] for m in _found(raw, [subject["name"]]) if m["kind"] == "conversation"}
    _delete(api, {"emailAddresses": subject["emails"], "name": subject["name"]})
    assert not namesakes & {m["id"] for m in _found(raw, [subject["name"]]) if m["kind"] == "conversation"}
