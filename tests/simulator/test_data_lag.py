"""Data-lake lag: async details jobs and recording jobs do not see recent conversations; the synchronous
query, the by-id reads and a conversation's own recordings do (the platform's sync reads are real-time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.support.sim_api import ALL_TIME, wait_for

JOBS = "/api/v2/analytics/conversations/details/jobs"
QUERY = "/api/v2/analytics/conversations/details/query"
RECORDING_JOBS = "/api/v2/recording/jobs"


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _by_contact(contact_id: str) -> list[dict[str, Any]]:
    return [{"type": "or", "predicates": [
        {"type": "dimension", "dimension": "externalContactId", "operator": "matches", "value": contact_id}]}]


def _job_results(api: httpx.Client, query: dict[str, Any]) -> dict[str, Any]:
    r = api.post(JOBS, json=query)
    assert r.status_code == 202, r.text
    job_id = r.json()["jobId"]
    wait_for(lambda: api.get(f"{JOBS}/{job_id}").json()["state"] == "FULFILLED")
    return dict(api.get(f"{JOBS}/{job_id}/results").json())


def _newest_inside_lag(api: httpx.Client, subject: dict[str, Any]) -> tuple[list[dict[str, Any]], float]:
    """The subject's conversations (by id, oldest first) and a lag that puts only the newest inside it."""
    ids = subject["conversation_ids"]
    convs = api.get("/api/v2/analytics/conversations/details", params={"id": ",".join(ids)}).json()["conversations"]
    convs.sort(key=lambda c: c["conversationEnd"])
    now = datetime.now(UTC)
    newest, before = _parse(convs[-1]["conversationEnd"]), _parse(convs[-2]["conversationEnd"])
    return convs, (now - newest).total_seconds() + (newest - before).total_seconds() / 2


def test_details_jobs_do_not_see_conversations_inside_the_data_lag(api: httpx.Client, raw: httpx.Client,
                                                                   subjects: list[dict[str, Any]]) -> None:
    subject = next(s for s in subjects if len(s["conversation_ids"]) >= 2 and not s["active_conversation_ids"])
    convs, lag = _newest_inside_lag(api, subject)
    query = {"interval": ALL_TIME, "segmentFilters": _by_contact(subject["external_contact_id"])}
    # Off by default: the job sees every conversation.
    assert {c["conversationId"] for c in _job_results(api, query).get("conversations", [])} == \
        {c["conversationId"] for c in convs}

    raw.post("/_sim/config", json={"data_lag_s": lag}).raise_for_status()
    before = datetime.now(UTC)
    results = _job_results(api, query)
    seen = {c["conversationId"] for c in results.get("conversations", [])}
    assert seen == {c["conversationId"] for c in convs[:-1]}  # the newest is inside the lag
    availability = _parse(api.get(f"{JOBS}/availability").json()["dataAvailabilityDate"])
    for stamp in (availability, _parse(results["dataAvailabilityDate"])):
        assert abs((before - stamp).total_seconds() - lag) < 30
        assert _parse(convs[-2]["conversationEnd"]) < stamp < _parse(convs[-1]["conversationEnd"])

    # The sync query and the by-id read are real-time: the newest is there.
    sync = api.post(QUERY, json={**query, "paging": {"pageSize": 100, "pageNumber": 1}}).json()
    assert convs[-1]["conversationId"] in {c["conversationId"] for c in sync["conversations"]}
    by_id = api.get("/api/v2/analytics/conversations/details", params={"id": convs[-1]["conversationId"]}).json()
    assert [c["conversationId"] for c in by_id["conversations"]] == [convs[-1]["conversationId"]]


def test_recording_jobs_do_not_see_recordings_inside_the_recording_lag(api: httpx.Client, raw: httpx.Client,
                                                                       subjects: list[dict[str, Any]]) -> None:
    def recorded_in(ids: list[str]) -> list[str]:
        return [cid for cid in ids if api.get(f"/api/v2/conversations/{cid}/recordings").json()]

    for subject in (s for s in subjects if len(s["conversation_ids"]) >= 2 and not s["active_conversation_ids"]):
        convs, lag = _newest_inside_lag(api, subject)
        ids = [c["conversationId"] for c in convs]
        recorded = recorded_in(ids)
        if ids[-1] in recorded and len(recorded) >= 2:
            break
    else:
        raise AssertionError("no seeded subject has two recorded conversations, the newest among them")
    raw.post("/_sim/config", json={"recording_lag_s": lag}).raise_for_status()
    body = {
        "action": "DELETE", "actionDate": "2000-01-01T00:00:00.000Z",
        "conversationQuery": {"interval": ALL_TIME, "conversationFilters": [{"type": "or", "predicates": [
            {"type": "dimension", "dimension": "conversationId", "operator": "matches", "value": cid} for cid in ids]}]},
    }
    job = api.post(RECORDING_JOBS, json=body).json()
    expected = [cid for cid in recorded if cid != ids[-1]]
    assert job["totalConversations"] == len(expected) >= 1
    # Not seen by the job, but there when read directly.
    assert api.get(f"/api/v2/conversations/{ids[-1]}/recordings").json()
