"""Recordings and recording bulk jobs (DELETE flow, the two-job rule, single-recording deleteDate)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from genesys_sim.config import SimConfig

from tests.support.sim_api import ALL_TIME, STEP_S, wait_for

JOBS = "/api/v2/recording/jobs"
HELD_S = 24 * 3600.0  # a step no test outlives: a job stays where it is until the step is put back


def _job_body(conversation_id: str) -> dict[str, Any]:
    return {
        "action": "DELETE",
        "actionDate": "2000-01-01T00:00:00.000Z",
        "includeScreenRecordings": True,
        "conversationQuery": {
            "interval": ALL_TIME,
            "conversationFilters": [
                {"type": "and", "predicates": [{"type": "dimension", "dimension": "conversationId", "value": conversation_id}]}
            ],
        },
    }


def _state(api: httpx.Client, job_id: str) -> str:
    return str(api.get(f"{JOBS}/{job_id}").json()["state"])


def test_delete_job_flow(api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    cid = subjects[0]["conversation_ids"][0]  # web messaging: recorded
    recs = api.get(f"/api/v2/conversations/{cid}/recordings").json()
    assert len(recs) == 1 and recs[0]["fileState"] == "AVAILABLE" and recs[0]["conversationId"] == cid

    # The job is held PENDING until the test lets it go, so the early start below is refused however long
    # the machine takes to send it (the next reset restores the step).
    raw.post("/_sim/config", json={"gdpr_step_s": HELD_S})
    job = api.post(JOBS, json=_job_body(cid)).json()
    assert job["state"] == "PENDING" and job["totalConversations"] == 1 and job["totalRecordings"] == 1
    assert api.put(f"{JOBS}/{job['id']}", json={"state": "PROCESSING"}).status_code == 400  # not READY yet
    assert _state(api, job["id"]) == "PENDING"  # the refused start changed nothing
    raw.post("/_sim/config", json={"gdpr_step_s": STEP_S})
    wait_for(lambda: _state(api, job["id"]) == "READY")
    r = api.put(f"{JOBS}/{job['id']}", json={"state": "PROCESSING"})
    assert r.status_code == 200 and r.json()["state"] == "PROCESSING"
    wait_for(lambda: _state(api, job["id"]) == "FULFILLED")
    done = api.get(f"{JOBS}/{job['id']}").json()
    assert done["percentProgress"] == 100 and done["totalProcessedRecordings"] == 1
    assert api.get(f"/api/v2/conversations/{cid}/recordings").json() == []
    assert api.get(f"/api/v2/conversations/{cid}/recordings/{recs[0]['id']}").status_code == 404
    assert raw.get("/_sim/recordings", params={"conversation_id": cid}).json()["recordings"] == []
    assert api.get(JOBS, params={"state": "FULFILLED", "includeTotal": "true"}).json()["total"] == 1


def test_at_most_two_active_jobs(api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    raw.post("/_sim/config", json={"gdpr_step_s": 30})  # keep jobs PENDING; the next reset restores it
    cid = subjects[1]["conversation_ids"][0]
    first = api.post(JOBS, json=_job_body(cid))
    second = api.post(JOBS, json=_job_body(cid))
    third = api.post(JOBS, json=_job_body(cid))
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert int(third.headers["Retry-After"]) >= 1
    api.delete(f"{JOBS}/{first.json()['id']}")
    assert _state(api, first.json()["id"]) == "CANCELLED"
    assert api.post(JOBS, json=_job_body(cid)).status_code == 200


@pytest.mark.parametrize("form", ["429", "400"])
def test_a_third_job_is_refused_in_the_configured_form_with_budget_left(
        api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]], form: str) -> None:
    assert SimConfig().job_slots_refusal == "429"  # the default: the form a forum report describes
    raw.post("/_sim/config", json={"gdpr_step_s": 30, "job_slots_refusal": form})  # the next reset restores both
    cid = subjects[1]["conversation_ids"][0]
    assert [api.post(JOBS, json=_job_body(cid)).status_code for _ in range(2)] == [200, 200]
    third = api.post(JOBS, json=_job_body(cid))
    assert third.status_code == int(form)
    body = third.json()
    assert "too many jobs" in body["message"].lower() and body["contextId"]
    if form == "429":
        assert body["code"] == "too.many.requests.retry.after" and int(third.headers["Retry-After"]) >= 1
    else:
        assert body["code"] == "too.many.jobs" and "Retry-After" not in third.headers
    # Not the rate limit: the window still has budget, which is how a client tells the two apart.
    assert int(third.headers["inin-ratelimit-count"]) < int(third.headers["inin-ratelimit-allowed"])


def test_job_validation(api: httpx.Client) -> None:
    assert api.post(JOBS, json={"action": "PURGE"}).status_code == 400
    assert api.post(JOBS, json={"action": "DELETE", "conversationQuery": {"interval": ALL_TIME}}).status_code == 400
    assert api.post(JOBS, json={"action": "DELETE", "actionAge": 0}).status_code == 400
    assert api.get(f"{JOBS}/nope").status_code == 404


def test_single_recording_delete_date(api: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    cid = subjects[2]["conversation_ids"][0]
    rec = api.get(f"/api/v2/conversations/{cid}/recordings").json()[0]
    future = api.put(f"/api/v2/conversations/{cid}/recordings/{rec['id']}", json={"deleteDate": "2999-01-01T00:00:00Z"})
    assert future.status_code == 200 and future.json()["deleteDate"] == "2999-01-01T00:00:00Z"
    assert len(api.get(f"/api/v2/conversations/{cid}/recordings").json()) == 1
    past = api.put(f"/api/v2/conversations/{cid}/recordings/{rec['id']}", json={"deleteDate": "2001-01-01T00:00:00Z"})
    assert past.status_code == 200
    assert api.get(f"/api/v2/conversations/{cid}/recordings").json() == []


def _run(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Create a job, start it once READY and return it FULFILLED."""
    job = api.post(JOBS, json=body).json()
    wait_for(lambda: _state(api, job["id"]) == "READY")
    assert api.put(f"{JOBS}/{job['id']}", json={"state": "PROCESSING"}).status_code == 200
    wait_for(lambda: _state(api, job["id"]) == "FULFILLED")
    return dict(api.get(f"{JOBS}/{job['id']}").json())


def test_sensitive_recordings_are_skipped_unless_the_job_includes_them(
        api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    raw.post("/_sim/config", json={"sensitive_recording_share": 1.0})  # every recording; reset restores it
    cid = subjects[3]["conversation_ids"][0]
    assert len(api.get(f"/api/v2/conversations/{cid}/recordings").json()) == 1
    skipped = _run(api, _job_body(cid))  # the platform's default: includeRecordingsWithSensitiveData false
    assert skipped["totalRecordings"] == 1 and skipped["totalSkippedRecordings"] == 1
    assert skipped["totalProcessedRecordings"] == 0
    assert len(api.get(f"/api/v2/conversations/{cid}/recordings").json()) == 1  # left in place
    done = _run(api, {**_job_body(cid), "includeRecordingsWithSensitiveData": True})
    assert done["totalSkippedRecordings"] == 0 and done["totalProcessedRecordings"] == 1
    assert api.get(f"/api/v2/conversations/{cid}/recordings").json() == []


def test_sensitive_recordings_can_be_skipped_even_when_asked(
        api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    raw.post("/_sim/config", json={"sensitive_recording_share": 1.0, "sensitive_always_skipped": True})
    cid = subjects[3]["conversation_ids"][0]
    job = _run(api, {**_job_body(cid), "includeRecordingsWithSensitiveData": True})
    assert job["totalSkippedRecordings"] == 1
    assert len(api.get(f"/api/v2/conversations/{cid}/recordings").json()) == 1


def test_job_list_without_sort_is_not_newest_first(api: httpx.Client, raw: httpx.Client,
                                                   subjects: list[dict[str, Any]]) -> None:
    raw.post("/_sim/config", json={"gdpr_step_s": HELD_S})  # jobs stay PENDING; reset restores the step
    made = []
    for subject in subjects[:3]:
        job = api.post(JOBS, json=_job_body(subject["conversation_ids"][0])).json()
        api.delete(f"{JOBS}/{job['id']}")  # cancelled: frees its slot for the next one
        made.append(job["id"])
    plain = api.get(JOBS, params={"pageSize": 10}).json()
    assert [j["id"] for j in plain["entities"]] == made  # sorted by userId (one user): not newest first
    assert "pageCount" not in plain and "total" not in plain  # no totals unless asked
    newest = api.get(JOBS, params={"pageSize": 10, "sortBy": "dateCreated", "includeTotal": "true",
                                   "showOnlyMyJobs": "true"}).json()
    assert [j["id"] for j in newest["entities"]] == made[::-1]
    assert newest["total"] == 3 and newest["pageCount"] == 1
    assert api.get(JOBS, params={"sortBy": "colour"}).status_code == 400


def test_failed_recordings_page_count_only_with_include_total(api: httpx.Client,
                                                              subjects: list[dict[str, Any]]) -> None:
    job = api.post(JOBS, json=_job_body(subjects[4]["conversation_ids"][0])).json()
    plain = api.get(f"{JOBS}/{job['id']}/failedrecordings").json()
    assert plain["entities"] == [] and "pageCount" not in plain and "total" not in plain
    counted = api.get(f"{JOBS}/{job['id']}/failedrecordings", params={"includeTotal": "true"}).json()
    assert counted["total"] == 0 and counted["pageCount"] == 1
