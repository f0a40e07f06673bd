"""The HTTP intake shows the scope an approver approves, and binds the approval to it: a stale ``scope``
is 409, an approval given before the scope widened is superseded at the gate, and a new one releases.
(FastAPI's TestClient on fakeredis, as tests/unit/test_intake_api.py.)"""

from __future__ import annotations

import json

import pytest

from services.intake import submit as intake
from shared import approval_gate, celery_app
from shared.api_keys import ApiKeyStore
from shared.approval_gate import release_if_approved
from shared.models import RequestState, Subject
from shared.task_names import DELETE_TASK
from tests.support.intake_client import bearer, intake_client
from tests.support.records import put_state


@pytest.fixture
def sent(monkeypatch):
    """The deletion tasks sent (discovery's, sent by the submit, are left out)."""
    calls = []

    def send_task(name, args=None, **kw):
        if name == DELETE_TASK:
            calls.append((name, args))

    for module in (intake, approval_gate):
        monkeypatch.setattr(celery_app.app, "send_task", send_task)
    return calls


@pytest.fixture
def client(runtime, sent):
    with intake_client(runtime) as test_client:
        yield test_client


@pytest.fixture
def keys(runtime):
    store = ApiKeyStore(runtime.redis, runtime.keys)
    return lambda name, *scopes: bearer(store, name, *scopes)


@pytest.fixture
def submitted(client, keys):
    answer = client.post("/requests", json={"ticket": "SC-1", "emails": ["jane@example.org"]},
                         headers=keys("dsar-tool", "requests:submit", "requests:read"))
    assert answer.status_code == 202
    return answer.json()["request_id"]


@pytest.fixture
def dpo(keys):
    return keys("dpo-desk", "requests:approve", "requests:read")


def discovered(runtime, request_id, *emails, state=RequestState.AWAITING_APPROVAL):
    """What discovery (and redaction) found, and where the request stands then."""
    runtime.store.update(request_id, identity=Subject(emails=["jane@example.org", *emails]),
                         conversation_ids=["c-1", "c-2"])
    put_state(runtime, request_id, state)


def test_the_request_shows_its_scope_in_counts_and_a_digest(client, runtime, submitted, dpo):
    discovered(runtime, submitted, "j.doe@work.example")
    view = client.get("/requests/SC-1", headers=dpo).json()
    assert view["scope"]["identifiers"]["emails"] == 2 and view["scope"]["conversations"] == 2
    assert view["scope"]["digest"].startswith("hmac-sha256:")
    assert view["approved_scope"] is None and view["superseded_approvals"] == 0
    assert "example" not in json.dumps(view)


def test_approving_a_scope_that_changed_since_it_was_shown_is_409_and_approves_nothing(client, runtime, submitted, dpo,
                                                                                         sent):
    discovered(runtime, submitted, state=RequestState.REDACTING)
    shown = client.get("/requests/SC-1", headers=dpo).json()["scope"]["digest"]
    discovered(runtime, submitted, "typed@elsewhere.example")  # redaction widened it meanwhile

    stale = client.post("/requests/SC-1/approve", json={"scope": shown}, headers=dpo)
    assert stale.status_code == 409 and stale.json()["errors"][0].startswith("scope: the scope changed")
    assert runtime.store.get(submitted).approval is None and sent == []

    now = client.get("/requests/SC-1", headers=dpo).json()["scope"]
    approved = client.post("/requests/SC-1/approve", json={"scope": now["digest"]}, headers=dpo)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "deleting" and approved.json()["approved_scope"] == now
    assert sent == [(DELETE_TASK, [[submitted]])]


@pytest.mark.parametrize("body", [{"by": "anonymous attacker"}, {"scope": "hmac-sha256:abc"},
                                  {"scope": 7}, {"scope": "hmac-sha256:" + "0" * 64, "by": "x"}])
def test_an_approval_takes_nothing_but_a_well_formed_scope(client, runtime, submitted, dpo, body):
    answer = client.post("/requests/SC-1/approve", json=body, headers=dpo)
    assert answer.status_code == 422 and "anonymous" not in answer.text
    assert runtime.store.get(submitted).approval is None


def test_an_approval_given_before_the_scope_widened_waits_for_a_second_one(client, runtime, submitted, dpo, keys,
                                                                          sent):
    early = client.post("/requests/SC-1/approve", headers=dpo)  # while the request is still received
    assert early.status_code == 200 and early.json()["approved"] is True
    assert early.json()["approved_scope"]["identifiers"]["emails"] == 1

    discovered(runtime, submitted, "typed@elsewhere.example")  # the gate sees the wider scope
    assert release_if_approved(runtime, submitted) is None and sent == []
    view = client.get("/requests/SC-1", headers=dpo).json()
    assert view["state"] == "awaiting_approval" and view["approved"] is False and view["superseded_approvals"] == 1
    assert view["reason"].startswith(approval_gate.SCOPE_CHANGED) and "typed" not in view["reason"]

    second = client.post("/requests/SC-1/approve", json={"scope": view["scope"]["digest"]},
                         headers=keys("privacy-lead", "requests:approve"))
    assert second.status_code == 200 and second.json()["state"] == "deleting" and second.json()["reason"] is None
    assert sent == [(DELETE_TASK, [[submitted]])]
