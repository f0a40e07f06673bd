"""The HTTP and Celery doors answer as the README says, with the same validation and idempotency as the CLI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.intake import api, tasks
from services.intake.auth import current_runtime
from shared import celery_app
from shared.api_keys import ApiKeyStore
from shared.task_names import DISCOVER_TASK

JANE = {"ticket": "DSAR-7", "emails": ["Jane.Doe@Example.org"]}


@pytest.fixture
def sent(runtime, monkeypatch):
    calls = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    monkeypatch.setattr(tasks, "get_runtime", lambda: runtime)
    return calls


@pytest.fixture
def http(runtime, sent):
    api.app.dependency_overrides[current_runtime] = lambda: runtime
    _, token = ApiKeyStore(runtime.redis, runtime.keys).create("upstream", ["requests:submit", "requests:read"])
    client = TestClient(api.app)  # no lifespan: the test process keeps its own logging
    client.headers["Authorization"] = f"Bearer {token}"
    yield client
    api.app.dependency_overrides.clear()


def test_http_accepts_returns_the_original_for_a_retry_and_409_for_another_subject(runtime, http, sent):
    first = http.post("/requests", json=JANE)
    assert first.status_code == 202
    request_id = first.json()["request_id"]
    assert first.json() == {"request_id": request_id, "ticket": "DSAR-7", "kind": "erase", "state": "received"}

    again = http.post("/requests", json=JANE)
    assert again.status_code == 200 and again.json() == first.json()
    other = http.post("/requests", json={"ticket": "DSAR-7", "emails": ["omar@example.com"]})
    assert other.status_code == 409
    assert other.json() == {"errors": ["ticket: already submitted for another subject or another kind of request"]}
    assert "omar" not in other.text and "jane" not in other.text.lower()
    # The retry found it still waiting for discovery, so it was sent on again (an earlier try may have
    # stored it and lost Redis before enqueuing); the other subject's try enqueued nothing.
    assert sent == [(DISCOVER_TASK, [[request_id]])] * 2
    assert runtime.store.ids() == [request_id]


def test_http_refuses_by_field_and_enqueues_nothing(runtime, http, sent):
    refused = http.post("/requests", json={"ticket": "DSAR-8", "emails": ["jane.doe(at)example.org"]})
    assert refused.status_code == 422
    assert refused.json() == {"errors": ["emails[0]: not a valid email address"]}
    assert http.post("/requests", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert http.post("/requests", json=["a list"]).status_code == 400
    assert sent == [] and runtime.store.ids() == []


def test_http_reports_state_without_personal_data(http):
    request_id = http.post("/requests", json=JANE).json()["request_id"]
    found = http.get("/requests/DSAR-7")
    assert found.status_code == 200
    assert found.json()["request_id"] == request_id and found.json()["state"] == "received"
    assert found.json()["approved"] is False
    assert "jane" not in found.text.lower()
    assert http.get("/requests/DSAR-none").status_code == 404


def test_celery_door_accepts_refuses_and_names_a_taken_ticket(runtime, sent):
    from shared.metrics import INTAKE_REFUSED

    before = {o: INTAKE_REFUSED.labels(o)._value.get() for o in ("invalid", "duplicate")}
    accepted = tasks.submit_task(JANE)
    assert accepted == {"accepted": True, "request_id": accepted["request_id"]}

    again = tasks.submit_task({"ticket": "DSAR-7", "emails": ["omar@example.com"]})
    assert again == {"accepted": False, "duplicate_of": accepted["request_id"],
                     "errors": [f"ticket: ticket 'DSAR-7' was already submitted as request {accepted['request_id']}"]}

    refused = tasks.submit_task({"ticket": "DSAR-9"})
    assert refused["accepted"] is False and refused["errors"][0].startswith("subject: give at least one identifier")
    assert sent == [(DISCOVER_TASK, [[accepted["request_id"]]])]
    # The broker door answers nobody: each refusal is counted, so an alert or a dashboard can see them.
    assert {o: INTAKE_REFUSED.labels(o)._value.get() - before[o] for o in before} == {"invalid": 1, "duplicate": 1}


def test_a_ticket_reused_for_another_kind_of_request_is_refused_not_answered_with_the_first(runtime):
    """An erasure sent under the ticket of an earlier access request for the same subject is another
    request: answering it with the access request would tell the caller an erasure was accepted."""
    from services.intake.submit import DuplicateTicket, submit

    first = submit(runtime, {"ticket": "K-1", "emails": ["jane@example.org"], "kind": "access"}, enqueue=False)
    with pytest.raises(DuplicateTicket) as erase:
        submit(runtime, {"ticket": "K-1", "emails": ["jane@example.org"]}, enqueue=False)
    with pytest.raises(DuplicateTicket) as retry:
        submit(runtime, {"ticket": "K-1", "emails": ["jane@example.org"], "kind": "access"}, enqueue=False)
    assert erase.value.same_subject is False and retry.value.same_subject is True
    assert runtime.store.get(first.request_id).kind.value == "access"


#: What a message on the broker can carry past the HTTP door's patterns (the security review's repro).
HOSTILE = {"ticket": "../T[red]1", "user_id": "../externalcontacts/contacts/0000",
           "external_contact_ids": ["..", "c0ffee00-0000-4000-8000-00000000000a/../x"],
           "approved_by": "Jane Smith (DPO)\n\x1b[2Japproved.by=ceo"}


@pytest.mark.parametrize(("field", "value", "error"), [
    ("ticket", "../T[red]1", "ticket: String should match pattern '^[A-Za-z0-9._:-]{1,64}$'"),
    ("ticket", "T\x1b[2J", "ticket: String should match pattern '^[A-Za-z0-9._:-]{1,64}$'"),
    ("ticket", "T" * 65, "ticket: String should match pattern '^[A-Za-z0-9._:-]{1,64}$'"),
    ("user_id", "../externalcontacts/contacts/0000", "user_id: String should match pattern"),
    ("external_contact_ids", [".."], "external_contact_ids.0: String should match pattern"),
    ("approved_by", "Jane Smith (DPO)\n\x1b[2Japproved.by=ceo", "approved_by: must be a name as an API key's: 1 to 64"),
    ("approved_by", "A. DPO", "approved_by: must be a name as an API key's"),
])
def test_the_celery_door_refuses_what_the_http_door_refuses_naming_the_field_not_the_value(runtime, http, sent,
                                                                                           field, value, error):
    """Every door is held to one set of rules (``validation.Ticket``, ``PlatformId``, ``ApproverName``):
    what the HTTP door refuses a broker message cannot slip past, and the error reads the same."""
    body = {"ticket": "DOOR-1", "emails": ["jane@example.org"], field: value}
    refused = tasks.submit_task(body)
    assert refused["accepted"] is False
    [line] = refused["errors"]
    assert line.startswith(error), line
    assert "jane" not in str(refused) and ".." not in line.replace(".0:", "") and "DPO" not in line
    if field != "approved_by":  # the HTTP door refuses a body's approved_by from an untrusted key whatever it holds
        answer = http.post("/requests", json=body)
        assert answer.status_code == 422 and answer.json() == {"errors": [line]}
    assert sent == [] and runtime.store.ids() == []


def test_the_security_reviews_broker_message_is_refused_whole(runtime, sent):
    refused = tasks.submit_task({**HOSTILE, "emails": ["jane@example.org"]})
    assert refused["accepted"] is False
    assert sorted(line.split(":")[0] for line in refused["errors"]) == [
        "approved_by", "external_contact_ids.0", "external_contact_ids.1", "ticket", "user_id"]
    assert "\x1b" not in str(refused) and "jane" not in str(refused) and "Smith" not in str(refused)
    assert sent == [] and runtime.store.ids() == []


def test_submit_takes_platform_ids_and_an_approver_of_a_key_names_shape(runtime):
    from services.intake.submit import submit

    record = submit(runtime, {"ticket": "DOOR-2", "user_id": "0F8FAD5B-D9CB-469F-A165-70867728950E",
                              "external_contact_ids": ["c0ffee00-0000-4000-8000-00000000000a"],
                              "approved_by": "it-dpo"}, enqueue=False)
    assert record.subject.user_id == "0F8FAD5B-D9CB-469F-A165-70867728950E"
    assert record.approval is not None and record.approval.by == "it-dpo"
