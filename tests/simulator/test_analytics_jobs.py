"""Asynchronous conversation detail jobs: lifecycle, cursor paging, snapshot semantics, limits."""

from __future__ import annotations

from typing import Any

import httpx
from genesys_sim.config import SimConfig

from tests.support.sim_api import ALL_TIME, SHAPED, gdpr_delete, subject_body, wait_completed, wait_for

JOBS = "/api/v2/analytics/conversations/details/jobs"
QUERY = "/api/v2/analytics/conversations/details/query"
HELD_S = 24 * 3600.0  # a job no test outlives


def _pred(dimension: str, value: str) -> dict[str, Any]:
    return {"type": "dimension", "dimension": dimension, "operator": "matches", "value": value}


def _submit(api: httpx.Client, body: dict[str, Any]) -> str:
    r = api.post(JOBS, json=body)
    assert r.status_code == 202, r.text
    return str(r.json()["jobId"])


def _fulfilled(api: httpx.Client, job_id: str) -> dict[str, Any]:
    states: list[str] = []

    def done() -> bool:
        status = api.get(f"{JOBS}/{job_id}").json()
        states.append(status["state"])
        return bool(status["state"] == "FULFILLED")

    wait_for(done)
    assert set(states) <= {"QUEUED", "PENDING", "FULFILLED"}
    return dict(api.get(f"{JOBS}/{job_id}").json())


def _all_results(api: httpx.Client, job_id: str, page_size: int) -> tuple[list[dict[str, Any]], int]:
    convs: list[dict[str, Any]] = []
    pages = 0
    params: dict[str, Any] = {"pageSize": page_size}
    while True:
        r = api.get(f"{JOBS}/{job_id}/results", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["dataAvailabilityDate"].endswith("Z")
        convs += body.get("conversations", [])
        pages += 1
        if "cursor" not in body:
            return convs, pages
        params = {"pageSize": page_size, "cursor": body["cursor"]}


def test_job_lifecycle_with_cursor_paging(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    subjects = shaped.get("/_sim/subjects").json()[:5]
    flt = {"type": "or", "predicates": [_pred("externalContactId", s["external_contact_id"]) for s in subjects]}
    query = {"interval": ALL_TIME, "segmentFilters": [flt], "order": "desc"}
    # A job's duration is fixed when it is submitted: one that outlives the test shows the states before
    # FULFILLED however long the machine takes to ask (the next reset restores the duration).
    shaped.post("/_sim/config", json={"analytics_job_s": HELD_S})
    held = _submit(shaped_api, query)
    first = shaped_api.get(f"{JOBS}/{held}").json()
    assert first["state"] in ("QUEUED", "PENDING") and first["submissionDate"].endswith("Z") and first["expirationDate"]
    assert shaped_api.get(f"{JOBS}/{held}/results").status_code == 400  # not fulfilled yet
    assert shaped_api.delete(f"{JOBS}/{held}").status_code == 204
    shaped.post("/_sim/config", json={"analytics_job_s": SHAPED.analytics_job_s})
    job_id = _submit(shaped_api, query)
    status = _fulfilled(shaped_api, job_id)
    assert status["completionDate"] >= status["submissionDate"]

    convs, pages = _all_results(shaped_api, job_id, 3)
    ids = [c["conversationId"] for c in convs]
    sync = shaped_api.post(QUERY, json={"interval": ALL_TIME, "segmentFilters": [flt], "paging": {"pageSize": 100}}).json()
    assert sorted(ids) == sorted(c["conversationId"] for c in sync["conversations"]) and len(set(ids)) == len(ids)
    assert pages == -(-len(ids) // 3) and len(ids) > 3
    starts = [c["conversationStart"] for c in convs]
    assert starts == sorted(starts, reverse=True)

    bad = shaped_api.get(f"{JOBS}/{job_id}/results", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["code"] == "bad.request"
    assert shaped_api.delete(f"{JOBS}/{job_id}").status_code == 204
    assert shaped_api.get(f"{JOBS}/{job_id}").status_code == 404
    assert shaped_api.get(f"{JOBS}/{job_id}/results").status_code == 404
    availability = shaped_api.get(f"{JOBS}/availability")
    assert availability.status_code == 200 and availability.json()["dataAvailabilityDate"].endswith("Z")


def test_results_are_a_snapshot_at_submission(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    subject = shaped.get("/_sim/subjects").json()[0]
    flt = {"type": "or", "predicates": [_pred("externalContactId", subject["external_contact_id"])]}
    job_id = _submit(shaped_api, {"interval": ALL_TIME, "segmentFilters": [flt]})
    wait_completed(shaped_api, gdpr_delete(shaped_api, subject_body(subject)))
    _fulfilled(shaped_api, job_id)
    convs, _ = _all_results(shaped_api, job_id, 100)
    assert convs and all(c["participants"][0]["participantName"] == subject["name"] for c in convs)
    # The live data has changed: the same query now finds nothing.
    assert shaped_api.post(QUERY, json={"interval": ALL_TIME, "segmentFilters": [flt]}).json() == {"totalHits": 0}
    # And a job submitted now sees the erased data.
    later = _submit(shaped_api, {"interval": ALL_TIME, "segmentFilters": [flt]})
    _fulfilled(shaped_api, later)
    assert _all_results(shaped_api, later, 100) == ([], 1)


def test_interval_is_lifetime_overlap(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    cid = shaped.get("/_sim/subjects").json()[1]["conversation_ids"][0]
    conv = shaped_api.get(f"/api/v2/analytics/conversations/{cid}/details").json()
    # An interval inside the conversation's lifetime: it started before, so the sync query misses it.
    inside = f"{conv['conversationStart'][:19]}.500Z/{conv['conversationEnd']}"
    flt = [{"type": "and", "predicates": [_pred("conversationId", cid)]}]
    assert shaped_api.post(QUERY, json={"interval": inside, "conversationFilters": flt}).json()["totalHits"] == 0
    job_id = _submit(shaped_api, {"interval": inside, "conversationFilters": flt})
    _fulfilled(shaped_api, job_id)
    assert [c["conversationId"] for c in _all_results(shaped_api, job_id, 10)[0]] == [cid]
    start_of_day = _submit(shaped_api, {"interval": inside, "conversationFilters": flt, "startOfDayIntervalMatching": True})
    _fulfilled(shaped_api, start_of_day)
    assert _all_results(shaped_api, start_of_day, 10)[0] == []


def test_validation_limits_and_faults(shaped: httpx.Client, shaped_api: httpx.Client) -> None:
    assert shaped_api.post(JOBS, json={"interval": ALL_TIME, "paging": {"pageSize": 10}}).status_code == 400
    assert shaped_api.post(JOBS, json={"segmentFilters": []}).status_code == 400
    assert shaped_api.post(JOBS, json={"interval": ALL_TIME, "limit": 0}).status_code == 400
    assert shaped_api.get(f"{JOBS}/unknown").status_code == 404

    limited = _submit(shaped_api, {"interval": ALL_TIME, "limit": 4})
    _fulfilled(shaped_api, limited)
    assert len(_all_results(shaped_api, limited, 1000)[0]) == 4

    shaped.post("/_sim/faults", json={"analytics_job_error": True})
    failed = _submit(shaped_api, {"interval": ALL_TIME})
    wait_for(lambda: shaped_api.get(f"{JOBS}/{failed}").json()["state"] == "FAILED")
    assert shaped_api.get(f"{JOBS}/{failed}").json()["errorMessage"]

    shaped.post("/_sim/config", json={"analytics_jobs_max": 1, "analytics_job_s": 30})  # the next reset restores both
    _submit(shaped_api, {"interval": ALL_TIME})
    refused = shaped_api.post(JOBS, json={"interval": ALL_TIME})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "too.many.requests.retry.after"
    assert int(refused.headers["inin-ratelimit-count"]) < int(refused.headers["inin-ratelimit-allowed"])
    shaped.post("/_sim/config", json={"job_slots_refusal": "400"})
    refused = shaped_api.post(JOBS, json={"interval": ALL_TIME})
    assert refused.status_code == 400 and refused.json()["code"] == "too.many.jobs"
    assert "too many jobs" in refused.json()["message"].lower()
    stats = shaped.get("/_sim/stats", params={"per_subject": "false"}).json()
    assert stats["analytics_jobs"]["rejected"] == 2 and stats["analytics_jobs"]["running"] == 1
    assert "gdpr_requests" not in stats


def test_a_filter_over_the_predicate_limit_is_refused(shaped_api: httpx.Client) -> None:
    limit = SimConfig().analytics_job_predicates_max
    preds = [_pred("addressFrom", f"p{i}@example.org") for i in range(limit + 1)]

    def body(flt: dict[str, Any]) -> dict[str, Any]:
        return {"interval": ALL_TIME, "segmentFilters": [flt]}

    for flt in ({"type": "or", "predicates": preds},
                {"type": "and", "clauses": [{"type": "or", "predicates": preds}]}):
        refused = shaped_api.post(JOBS, json=body(flt))
        assert refused.status_code == 400, refused.text
        error = refused.json()
        assert error["status"] == 400 and error["code"] == "bad.request" and error["contextId"]
        assert str(limit) in error["message"]
    _submit(shaped_api, body({"type": "or", "predicates": preds[:limit]}))  # at the limit: accepted
