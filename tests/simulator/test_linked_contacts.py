"""Identities split over two external contacts, one merged into the other: only the links join them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.sim_api import find, gdpr_delete, wait_completed

LOOKUP = "/api/v2/externalcontacts/identifierlookup/contacts"


def _linked(raw: httpx.Client) -> list[dict[str, Any]]:
    subjects = raw.get("/_sim/subjects").json()
    linked = [s for s in subjects if len(s["external_contact_ids"]) == 2]
    assert len(linked) == 8  # linked_fraction 0.5 of 16
    plain = [s for s in linked if not s["recycled_phones"] and not s["active_conversation_ids"]]
    assert len(plain) >= 3
    return plain


def _ids(refs: list[dict[str, str]] | None) -> list[str]:
    return [r["id"] for r in refs or []]


def _identifiers(contact: dict[str, Any]) -> tuple[set[str], set[str]]:
    emails = {contact[k] for k in ("workEmail", "personalEmail", "otherEmail") if contact.get(k)}
    phones = {contact[k]["e164"] for k in ("cellPhone", "homePhone", "workPhone") if contact.get(k)}
    return emails, phones


def test_merge_links_in_the_sdk_shape(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    subject = _linked(shaped)[0]
    a_id, b_id = subject["external_contact_ids"]
    assert subject["external_contact_id"] == a_id
    a = shaped_api.get(f"/api/v2/externalcontacts/contacts/{a_id}").json()
    b = shaped_api.get(f"/api/v2/externalcontacts/contacts/{b_id}").json()
    assert a["canonicalContact"] == {"id": a_id, "selfUri": f"/api/v2/externalcontacts/contacts/{a_id}"}
    assert b["canonicalContact"]["id"] == a_id and b["mergedTo"]["id"] == a_id
    assert _ids(a["mergeSet"]) == _ids(b["mergeSet"]) == [a_id, b_id]
    assert _ids(a["mergedFrom"]) == [b_id] and "mergedTo" not in a and "mergedFrom" not in b
    a_emails, a_phones = _identifiers(a)
    b_emails, b_phones = _identifiers(b)
    assert a_emails == {subject["emails"][0]} and a_phones == {subject["phones"][0]}
    assert b_emails and not (a_emails & b_emails) and not (a_phones & b_phones)
    assert a_emails | b_emails == set(subject["emails"]) and a_phones | b_phones == set(subject["phones"])
    # A lookup answers the contact holding the identifier, even the merged-in one.
    found = shaped_api.post(LOOKUP, json={"type": "Email", "value": sorted(b_emails)[0]})
    assert found.status_code == 200 and found.json()["id"] == b_id


def test_whole_person_only_through_the_links(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    for subject in _linked(shaped)[:3]:
        first = shaped_api.get("/api/v2/gdpr/subjects", params={"searchType": "EMAIL", "searchValue": subject["emails"][0]})
        (record,) = first.json()["entities"]
        # The subject record shows one contact's identifiers only.
        assert record["emailAddresses"] == [subject["emails"][0]] and record["phoneNumbers"] == [subject["phones"][0]]
        assert record["externalContactId"] == subject["external_contact_id"]
        # Following canonicalContact / mergeSet reaches the other half.
        start = shaped_api.get(f"/api/v2/externalcontacts/contacts/{record['externalContactId']}").json()
        head = shaped_api.get(f"/api/v2/externalcontacts/contacts/{start['canonicalContact']['id']}").json()
        emails: set[str] = set()
        phones: set[str] = set()
        for ref in head["mergeSet"]:
            e, p = _identifiers(shaped_api.get(f"/api/v2/externalcontacts/contacts/{ref['id']}").json())
            emails |= e
            phones |= p
        assert emails == set(subject["emails"]) and phones == set(subject["phones"])
        # Searching by the other half's email answers the other record.
        other = shaped_api.get("/api/v2/gdpr/subjects", params={"searchType": "EMAIL", "searchValue": subject["emails"][1]})
        assert [r["externalContactId"] for r in other.json()["entities"]] == [subject["external_contact_ids"][1]]


def test_deleting_one_half_leaves_the_other(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    subject = _linked(shaped)[1]
    a_id, b_id = subject["external_contact_ids"]
    # Without the name: a name alone matches every contact carrying it, the merged-in one included.
    half_a = {"emailAddresses": subject["emails"][:1], "phoneNumbers": subject["phones"][:1], "externalContactId": a_id}
    wait_completed(shaped_api, gdpr_delete(shaped_api, half_a))
    left = find(shaped, subject["emails"][1:])
    assert left and {m["kind"] for m in left} >= {"external_contact", "gdpr_subject"}
    assert shaped_api.get(f"/api/v2/externalcontacts/contacts/{a_id}").status_code == 404
    assert shaped_api.get(f"/api/v2/externalcontacts/contacts/{b_id}").status_code == 200

    half_b = {
        "name": subject["name"],
        "emailAddresses": subject["emails"][1:],
        "phoneNumbers": subject["phones"][1:],
        "externalContactId": b_id,
    }
    wait_completed(shaped_api, gdpr_delete(shaped_api, half_b))
    assert find(shaped, [*subject["emails"], *subject["phones"], subject["name"], a_id, b_id]) == []
    stats = shaped.get("/_sim/stats").json()
    assert {"requestType": "GDPR_DELETE", "subject": subject["id"], "count": 2} in stats["gdpr_requests"]
