"""Conversation detail queries: filters, interval, paging, ordering."""

from __future__ import annotations

from typing import Any

import httpx
from genesys_sim.server import RunningSimulator

from tests.support.sim_api import ALL_TIME

QUERY = "/api/v2/analytics/conversations/details/query"


def _pred(dimension: str, value: str) -> dict[str, Any]:
    return {"type": "dimension", "dimension": dimension, "operator": "matches", "value": value}


def _query(api: httpx.Client, **body: Any) -> dict[str, Any]:
    r = api.post(QUERY, json={"interval": ALL_TIME, **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _ids(result: dict[str, Any]) -> set[str]:
    return {c["conversationId"] for c in result.get("conversations", [])}


def _customer_session_values(sim: RunningSimulator, key: str, media: str) -> list[tuple[str, str, str]]:
    """(subject id, conversation id, value) for customer sessions of one media type of seeded subjects."""
    out = []
    for truth in sim.store.data.seed.subjects:
        for cid in truth.conversation_ids:
            conv = sim.store.data.seed.conversations[cid]
            session = conv["participants"][0]["sessions"][0]
            if session["mediaType"] == media and key in session:
                out.append((truth.id, cid, session[key]))
    return out


def test_find_by_external_contact_id_only_that_subject(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[0]
    result = _query(
        api, segmentFilters=[{"type": "or", "predicates": [_pred("externalContactId", subject["external_contact_id"])]}]
    )
    assert _ids(result) <= set(subject["conversation_ids"])
    assert result["totalHits"] == len(_ids(result)) >= 1
    conv = result["conversations"][0]
    assert {
        "conversationId",
        "conversationStart",
        "conversationEnd",
        "originatingDirection",
        "divisionIds",
        "participants",
    } <= set(conv)
    purposes = {p["purpose"] for p in conv["participants"]}
    assert {"customer", "agent"} <= purposes
    agent = next(p for p in conv["participants"] if p["purpose"] == "agent")
    assert agent["userId"] and agent["sessions"][0]["segments"][0]["segmentType"]


def test_find_by_address_from_email_case_insensitive(sim: RunningSimulator, api: httpx.Client) -> None:
    (subject_id, conv_id, email), *_ = _customer_session_values(sim, "addressFrom", "email")
    result = _query(
        api, segmentFilters=[{"type": "and", "predicates": [_pred("mediaType", "email"), _pred("addressFrom", email.upper())]}]
    )
    assert conv_id in _ids(result)
    owner_convs = next(t.conversation_ids for t in sim.store.data.seed.subjects if t.id == subject_id)
    assert _ids(result) <= set(owner_convs)


def test_find_by_ani_with_and_without_tel(sim: RunningSimulator, api: httpx.Client) -> None:
    (_, conv_id, ani), *_ = _customer_session_values(sim, "ani", "voice")
    assert ani.startswith("tel:+")
    for value in (ani, ani[4:]):
        result = _query(api, segmentFilters=[{"type": "or", "predicates": [_pred("ani", value)]}])
        assert conv_id in _ids(result)
        for conv in result["conversations"]:
            assert any(s.get("ani") == ani for p in conv["participants"] for s in p["sessions"])


def test_or_across_identifiers_and_nested_clauses(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    subject = subjects[1]
    predicates = [_pred("addressFrom", e) for e in subject["emails"]] + [
        _pred("externalContactId", subject["external_contact_id"])
    ]
    flt = {
        "type": "or",
        "clauses": [
            {"type": "or", "predicates": predicates},
            {"type": "or", "predicates": [_pred("ani", p) for p in subject["phones"]]},
        ],
    }
    result = _query(api, segmentFilters=[flt], paging={"pageSize": 100, "pageNumber": 1})
    assert _ids(result) <= set(subject["conversation_ids"])
    assert _ids(result)
    by_conv_id = _query(
        api, conversationFilters=[{"type": "and", "predicates": [_pred("conversationId", subject["conversation_ids"][0])]}]
    )
    assert _ids(by_conv_id) == {subject["conversation_ids"][0]}


def test_other_peoples_conversations_not_returned(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    result = _query(api, segmentFilters=[{"type": "or", "predicates": [_pred("addressFrom", "nobody@example.org")]}])
    assert result == {"totalHits": 0}


def test_paging_and_order(api: httpx.Client) -> None:
    everything = _query(api, paging={"pageSize": 100, "pageNumber": 1})
    total = everything["totalHits"]
    assert total > 12  # subjects plus noise people
    starts = [c["conversationStart"] for c in everything["conversations"]]
    assert starts == sorted(starts)
    seen: list[str] = []
    page = 1
    while True:
        result = _query(api, paging={"pageSize": 7, "pageNumber": page}, order="desc")
        if "conversations" not in result:
            break
        assert result["totalHits"] == total
        seen += [c["conversationId"] for c in result["conversations"]]
        page += 1
    assert len(seen) == total == len(set(seen))
    assert seen == [c["conversationId"] for c in reversed(everything["conversations"])]


def test_interval_limits_results(api: httpx.Client) -> None:
    everything = _query(api, paging={"pageSize": 100})["conversations"]
    middle = sorted(c["conversationStart"] for c in everything)[len(everything) // 2]
    later = _query(api, interval=f"{middle}/2100-01-01T00:00:00Z", paging={"pageSize": 100})
    assert 0 < later["totalHits"] < len(everything)
    assert all(c["conversationStart"] >= middle for c in later["conversations"])


def test_bad_queries_are_400(api: httpx.Client) -> None:
    assert api.post(QUERY, json={"interval": ALL_TIME, "paging": {"pageSize": 101}}).status_code == 400
    assert api.post(QUERY, json={"paging": {"pageSize": 10}}).status_code == 400
    bad_dim = {"interval": ALL_TIME, "segmentFilters": [{"type": "or", "predicates": [_pred("email", "a@b.c")]}]}
    r = api.post(QUERY, json=bad_dim)
    assert r.status_code == 400 and r.json()["code"] == "bad.request"


def test_single_conversation_details(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    cid = subjects[0]["conversation_ids"][0]
    r = api.get(f"/api/v2/analytics/conversations/{cid}/details")
    assert r.status_code == 200 and r.json()["conversationId"] == cid
    r = api.get("/api/v2/analytics/conversations/details", params={"id": ",".join(subjects[0]["conversation_ids"])})
    assert {c["conversationId"] for c in r.json()["conversations"]} == set(subjects[0]["conversation_ids"])
