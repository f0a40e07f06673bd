"""Rate limiting, headers, fault injection, counters and reset."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import RunningSimulator, start_in_thread

from tests.support.sim_api import get_token, wait_for

HEADERS = ("inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset", "ININ-Correlation-Id")


@pytest.fixture
def small_sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(SimConfig(subjects=3, rate_limit=5, rate_window_s=30, gdpr_step_s=0.05))
    yield running
    running.stop()


def test_sixth_call_is_429_with_retry_after(small_sim: RunningSimulator) -> None:
    with httpx.Client(base_url=small_sim.url) as raw:
        token = get_token(raw)
        auth = {"Authorization": f"Bearer {token}"}
        answers = [raw.get("/api/v2/gdpr/requests", headers=auth) for _ in range(6)]
        assert [r.status_code for r in answers] == [200] * 5 + [429]
        for i, r in enumerate(answers, start=1):
            for name in HEADERS:
                assert name in r.headers, (i, name)
            assert r.headers["inin-ratelimit-allowed"] == "5"
            assert 1 <= int(r.headers["inin-ratelimit-reset"]) <= 30
        assert [int(r.headers["inin-ratelimit-count"]) for r in answers[:5]] == [1, 2, 3, 4, 5]
        limited = answers[5]
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 30
        assert limited.json() == {
            "message": f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds",
            "code": "too.many.requests.retry.after",
            "status": 429,
            "contextId": limited.headers["ININ-Correlation-Id"],
            "details": [],
            "errors": [],
        }
        # Token issuance and /_sim are not metered; another token has its own window.
        assert raw.get("/_sim/stats").status_code == 200
        other = {"Authorization": f"Bearer {get_token(raw)}"}
        assert raw.get("/api/v2/gdpr/requests", headers=other).status_code == 200
        assert raw.get("/api/v2/gdpr/requests", headers=auth).status_code == 429
        assert raw.get("/_sim/stats").json()["rate_limited"] == 2


def test_window_resets(small_sim: RunningSimulator) -> None:
    with httpx.Client(base_url=small_sim.url) as raw:
        raw.post("/_sim/config", json={"rate_limit": 2, "rate_window_s": 2.0})
        auth = {"Authorization": f"Bearer {get_token(raw)}"}
        assert [raw.get("/api/v2/gdpr/requests", headers=auth).status_code for _ in range(3)] == [200, 200, 429]
        deadline = time.monotonic() + 60  # the window is 2 s; generous for a loaded machine
        while raw.get("/api/v2/gdpr/requests", headers=auth).status_code == 429:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_status_fault_then_recovery(api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    path = "/api/v2/gdpr/requests/{requestId}"
    r = raw.post("/_sim/faults", json={"path": path, "method": "GET", "status": 503, "count": 2})
    assert r.status_code == 200
    rid = api.post(
        "/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT", "subject": {"emailAddresses": subjects[0]["emails"]}}
    ).json()["id"]
    answers = [api.get(f"/api/v2/gdpr/requests/{rid}") for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json()["status"] == 503 and answers[0].json()["code"] == "service.unavailable"
    assert "inin-ratelimit-count" in answers[0].headers
    # Other routes were never affected.
    assert api.get("/api/v2/gdpr/requests").status_code == 200
    stats = raw.get("/_sim/stats").json()
    rows = {(x["method"], x["path"], x["status"]): x["count"] for x in stats["requests"]}
    assert rows[("GET", path, 503)] == 2
    assert rows[("GET", path, 200)] == 1
    assert rows[("POST", "/api/v2/gdpr/requests", 200)] == 1
    assert stats["total_requests"] == sum(rows.values())


def test_injected_429_carries_retry_after(api: httpx.Client, raw: httpx.Client) -> None:
    raw.post("/_sim/faults", json={"path": "/api/v2/gdpr/requests", "status": 429, "retry_after": 3, "count": 1})
    r = api.get("/api/v2/gdpr/requests")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["code"] == "too.many.requests.retry.after"


def test_delay_and_drop_faults(api: httpx.Client, raw: httpx.Client) -> None:
    raw.post("/_sim/faults", json={"path": "/api/v2/gdpr/requests", "delay_s": 0.3, "count": 1})
    started = time.monotonic()
    assert api.get("/api/v2/gdpr/requests").status_code == 200
    assert time.monotonic() - started >= 0.3
    raw.post("/_sim/faults", json={"path": "/api/v2/gdpr/requests", "drop": True, "count": 1})
    with pytest.raises(httpx.TransportError):
        api.get("/api/v2/gdpr/requests")
    assert api.get("/api/v2/gdpr/requests").status_code == 200


def test_timed_fault_on_a_path_prefix_hits_the_whole_family_until_it_expires(api: httpx.Client, raw: httpx.Client) -> None:
    """An outage of one endpoint family: every request under the prefix, however many, until for_s runs out."""
    r = raw.post("/_sim/faults", json={"path_prefix": "/api/v2/gdpr", "status": 503, "for_s": 1.0})
    assert r.status_code == 200 and r.json()["fault"]["count"] is None
    assert 0 < r.json()["fault"]["expires_in_s"] <= 1.0
    assert [api.get("/api/v2/gdpr/requests").status_code for _ in range(5)] == [503] * 5  # not used up
    assert api.get("/api/v2/gdpr/subjects", params={"searchType": "EMAIL", "searchValue": "x@y.z"}).status_code == 503
    assert api.get("/api/v2/externalcontacts/contacts").status_code == 200  # another family
    # Expires on the clock (polled: the fault lasts 1 s).
    wait_for(lambda: api.get("/api/v2/gdpr/requests").status_code == 200, timeout=30)
    assert raw.get("/_sim/stats").json()["faults_pending"] == []


def test_timed_fault_with_a_count_stops_at_the_count(api: httpx.Client, raw: httpx.Client) -> None:
    raw.post("/_sim/faults", json={"path_prefix": "/api/v2/gdpr", "drop": True, "for_s": 600, "count": 2})
    for _ in range(2):
        with pytest.raises(httpx.TransportError):
            api.get("/api/v2/gdpr/requests")
    assert api.get("/api/v2/gdpr/requests").status_code == 200


def test_stats_count_the_answers_faults_shaped_by_kind(api: httpx.Client, raw: httpx.Client) -> None:
    raw.post("/_sim/faults", json={"path": "/api/v2/gdpr/requests", "status": 503, "count": 2})
    raw.post("/_sim/faults", json={"path_prefix": "/api/v2/externalcontacts", "delay_s": 0.05, "status": 502})
    for _ in range(3):
        api.get("/api/v2/gdpr/requests")
    api.get("/api/v2/externalcontacts/contacts")
    faulted = raw.get("/_sim/stats").json()["faulted"]
    assert faulted == [
        {"method": "GET", "path": "/api/v2/externalcontacts/contacts", "kind": "delay+502", "count": 1},
        {"method": "GET", "path": "/api/v2/gdpr/requests", "kind": "503", "count": 2},
    ]


def test_stats_name_the_subjects_whose_gdpr_requests_were_made_to_fail(
    api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]
) -> None:
    raw.post("/_sim/faults", json={"gdpr_error": True, "count": 1})
    for subject in subjects[:2]:
        r = api.post("/api/v2/gdpr/requests", params={"deleteConfirmed": "true"},
                     json={"requestType": "GDPR_DELETE", "subject": {"emailAddresses": subject["emails"]}})
        assert r.status_code == 200, r.text
    stats = raw.get("/_sim/stats").json()
    assert stats["gdpr_errored"] == [{"requestType": "GDPR_DELETE", "subject": subjects[0]["id"]}]
    assert "gdpr_errored" not in raw.get("/_sim/stats", params={"per_subject": "false"}).json()


def test_fault_validation(raw: httpx.Client) -> None:
    assert raw.post("/_sim/faults", json={"path": "/x"}).status_code == 400
    assert raw.post("/_sim/faults", json={"path": "/x", "status": 200}).status_code == 400
    assert raw.post("/_sim/faults", json={"status": 500, "count": 0}).status_code == 400
    assert raw.post("/_sim/faults", json={"status": 500, "for_s": 0}).status_code == 400
    assert raw.post("/_sim/faults", json={"status": 500, "for_s": "soon"}).status_code == 400
    assert raw.post("/_sim/faults", json={"status": 500, "path_prefix": "api/v2"}).status_code == 400
    # Without for_s a fault still lasts one use by default.
    assert raw.post("/_sim/faults", json={"status": 500}).json()["fault"]["count"] == 1


def test_reset_clears_counters_and_requests(api: httpx.Client, raw: httpx.Client, subjects: list[dict[str, Any]]) -> None:
    api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT", "subject": {"name": subjects[0]["name"]}})
    assert raw.get("/_sim/stats").json()["gdpr_requests"][0]["subject"] == subjects[0]["id"]
    api.post("/api/v2/gdpr/requests", json={"requestType": "GDPR_EXPORT", "subject": {"emailAddresses": ["x@y.example"]}})
    assert {"requestType": "GDPR_EXPORT", "subject": "unknown", "count": 1} in raw.get("/_sim/stats").json()["gdpr_requests"]
    assert raw.post("/_sim/reset").status_code == 200
    stats = raw.get("/_sim/stats").json()
    assert stats == {**stats, "requests": [], "total_requests": 0, "rate_limited": 0, "gdpr_requests": []}
    assert api.get("/api/v2/gdpr/requests").json()["total"] == 0
    assert raw.get("/_sim/subjects").json() == subjects  # same seed, same people


def test_the_reset_is_never_longer_than_the_window_even_for_a_request_timed_before_it_opened() -> None:
    """Two requests racing for the lock: the one timed earlier may find the window opened by the later one."""
    from genesys_sim.rate_window import FixedWindowLimiter

    window = FixedWindowLimiter(limit=5, window_s=30)
    assert window.hit("t", now=1000.0).reset_s == 30
    assert window.hit("t", now=999.99).reset_s == 30  # timed before the window's start: still 30, not 31
    assert window.peek("t", now=999.5).reset_s == 30
    assert window.hit("t", now=1029.5).reset_s == 1
