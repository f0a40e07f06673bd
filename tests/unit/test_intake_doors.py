"""The HTTP and Celery doors answer as the README says, with the same validation and idempotency as the CLI."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from services.intake import api, tasks
from services.intake import submit as intake
from shared.task_names import DISCOVER_TASK

JANE = {"ticket": "DSAR-7", "emails": ["Jane.Doe@Example.org"]}


@pytest.fixture
def sent(runtime, monkeypatch):
    calls = []
    monkeypatch.setattr(intake.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    monkeypatch.setattr(api, "get_runtime", lambda: runtime)
    monkeypatch.setattr(tasks, "get_runtime", lambda: runtime)
    return calls


@pytest.fixture
def http(sent):
    with TestClient(api.app) as client:
        yield client


def test_http_accepts_then_answers_409_for_the_same_ticket(runtime, http, sent):
    first = http.post("/requests", json=JANE)
    assert first.status_code == 202
    request_id = first.json()["request_id"]
    assert first.json() == {"request_id": request_id, "ticket": "DSAR-7", "state": "received"}

    for body in (JANE, {"ticket": "DSAR-7", "emails": ["omar@example.com"]}):
        again = http.post("/requests", json=body)
        assert again.status_code == 409
        assert again.json() == {"errors": [f"ticket: ticket 'DSAR-7' was already submitted as request {request_id}"],
                                "request_id": request_id}
        assert "omar" not in again.text and "jane" not in again.text.lower()
    assert sent == [(DISCOVER_TASK, [[request_id]])]
    assert runtime.store.ids() == [request_id]


def test_http_refuses_by_field_and_enqueues_nothing(runtime, http, sent):
    refused = http.post("/requests", json={"ticket": "DSAR-8", "emails": ["jane.doe(at)example.org"]})
    assert refused.status_code == 422
    assert refused.json() == {"errors": ["emails[0]: not a valid email address"]}
    assert http.post("/requests", content=b"{not json").status_code == 400
    assert http.post("/requests", json=["a list"]).status_code == 400
    assert sent == [] and runtime.store.ids() == []


def test_http_reports_state_without_personal_data(http):
    request_id = http.post("/requests", json=JANE).json()["request_id"]
    found = http.get("/requests/DSAR-7")
    assert found.status_code == 200
    assert found.json()["request_id"] == request_id and found.json()["state"] == "received"
    assert "jane" not in found.text.lower()
    assert http.get("/requests/DSAR-none").status_code == 404


def test_celery_door_accepts_refuses_and_names_a_taken_ticket(runtime, sent):
    accepted = tasks.submit_task(JANE)
    assert accepted == {"accepted": True, "request_id": accepted["request_id"]}

    again = tasks.submit_task({"ticket": "DSAR-7", "emails": ["omar@example.com"]})
    assert again == {"accepted": False, "duplicate_of": accepted["request_id"],
                     "errors": [f"ticket: ticket 'DSAR-7' was already submitted as request {accepted['request_id']}"]}

    refused = tasks.submit_task({"ticket": "DSAR-9"})
    assert refused["accepted"] is False and refused["errors"][0].startswith("subject: give at least one identifier")
    assert sent == [(DISCOVER_TASK, [[accepted["request_id"]]])]
