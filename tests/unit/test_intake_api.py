"""The HTTP intake in process (FastAPI's TestClient on fakeredis): keys and scopes, four eyes, the request
models' limits, the body guard, and answers that name fields without repeating values."""

from __future__ import annotations

import json

import pytest
import redis

from services.intake.guard import nesting_depth
from shared import celery_app
from shared.api_keys import ApiKeyStore
from shared.models import RequestState
from shared.task_names import DISCOVER_TASK
from tests.support.intake_client import bearer, intake_client

USER = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


@pytest.fixture
def keys(runtime):
    return ApiKeyStore(runtime.redis, runtime.keys)


@pytest.fixture
def client(runtime, sent):
    with intake_client(runtime) as test_client:
        yield test_client


@pytest.fixture
def submitter(keys):
    return bearer(keys, "dsar-tool", "requests:submit", "requests:read", "requests:approve")


@pytest.fixture
def approver(keys):
    return bearer(keys, "dpo-desk", "requests:approve", "requests:read")


def submit(client, headers, ticket="T-1", **fields):
    return client.post("/requests", json={"ticket": ticket, "emails": ["jane@example.org"], **fields}, headers=headers)


# --- authentication ----------------------------------------------------------------------------------

ENDPOINTS = [("GET", "/ready"), ("POST", "/requests"), ("GET", "/requests"), ("GET", "/requests/T-1"),
             ("GET", "/requests/T-1/certificate"), ("POST", "/requests/T-1/approve")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("authorization", [None, "Bearer ek_000000000000_" + "x" * 43, "Bearer nonsense", "Basic abc"])
def test_every_endpoint_but_health_wants_a_valid_key(client, submitter, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.request(method, path, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json() == {"errors": ["authorization: a valid API key is required (Authorization: Bearer ek_...)"]}


def test_health_needs_no_key_and_ready_pings_redis(client, submitter):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready", headers=submitter).json() == {"status": "ready"}


def test_a_wrong_secret_and_a_revoked_key_are_refused_and_audited_without_the_key(client, keys, runtime):
    info, token = keys.create("ticketing", ["requests:read"])
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get("/requests", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert client.get("/requests", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    keys.revoke("ticketing")
    assert client.get("/requests", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    for _ in range(3):  # a flood: counted and logged each time, audited once a minute per key and reason
        client.get("/requests", headers={"Authorization": f"Bearer {wrong}"})
    audited = [e for e in runtime.audit.entries() if e["event"] == "api.auth_refused"]
    assert [e["details"]["reason"] for e in audited] == ["wrong_secret", "revoked"]
    assert all(e["details"]["key_id"] == info.key_id for e in audited)
    assert token.split("_", 2)[2] not in json.dumps(runtime.audit.entries())


def test_a_key_without_the_scope_is_403(client, keys):
    reader = bearer(keys, "reader", "requests:read")
    answer = submit(client, reader)
    assert answer.status_code == 403
    assert answer.json() == {"errors": ["authorization: this key lacks the scope requests:submit"]}


def test_admin_holds_every_scope(client, keys, sent):
    assert submit(client, bearer(keys, "root", "admin")).status_code == 202


# --- four eyes ---------------------------------------------------------------------------------------

def test_the_submitting_key_cannot_approve_its_own_request_and_a_second_key_can(client, runtime, submitter, approver):
    assert submit(client, submitter).status_code == 202
    own = client.post("/requests/T-1/approve", headers=submitter)
    assert own.status_code == 403 and "four eyes" in own.json()["errors"][0]
    assert runtime.store.find_by_ticket("T-1").approval is None

    approved = client.post("/requests/T-1/approve", headers=approver)
    assert approved.status_code == 200
    record = runtime.store.find_by_ticket("T-1")
    dpo = ApiKeyStore(runtime.redis, runtime.keys).find("dpo-desk")
    assert (record.approval.by, record.approval.key_id, record.approval.via) == ("dpo-desk", dpo.key_id, "api")
    assert approved.json()["approved_by"] == "dpo-desk" and approved.json()["approved_by_key"] == dpo.key_id
    assert client.post("/requests/T-1/approve", headers=approver).status_code == 409


def test_an_approval_takes_no_approver_from_the_body(client, submitter, approver, runtime):
    submit(client, submitter)
    answer = client.post("/requests/T-1/approve", json={"by": "anonymous attacker"}, headers=approver)
    assert answer.status_code == 422 and runtime.store.find_by_ticket("T-1").approval is None
    assert client.post("/requests/NOPE/approve", headers=approver).status_code == 404


def test_approved_by_in_a_body_is_refused_unless_the_key_is_trusted(client, runtime, submitter, keys, sent):
    refused = submit(client, submitter, approved_by="Jane's manager")
    assert refused.status_code == 422 and refused.json()["errors"][0].startswith("approved_by: refused")
    assert "manager" not in refused.text
    assert runtime.store.ids() == [] and sent == []

    trusted = keys.create("dsar-upstream", ["requests:submit"])
    runtime.settings.preapprove_keys = [trusted[0].key_id]
    try:
        answer = submit(client, {"Authorization": f"Bearer {trusted[1]}"}, ticket="T-2", approved_by="someone")
    finally:
        runtime.settings.preapprove_keys = []
    assert answer.status_code == 202
    approval = runtime.store.find_by_ticket("T-2").approval
    assert (approval.by, approval.key_id, approval.via) == ("dsar-upstream", trusted[0].key_id, "preapproved")


def test_an_access_request_is_approved_by_the_same_rules_as_an_erasure(client, runtime, keys, sent):
    """An export hands one person's data to whoever reads its link: four eyes, as for an erasure. A key not
    trusted to pre-approve is refused ``approved_by``; a trusted one's is recorded as its approval."""
    plain_key = keys.create("dsar-tool", ["requests:submit"])
    trusted = keys.create("dsar-upstream", ["requests:submit"])
    refused = submit(client, {"Authorization": f"Bearer {plain_key[1]}"}, ticket="A-1", approved_by="x", kind="access")
    runtime.settings.preapprove_keys = [trusted[0].key_id]
    try:
        answer = submit(client, {"Authorization": f"Bearer {trusted[1]}"}, ticket="A-2", approved_by="x", kind="access")
        plain = submit(client, {"Authorization": f"Bearer {trusted[1]}"}, ticket="A-3", kind="access")
    finally:
        runtime.settings.preapprove_keys = []
    assert refused.status_code == 422 and runtime.store.find_by_ticket("A-1") is None
    assert answer.status_code == 202 and runtime.store.find_by_ticket("A-2").approval.via == "preapproved"
    assert plain.status_code == 202 and runtime.store.find_by_ticket("A-3").approval is None


# --- the request model -------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "error"), [
    ({"ticket": "T-1\u200b"}, "ticket: String should match pattern"),
    ({"ticket": "T-1\x1b[31m"}, "ticket: String should match pattern"),
    ({"ticket": "T" * 65}, "ticket: String should match pattern"),
    ({"user_id": "../externalcontacts/contacts/0000"}, "user_id: String should match pattern"),
    ({"external_contact_ids": ["c-1"]}, "external_contact_ids.0: String should match pattern"),
    ({"emails": [f"a{n}@example.org" for n in range(21)]}, "emails: List should have at most 20 items"),
    ({"phones": ["+447911123456"] * 21}, "phones: List should have at most 20 items"),
    ({"names": ["Jane"] * 11}, "names: List should have at most 10 items"),
    ({"external_contact_ids": [USER] * 101}, "external_contact_ids: List should have at most 100 items"),
    ({"names": ["J" * 201]}, "names.0: String should have at most 200 characters"),
    ({"emails": ["j" * 250 + "@example.org"]}, "emails.0: String should have at most 254 characters"),
    ({"verified_at": "1970-01-01T00:00:00Z"}, "verified_at: must lie between 2000-01-01 and a year from now"),
    ({"window_start": "2020-01-01T00:00:00Z", "window_end": "9999-01-01T00:00:00Z"}, "window_end: must lie between"),
    ({"jane@example.org": True}, "request: an unknown field (its name is not repeated)"),
    ({"emails": [["nested"]]}, "emails.0: Input should be a valid string"),
])
def test_the_model_refuses_by_field_without_the_value(client, submitter, runtime, sent, fields, error):
    answer = submit(client, submitter, **fields)
    assert answer.status_code == 422, answer.text
    assert any(e.startswith(error) for e in answer.json()["errors"]), answer.json()
    for value in ("../externalcontacts", "\u200b", "\x1b", "nested", "1970", "9999", "jane@example.org", "JJJJ"):
        assert value not in answer.text
    assert runtime.store.ids() == [] and sent == []


def test_uuids_and_the_shared_rules_pass_and_normalise(client, submitter, runtime):
    answer = submit(client, submitter, user_id=USER, external_contact_ids=[USER], phones=["+44 7911 123456"])
    assert answer.status_code == 202
    subject = runtime.store.find_by_ticket("T-1").subject
    assert subject.user_id == USER and subject.phones == ["+447911123456"]
    assert runtime.store.find_by_ticket("T-1").submitted_by == ApiKeyStore(runtime.redis, runtime.keys).find(
        "dsar-tool").key_id


# --- the body guard ----------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/json; charset=latin-1", None])
def test_only_json_bodies_are_read(client, submitter, runtime, sent, content_type):
    headers = dict(submitter)
    if content_type:
        headers["Content-Type"] = content_type
    answer = client.post("/requests", content=json.dumps({"ticket": "T-1", "emails": ["a@example.org"]}),
                         headers=headers)
    assert answer.status_code == 415
    assert runtime.store.ids() == [] and sent == []


def test_a_large_body_is_413_with_or_without_a_length(client, submitter, runtime, sent):
    big = json.dumps({"ticket": "T-1", "names": ["x" * 70_000]}).encode()
    assert client.post("/requests", content=big, headers={**submitter, "Content-Type": "application/json"}
                       ).status_code == 413

    def chunks():
        for start in range(0, len(big), 4096):
            yield big[start:start + 4096]

    chunked = client.post("/requests", content=chunks(), headers={**submitter, "Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert runtime.store.ids() == [] and sent == []


def test_deep_nesting_is_400_not_500(client, submitter, runtime, sent):
    deep = "[" * 10_000 + "]" * 10_000
    answer = client.post("/requests", content='{"ticket": "T-1", "emails": ' + deep + "}",
                         headers={**submitter, "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json() == {"errors": ["body: nested deeper than 32 levels"]}
    assert runtime.store.ids() == [] and sent == []


def test_nesting_depth_ignores_brackets_in_strings():
    assert nesting_depth(b'{"a": "[[[[{{{{\\"[[["}') == 1
    assert nesting_depth(b'[[1], {"a": [2]}]') == 3


# --- reading: status, list, certificate ----------------------------------------------------------------

def test_the_list_pages_with_a_cursor_and_filters_by_state(client, submitter, runtime):
    for n in range(5):
        submit(client, submitter, ticket=f"L-{n}", emails=[f"l{n}@example.org"])
    runtime.store.set_state(runtime.store.find_by_ticket("L-3").request_id, RequestState.DISCOVERING)
    first = client.get("/requests?limit=2", headers=submitter).json()
    assert [i["ticket"] for i in first["items"]] == ["L-0", "L-1"] and first["next_cursor"]
    second = client.get(f"/requests?limit=2&cursor={first['next_cursor']}", headers=submitter).json()
    third = client.get(f"/requests?limit=2&cursor={second['next_cursor']}", headers=submitter).json()
    assert [i["ticket"] for i in second["items"] + third["items"]] == ["L-2", "L-3", "L-4"]
    assert third["next_cursor"] is None
    discovering = client.get("/requests?state=discovering", headers=submitter).json()
    assert [i["ticket"] for i in discovering["items"]] == ["L-3"]
    assert client.get("/requests?overdue=true", headers=submitter).json()["items"] == []
    assert "example.org" not in json.dumps([first, second, third])
    assert client.get("/requests?state=nonsense", headers=submitter).status_code == 422


def test_a_page_reads_its_records_in_one_round_trip_not_one_per_request(client, submitter, runtime, monkeypatch):
    for n in range(6):
        submit(client, submitter, ticket=f"R-{n}", emails=[f"r{n}@example.org"])
    calls: list[int] = []
    real_mget = runtime.redis.mget
    monkeypatch.setattr(runtime.redis, "mget", lambda keys, *rest: calls.append(len(keys)) or real_mget(keys, *rest))
    monkeypatch.setattr(runtime.redis, "get", lambda *_: pytest.fail("a record read on its own"))
    page = client.get("/requests?limit=6", headers=submitter).json()
    assert [i["ticket"] for i in page["items"]] == [f"R-{n}" for n in range(6)] and calls == [6]


def test_the_certificate_as_stored_or_as_an_escaped_page(client, submitter, runtime):
    submit(client, submitter)
    assert client.get("/requests/T-1/certificate", headers=submitter).status_code == 404
    record = runtime.store.find_by_ticket("T-1")
    stored = json.dumps({"ticket": "T-1", "outcome": "completed", "approval": {"by": "<script>x</script>"}})
    runtime.redis.set(runtime.keys.certificate(record.request_id), stored)
    as_json = client.get("/requests/T-1/certificate", headers=submitter)
    assert as_json.headers["content-type"].startswith("application/json") and as_json.text == stored
    page = client.get("/requests/T-1/certificate", headers={**submitter, "Accept": "text/html,*/*"})
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="ticket">T-1<' in page.text and "<script>x" not in page.text and "&lt;script&gt;" in page.text


def test_a_path_ticket_outside_the_pattern_is_422(client, submitter):
    assert client.get("/requests/T%E2%80%8B1", headers=submitter).status_code == 422


# --- Redis down ----------------------------------------------------------------------------------------

def test_redis_down_is_503_with_retry_after_and_a_json_error(client, runtime, submitter, monkeypatch):
    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr(runtime.redis, "hgetall", down)
    answer = client.get("/requests", headers=submitter)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json()["errors"][0].startswith("service: the request store is unreachable")
    assert "Traceback" not in answer.text and "6379" not in answer.text


def test_the_openapi_document_names_the_bearer_scheme_and_the_model_limits(client, approver):
    schema = client.get("/openapi.json", headers=approver).json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    body = schema["components"]["schemas"]["SubmitRequest"]
    assert body["additionalProperties"] is False and body["properties"]["emails"]["maxItems"] == 20
    assert "/openapi.json" not in schema["paths"]


def test_the_schema_needs_a_key_and_no_docs_page_is_served(client, keys):
    """The docs pages loaded JavaScript from a CDN on the console's origin, and the schema was open to anyone:
    no docs page at all, and the schema (what the API accepts, every route) only for a valid key, any scope."""
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        answer = client.get(path)
        assert answer.status_code == 404 and "cdn.jsdelivr.net" not in answer.text, path
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers={"Authorization": "Bearer ek_0123456789ab_" + "A" * 43}).status_code == 401
    metrics_only = bearer(keys, "prometheus", "metrics:read")
    answer = client.get("/openapi.json", headers=metrics_only)
    assert answer.status_code == 200 and answer.json()["openapi"].startswith("3.")


def test_a_stored_request_is_sent_to_discovery_once(client, submitter, sent, runtime):
    request_id = submit(client, submitter).json()["request_id"]
    assert sent == [(DISCOVER_TASK, [[request_id]])]


def test_pre_approval_trust_is_by_key_id_so_a_new_key_under_a_revoked_name_does_not_inherit_it(
        client, runtime, keys, sent):
    old = keys.create("dsar-upstream", ["requests:submit"])
    runtime.settings.preapprove_keys = [old[0].key_id, "dsar-upstream"]  # a name in the list trusts nobody
    try:
        keys.revoke("dsar-upstream")
        new = keys.create("dsar-upstream", ["requests:submit"])
        answer = submit(client, {"Authorization": f"Bearer {new[1]}"}, ticket="R-1", approved_by="someone")
    finally:
        runtime.settings.preapprove_keys = []
    assert answer.status_code == 422 and answer.json()["errors"][0].startswith("approved_by: refused")
