"""GDPR requests: validation, lifecycle, effects on the organisation, listing and subject search."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.sim_api import ALL_TIME, STEP_S, subject_body, wait_for

HELD_S = 24 * 3600.0  # a step no test outlives: the request stays where it is until the step is put back


def _status(api: httpx.Client, rid: str) -> str:
    r = api.get(f"/api/v2/gdpr/requests/{rid}")
    assert r.status_code == 200
    return str(r.json()["status"])


def _identifiers(subject: dict[str, Any]) -> list[str]:
    return [*subject["emails"], *subject["phones"], subject["name"], subject["external_contact_id"]]


def test_delete_lifecycle_erases_subject_everywhere(api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject, other = subjects[0], subjects[1]
    assert raw.post("/_sim/find", json={"values": _identifiers(subject)}).json()["matches"]

    r = api.post(
        "/api/v2/gdpr/requests",
        params={"deleteConfirmed": "true"},
        json={"requestType": "GDPR_DELETE", "name": "DSAR-1", "subject": subject_body(subject)},
    )
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["status"] == "INITIATED"
    assert created["name"] == "DSAR-1"
    assert created["requestType"] == "GDPR_DELETE"
    assert created["subject"]["emailAddresses"] == subject["emails"]
    assert created["selfUri"] == f"/api/v2/gdpr/requests/{created['id']}"
    assert created["createdDate"].endswith("Z") and created["createdBy"]["id"]

    seen: set[str] = set()

    def completed() -> bool:
        seen.add(_status(api, created["id"]))
        return "COMPLETED" in seen

    wait_for(completed)
    assert seen <= {"INITIATED", "SEARCHING", "DELETING", "COMPLETED"}

    assert raw.post("/_sim/find", json={"values": _identifiers(subject)}).json()["matches"] == []
    for search_type, value in (("EMAIL", subject["emails"][0]), ("PHONE", subject["phones"][0]), ("NAME", subject["name"])):
        r = api.get("/api/v2/gdpr/subjects", params={"searchType": search_type, "searchValue": value})
        assert r.status_code == 200
        assert r.json()["entities"] == []
    assert api.get(f"/api/v2/externalcontacts/contacts/{subject['external_contact_id']}").status_code == 404
    # Other people are untouched.
    assert raw.post("/_sim/find", json={"values": other["emails"]}).json()["matches"]
    r = api.post(
        "/api/v2/analytics/conversations/details/query",
        json={
            "interval": ALL_TIME,
            "segmentFilters": [
                {"type": "or", "predicates": [{"dimension": "externalContactId", "value": subject["external_contact_id"]}]}
            ],
        },
    )
    assert r.json()["totalHits"] == 0
    stats = raw.get("/_sim/stats").json()
    assert {"requestType": "GDPR_DELETE", "subject": subject["id"], "count": 1} in stats["gdpr_requests"]


def test_delete_is_applied_once_and_transcripts_are_anonymised(
    api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]
) -> None:
    subject = subjects[2]
    messaging = subject["conversation_ids"][0]  # the seed makes the first one web messaging
    before = api.get(f"/api/v2/conversations/messages/{messaging}").json()
    ids = [m["messageId"] for p in before["participants"] for m in p.get("messages", [])]
    texts_before = [
        e["textBody"] for e in api.post(f"/api/v2/conversations/messages/{messaging}/messages/bulk", json=ids).json()["entities"]
    ]
    assert any(subject["name"] in t for t in texts_before)

    rid = api.post(
        "/api/v2/gdpr/requests",
        params={"deleteConfirmed": "true"},
        json={"requestType": "GDPR_DELETE", "subject": subject_body(subject)},
    ).json()["id"]
    wait_for(lambda: _status(api, rid) == "COMPLETED")
    entities = api.post(f"/api/v2/conversations/messages/{messaging}/messages/bulk", json=ids).json()["entities"]
    texts_after = [e["textBody"] for e in entities]
    assert len(texts_after) == len(texts_before)
    assert all(subject["name"] not in t for t in texts_after)
    assert any("anon-" in t for t in texts_after)
    assert all(e["normalizedMessage"]["text"] == e["textBody"] for e in entities)


def test_delete_needs_delete_confirmed(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    body = {"requestType": "GDPR_DELETE", "subject": subject_body(subjects[0])}
    r = api.post("/api/v2/gdpr/requests", json=body)
    assert r.status_code == 400
    assert r.json()["status"] == 400 and "deleteConfirmed" in r.json()["message"]
    assert api.post("/api/v2/gdpr/requests", params={"deleteConfirmed": "false"}, json=body).status_code == 400


def test_invalid_bodies_are_400(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subject_body(subjects[0])
    assert api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_ERASE", "subject": subject}).status_code == 400
    assert api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT"}).status_code == 400
    assert api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_UPDATE", "subject": subject}).status_code == 400
    assert api.post("/api/v2/gdpr/requests", content=b"{nope").status_code == 400


def test_unknown_request_is_404(api: httpx.Client) -> None:
    r = api.get("/api/v2/gdpr/requests/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert r.json()["code"] == "not.found"


def test_update_rewrites_texts(api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[3]
    email = subject["emails"][0]
    before = raw.post("/_sim/find", json={"values": [email]}).json()["matches"]
    body = {
        "requestType": "GDPR_UPDATE",
        "subject": {"emailAddresses": [email]},
        "replacementTerms": [{"type": "EMAIL", "existingValue": email, "updatedValue": "redacted@example.invalid"}],
    }
    # The request is held in its first step until the test lets it go: the poll below sees it in progress
    # however long the machine takes to get there (the next reset restores the step).
    raw.post("/_sim/config", json={"gdpr_step_s": HELD_S})
    r = api.post("/api/v2/gdpr/requests", json=body)
    assert r.status_code == 200, r.text
    states: set[str] = {_status(api, r.json()["id"])}
    assert "UPDATING" in states or "SEARCHING" in states or "INITIATED" in states
    assert raw.post("/_sim/find", json={"values": [email]}).json()["matches"] == before  # nothing changed yet
    raw.post("/_sim/config", json={"gdpr_step_s": STEP_S})
    wait_for(lambda: states.add(_status(api, r.json()["id"])) or "COMPLETED" in states)
    after = raw.post("/_sim/find", json={"values": [email]}).json()["matches"]
    # Texts, conversation fields, the contact and the records the subject search reads: all rewritten (issue 17).
    assert after == [] and before
    assert raw.post("/_sim/find", json={"values": ["redacted@example.invalid"]}).json()["matches"]


def test_export_completes_with_results_url(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    r = api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT", "subject": subject_body(subjects[0])})
    rid = r.json()["id"]
    wait_for(lambda: _status(api, rid) == "COMPLETED")
    done = api.get(f"/api/v2/gdpr/requests/{rid}").json()
    assert done["resultsUrl"].startswith(str(api.base_url).rstrip("/") + "/gdpr-exports/")
    assert done["resultsUrls"] == [done["resultsUrl"]]


def test_gdpr_error_fault_ends_in_error_without_applying(
    api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]
) -> None:
    subject = subjects[4]
    assert raw.post("/_sim/faults", json={"gdpr_error": True, "count": 1}).status_code == 200
    rid = api.post(
        "/api/v2/gdpr/requests",
        params={"deleteConfirmed": "true"},
        json={"requestType": "GDPR_DELETE", "subject": subject_body(subject)},
    ).json()["id"]
    wait_for(lambda: _status(api, rid) in ("ERROR", "COMPLETED"))
    assert _status(api, rid) == "ERROR"
    assert raw.post("/_sim/find", json={"values": subject["emails"]}).json()["matches"]
    # Only the next request was affected.
    rid2 = api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT", "subject": subject_body(subject)}).json()["id"]
    wait_for(lambda: _status(api, rid2) in ("ERROR", "COMPLETED"))
    assert _status(api, rid2) == "COMPLETED"


def test_list_requests_pages_newest_first(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    ids = [
        api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT", "subject": subject_body(s)}).json()["id"]
        for s in subjects[:3]
    ]
    page1 = api.get("/api/v2/gdpr/requests", params={"pageSize": 2, "pageNumber": 1}).json()
    assert [e["id"] for e in page1["entities"]] == [ids[2], ids[1]]
    assert page1["total"] == 3 and page1["pageCount"] == 2 and "nextUri" in page1 and "previousUri" not in page1
    page2 = api.get("/api/v2/gdpr/requests", params={"pageSize": 2, "pageNumber": 2}).json()
    assert [e["id"] for e in page2["entities"]] == [ids[0]]
    assert "previousUri" in page2 and "nextUri" not in page2
    # Each listed with its createdDate, newest first: the deletion pool's index stops at a date (gdpr_index).
    dates = [e["createdDate"] for e in page1["entities"] + page2["entities"]]
    assert dates == sorted(dates, reverse=True) and all(d.endswith("Z") for d in dates)
    assert api.get("/api/v2/gdpr/requests", params={"pageSize": "x"}).status_code == 400


def test_subject_search(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[5]
    digits_only = "".join(ch for ch in subject["phones"][0] if ch.isdigit())
    cases = [
        ("EMAIL", subject["emails"][-1].upper()),
        ("PHONE", f"+{digits_only[:2]} {digits_only[2:]}"),
        ("NAME", subject["name"].lower()),
        ("EXTERNAL_ID", subject["external_contact_id"]),
    ]
    for search_type, value in cases:
        r = api.get("/api/v2/gdpr/subjects", params={"searchType": search_type, "searchValue": value})
        assert r.status_code == 200, (search_type, r.text)
        entities = r.json()["entities"]
        assert len(entities) == 1, (search_type, entities)
        assert entities[0]["emailAddresses"] == subject["emails"]
        assert entities[0]["externalContactId"] == subject["external_contact_id"]
    r = api.get("/api/v2/gdpr/subjects", params={"searchType": "EMAIL", "searchValue": "nobody@example.org"})
    assert r.json()["entities"] == [] and r.json()["total"] == 0
    assert api.get("/api/v2/gdpr/subjects", params={"searchValue": "x"}).status_code == 400
    assert api.get("/api/v2/gdpr/subjects", params={"searchType": "PERSON", "searchValue": "x"}).status_code == 400


def test_gdpr_answers_can_leave_out_the_name_we_gave(api: httpx.Client, raw: httpx.Client,
                                                      subjects: list[dict[str, Any]]) -> None:
    """``gdpr_echo_name`` off: list and GET answer without ``name`` (whether the platform echoes it is unconfirmed)."""
    body = {"requestType": "GDPR_EXPORT", "name": "erasure-echo", "subject": {"emailAddresses": subjects[2]["emails"][:1]}}
    rid = api.post("/api/v2/gdpr/requests", json=body).json()["id"]
    assert api.get(f"/api/v2/gdpr/requests/{rid}").json()["name"] == "erasure-echo"
    raw.post("/_sim/config", json={"gdpr_echo_name": False}).raise_for_status()
    try:
        assert "name" not in api.get(f"/api/v2/gdpr/requests/{rid}").json()
        listed = [e for e in api.get("/api/v2/gdpr/requests", params={"pageSize": 500}).json()["entities"]
                  if e["id"] == rid]
        assert listed and "name" not in listed[0] and listed[0]["subject"] == body["subject"]
    finally:
        raw.post("/_sim/config", json={"gdpr_echo_name": True}).raise_for_status()
    assert api.get(f"/api/v2/gdpr/requests/{rid}").json()["name"] == "erasure-echo"



def test_an_update_that_stops_at_conversations_leaves_contacts_and_search_records(
        api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    """``gdpr_update_reaches_contacts`` off (unknown on the platform): only conversations and messages change."""
    email = subjects[3]["emails"][0]
    assert raw.post("/_sim/config", json={"gdpr_update_reaches_contacts": False}).status_code == 200
    r = api.post("/api/v2/gdpr/requests", json={
        "requestType": "GDPR_UPDATE", "subject": {"emailAddresses": [email]},
        "replacementTerms": [{"type": "EMAIL", "existingValue": email, "updatedValue": "x@invalid.example"}]})
    assert r.status_code == 200, r.text
    wait_for(lambda: _status(api, r.json()["id"]) == "COMPLETED")
    after = raw.post("/_sim/find", json={"values": [email]}).json()["matches"]
    assert {m["kind"] for m in after} == {"external_contact", "gdpr_subject"}
