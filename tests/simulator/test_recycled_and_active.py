"""A phone number that changed owners, and conversations still in progress."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.support.sim_api import ALL_TIME, find, gdpr_delete, subject_body, wait_completed

QUERY = "/api/v2/analytics/conversations/details/query"


def _phone_query(api: httpx.Client, phone: str, interval: str) -> set[str]:
    """Calls (ani) and texts (addressFrom) from a number."""
    predicates = [{"dimension": "ani", "value": phone}, {"dimension": "addressFrom", "value": phone}]
    body = {"interval": interval, "paging": {"pageSize": 100}, "segmentFilters": [{"type": "or", "predicates": predicates}]}
    r = api.post(QUERY, json=body)
    assert r.status_code == 200, r.text
    return {c["conversationId"] for c in r.json().get("conversations", [])}


def test_recycled_number_has_a_later_owner(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    recycled = [s for s in shaped.get("/_sim/subjects").json() if s["recycled_phones"]]
    assert len(recycled) == 2
    subject = recycled[0]
    (number,) = subject["recycled_phones"]
    window, changed = subject["window"], subject["recycled_at"]
    assert number in subject["phones"] and window["start"] < window["end"] < changed
    later = subject["later_owner_conversation_ids"]
    assert later and not set(later) & set(subject["conversation_ids"])

    own = shaped_api.get("/api/v2/analytics/conversations/details", params={"id": ",".join(subject["conversation_ids"])})
    for conv in own.json()["conversations"]:
        assert window["start"] <= conv["conversationStart"] and conv["conversationEnd"] <= window["end"]
    after = shaped_api.get("/api/v2/analytics/conversations/details", params={"id": ",".join(later)})
    assert all(c["conversationStart"] > changed for c in after.json()["conversations"])

    # The platform's current records show the number on the new owner only.
    contact = shaped_api.get(f"/api/v2/externalcontacts/contacts/{subject['external_contact_id']}").json()
    assert number not in {contact.get(k, {}).get("e164") for k in ("cellPhone", "homePhone", "workPhone")}
    owners = shaped_api.get("/api/v2/gdpr/subjects", params={"searchType": "PHONE", "searchValue": number}).json()["entities"]
    assert len(owners) == 1 and owners[0]["externalContactId"] != subject["external_contact_id"]
    assert owners[0]["name"] != subject["name"]

    # A date window separates the two owners' calls; without it the query mixes them.
    mine = _phone_query(shaped_api, number, f"{window['start']}/{window['end']}")
    assert mine and mine <= set(subject["conversation_ids"])
    assert _phone_query(shaped_api, number, ALL_TIME) == mine | set(later)
    assert {m["id"] for m in find(shaped, [number]) if m["kind"] == "conversation"} == mine | set(later)


def _active_subject(raw: httpx.Client) -> dict[str, Any]:
    subject = next(s for s in raw.get("/_sim/subjects").json() if s["active_conversation_ids"])
    assert not subject["recycled_phones"]
    return dict(subject)


def test_active_conversation_is_out_of_reach_until_it_ends(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    # SHAPED's conversations in progress last until this test ends them: no clock to race.
    subject = _active_subject(shaped)
    (active,) = subject["active_conversation_ids"]
    assert active in subject["conversation_ids"]
    details = shaped_api.get(f"/api/v2/analytics/conversations/{active}/details").json()
    assert "conversationEnd" not in details
    ongoing = {
        "interval": ALL_TIME,
        "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "notExists"}]}],
    }
    assert {c["conversationId"] for c in shaped_api.post(QUERY, json=ongoing).json()["conversations"]} == {
        a for s in shaped.get("/_sim/subjects").json() for a in s["active_conversation_ids"]
    }
    messages = shaped_api.get(f"/api/v2/conversations/messages/{active}").json()
    assert {p["state"] for p in messages["participants"]} == {"connected"}

    # Erased while it is still going on: every other conversation is scrubbed, this one is not.
    request_id = gdpr_delete(shaped_api, subject_body(subject))
    wait_completed(shaped_api, request_id)
    assert "conversationEnd" not in shaped_api.get(f"/api/v2/analytics/conversations/{active}/details").json()
    left = find(shaped, [*subject["emails"], *subject["phones"], subject["name"]])
    assert left and {m.get("conversation_id", m["id"]) for m in left} == {active}

    # Once it has ended it carries a conversationEnd (not in the future) and a new request reaches it.
    ended = shaped.post("/_sim/end-active").json()["ended"]
    assert active in ended
    details = shaped_api.get(f"/api/v2/analytics/conversations/{active}/details").json()
    assert "conversationEnd" in details
    assert datetime.fromisoformat(details["conversationEnd"].replace("Z", "+00:00")) <= datetime.now(UTC)
    assert shaped_api.post(QUERY, json=ongoing).json() == {"totalHits": 0}
    wait_completed(shaped_api, gdpr_delete(shaped_api, subject_body(subject)))
    assert find(shaped, [*subject["emails"], *subject["phones"], subject["name"]]) == []
