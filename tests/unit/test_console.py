"""The web console without a browser (FastAPI's TestClient on fakeredis): who may sign in, what the
session cookie is, CSRF on every form, masking and its audited reveal, four eyes by person, and that
signed out every page leads to the sign-in page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from services.console.masking import mask_email, mask_phone
from services.console.sessions import COOKIE
from shared import celery_app
from shared.api_keys import ApiKeyError, ApiKeyStore, split_token
from shared.models import RequestState, Subject
from shared.task_names import DELETE_TASK
from tests.support.intake_client import intake_client
from tests.support.legacy_keys import stored_before_the_rule
from tests.support.records import put_state

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def sent(monkeypatch):
    calls = []

    def send_task(name, args=None, **kw):
        if name == DELETE_TASK:
            calls.append(args)

    monkeypatch.setattr(celery_app.app, "send_task", send_task)  # every stage send goes through the one app
    return calls


@pytest.fixture
def keys(runtime):
    return ApiKeyStore(runtime.redis, runtime.keys)


@pytest.fixture
def client(runtime, sent):
    with intake_client(runtime) as test_client:
        test_client.base_url = "http://127.0.0.1"  # local plain http: the one case a cookie is not Secure
        yield test_client


def person(keys, name, *scopes):
    return keys.create(name, list(scopes or ("requests:read", "requests:approve")), person=True)[1]


def sign_in(client, token):
    """Sign in as a browser would: the form (its token and cookie), then the post."""
    form = client.get("/console/sign-in")
    answer = client.post("/console/sign-in", data={"csrf": CSRF.search(form.text).group(1), "key": token},
                         follow_redirects=False)
    return answer


def csrf_of(client, path="/console/"):
    return CSRF.search(client.get(path).text).group(1)


def waiting(client, runtime, keys, ticket="CON-1", submitter=None):
    """A request submitted over the API by a service key, waiting at the gate."""
    token = submitter or keys.create(f"upstream-{ticket}", ["requests:submit"])[1]
    answer = client.post("/requests", json={"ticket": ticket, "emails": ["jane@example.org"],
                                            "phones": ["+447911123456"]},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["request_id"]
    runtime.store.update(request_id, identity=Subject(emails=["jane@example.org"], phones=["+447911123456"]),
                         conversation_ids=["c-1"])
    put_state(runtime, request_id, RequestState.AWAITING_APPROVAL)
    client.cookies.clear()
    return request_id


def test_masks_keep_enough_to_recognise_and_no_more():
    assert mask_email("jane@example.org") == "j\u2022\u2022\u2022@e\u2022\u2022\u2022.org"
    # The person's own domain is as telling as the local part: only its first character and last label show.
    assert mask_email("jane@janedoe.name") == "j\u2022\u2022\u2022@j\u2022\u2022\u2022.name"
    assert mask_email("jane@mail.janedoe.co.uk") == "j\u2022\u2022\u2022@m\u2022\u2022\u2022.uk"
    assert mask_email("jane@localhost") == "j\u2022\u2022\u2022@l\u2022\u2022\u2022"
    assert mask_phone("+447911123123") == "+44 \u2022\u2022\u2022\u2022 \u2022\u2022\u2022 123"


def test_a_person_key_signs_in_with_a_random_httponly_strict_cookie_and_a_service_key_does_not(client, runtime, keys):
    token = person(keys, "dpo-anna")
    answer = sign_in(client, token)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    parts = split_token(token)
    assert parts is not None and parts[1] and parts[1] not in cookie and token not in cookie
    assert "Secure" not in cookie  # plain HTTP to a loopback host here; anywhere else it is
    assert client.get("/console/").status_code == 200
    # Nothing of the key in the session Redis keeps, and it expires.
    [session_key] = list(runtime.redis.scan_iter(runtime.keys.console_session("*")))
    assert runtime.redis.ttl(session_key) > 0
    assert token not in str(runtime.redis.hgetall(session_key))

    client.cookies.clear()
    service = keys.create("dsar-tool", ["requests:read", "requests:approve"])[1]
    refused = sign_in(client, service)
    assert refused.status_code == 303 and "failed" in refused.headers["location"]
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_over_tls_or_when_the_setting_says_tls_ends_before_us(client, runtime, keys):
    client.base_url = "https://testserver"
    assert "Secure" in sign_in(client, person(keys, "dpo-anna")).headers["set-cookie"]


@pytest.mark.parametrize(("base", "headers", "setting", "secure"), [
    ("http://intake.example.org", {}, True, True),  # the default, behind a TLS-terminating proxy
    ("http://127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, True, True),  # a proxy on the same host
    ("http://[::1]", {}, True, False),  # local development, straight to loopback
    ("http://localhost", {}, True, False),
    ("http://intake.example.org", {}, False, False),  # the setting opts out
    ("https://intake.example.org", {}, False, True),  # over TLS whatever the setting
])
def test_the_cookie_is_secure_by_default_except_over_plain_http_straight_to_loopback(client, runtime, base, headers,
                                                                                        setting, secure):
    assert type(runtime.settings).model_fields["console_cookie_secure"].default is True
    runtime.settings.console_cookie_secure = setting
    client.base_url = base
    assert ("Secure" in client.get("/console/sign-in", headers=headers).headers["set-cookie"]) is secure


def test_a_session_ends_once_older_than_its_lifetime_however_much_it_is_used(client, runtime, keys):
    sign_in(client, person(keys, "dpo-anna"))
    assert client.get("/console/", follow_redirects=False).status_code == 200
    [session_key] = list(runtime.redis.scan_iter(runtime.keys.console_session("*")))
    started = datetime.now(UTC) - timedelta(seconds=runtime.settings.console_session_ttl_s + 60)
    runtime.redis.hset(session_key, "started_at", started.isoformat())  # used all along: its TTL was renewed
    answer = client.get("/console/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"
    assert not runtime.redis.exists(session_key)


@pytest.mark.parametrize("path", ["/console/", "/console/approvals", "/console/holds", "/console/dead-letters",
                                  "/console/requests/CON-1", "/console/requests/CON-1/certificate"])
def test_signed_out_every_page_leads_to_sign_in(client, path):
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


def test_signing_out_ends_the_session_in_redis(client, runtime, keys):
    sign_in(client, person(keys, "dpo-anna"))
    cookie = client.cookies.get(COOKIE)
    answer = client.post("/console/sign-out", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert answer.status_code == 303
    client.cookies.set(COOKIE, cookie, path="/console")  # a copied cookie is worth nothing now
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_its_sessions(client, keys):
    sign_in(client, person(keys, "dpo-anna"))
    keys.revoke("dpo-anna")
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client, runtime, keys, sent):
    waiting(client, runtime, keys)
    sign_in(client, person(keys, "dpo-anna"))
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf": "forged"}):
        answer = client.post("/console/requests/CON-1/decide", data=data)
        assert answer.status_code == 403 and "security token" in answer.text
    assert runtime.store.find_by_ticket("CON-1").approval is None and sent == []
    assert client.post("/console/sign-out", data={}).status_code == 403
    assert client.post("/console/sign-in", data={"key": "x"}).status_code == 403  # the sign-in form too


def test_the_queue_shows_identifiers_masked_and_the_scope_to_approve(client, runtime, keys):
    waiting(client, runtime, keys)
    sign_in(client, person(keys, "dpo-anna"))
    page = client.get("/console/approvals").text
    assert "jane@example.org" not in page and "7911123456" not in page
    assert "j\u2022\u2022\u2022@e\u2022\u2022\u2022.org" in page and "example.org" not in page
    assert "+44 \u2022\u2022\u2022\u2022 \u2022\u2022\u2022 456" in page
    assert re.search(r'name="scope" value="hmac-sha256:[0-9a-f]{64}"', page)


def test_four_eyes_the_person_behind_the_submitting_key_cannot_approve(client, runtime, keys, sent):
    anna = person(keys, "dpo-anna")
    upstream = keys.create("dsar-tool", ["requests:submit"], owner="DPO-Anna")[1]  # names: any case
    waiting(client, runtime, keys, submitter=upstream)
    sign_in(client, anna)
    page = client.get("/console/approvals").text
    assert "four eyes" in page and re.search(r'class="approve" disabled', page)
    scope = re.search(r'name="scope" value="([^"]+)"', page).group(1)
    answer = client.post("/console/requests/CON-1/decide",
                         data={"csrf": csrf_of(client), "decision": "approve", "scope": scope})
    assert answer.status_code == 403 and runtime.store.find_by_ticket("CON-1").approval is None and sent == []

    client.cookies.clear()
    sign_in(client, person(keys, "dpo-ben"))
    answer = client.post("/console/requests/CON-1/decide",
                         data={"csrf": csrf_of(client), "decision": "approve", "scope": scope}, follow_redirects=False)
    assert answer.status_code == 303
    record = runtime.store.find_by_ticket("CON-1")
    assert record.approval.by == "dpo-ben" and record.approval.via == "console" and record.approval.scope.digest == scope
    assert record.state is RequestState.DELETING and sent == [[[record.request_id]]]


def test_an_approval_is_bound_to_the_scope_the_page_showed(client, runtime, keys, sent):
    request_id = waiting(client, runtime, keys)
    sign_in(client, person(keys, "dpo-ben"))
    scope = re.search(r'name="scope" value="([^"]+)"', client.get("/console/approvals").text).group(1)
    runtime.store.update(request_id, conversation_ids=["c-1", "c-2"])  # widened since the page was read
    answer = client.post("/console/requests/CON-1/decide", data={"csrf": csrf_of(client), "decision": "approve",
                                                                 "scope": scope})
    assert answer.status_code == 409 and runtime.store.get(request_id).approval is None and sent == []


def test_a_console_approval_without_the_scope_the_page_showed_is_refused(client, runtime, keys, sent):
    request_id = waiting(client, runtime, keys)
    sign_in(client, person(keys, "dpo-ben"))
    for missing in ({}, {"scope": " "}):
        answer = client.post("/console/requests/CON-1/decide",
                             data={"csrf": csrf_of(client), "decision": "approve", **missing})
        assert answer.status_code == 422 and "scope" in answer.text
    assert runtime.store.get(request_id).approval is None and sent == []


def test_a_rejection_needs_a_reason_and_ends_the_request(client, runtime, keys):
    request_id = waiting(client, runtime, keys)
    sign_in(client, person(keys, "dpo-ben"))
    assert client.post("/console/requests/CON-1/decide",
                       data={"csrf": csrf_of(client), "decision": "reject", "reason": " "}).status_code == 422
    client.post("/console/requests/CON-1/decide",
                data={"csrf": csrf_of(client), "decision": "reject", "reason": "not verified"})
    record = runtime.store.get(request_id)
    assert record.state is RequestState.REJECTED and "not verified" in (record.reason or "")
    assert [e["event"] for e in runtime.audit.entries_for(request_id)].count("approval.rejected") == 1


def test_a_rejection_reason_keeps_no_name_of_the_subject(client, runtime, keys):
    request_id = waiting(client, runtime, keys)
    runtime.store.update(request_id, identity=Subject(emails=["jane@example.org"], phones=["+447911123456"],
                                                      names=["Jane Marlowe"]))
    sign_in(client, person(keys, "dpo-ben"))
    client.post("/console/requests/CON-1/decide", data={
        "csrf": csrf_of(client), "decision": "reject", "reason": "Jane Marlowe withdrew; spoke to Jane Marlowe"})
    record = runtime.store.get(request_id)
    assert record.state is RequestState.REJECTED and "withdrew" in (record.reason or "")
    assert "Marlowe" not in (record.reason or "") and "Marlowe" not in json.dumps(runtime.audit.entries())


def test_deciding_needs_the_approve_scope(client, runtime, keys):
    waiting(client, runtime, keys)
    sign_in(client, person(keys, "reader", "requests:read"))
    assert 'class="approve"' not in client.get("/console/approvals").text
    answer = client.post("/console/requests/CON-1/decide", data={"csrf": csrf_of(client), "decision": "approve"})
    assert answer.status_code == 403 and runtime.store.find_by_ticket("CON-1").approval is None


def test_revealing_an_identifier_needs_its_scope_and_is_audited_without_the_value(client, runtime, keys):
    request_id = waiting(client, runtime, keys)
    sign_in(client, person(keys, "reader", "requests:read"))
    page = client.get("/console/requests/CON-1").text
    assert "jane@example.org" not in page and ">Reveal<" not in page
    form = {"csrf": csrf_of(client), "kind": "emails", "position": "0"}
    assert client.post("/console/requests/CON-1/reveal", data=form).status_code == 403

    client.cookies.clear()
    sign_in(client, person(keys, "dpo-anna", "requests:read", "identifiers:reveal"))
    assert ">Reveal<" in client.get("/console/requests/CON-1").text
    answer = client.post("/console/requests/CON-1/reveal", data={**form, "csrf": csrf_of(client)})
    assert answer.status_code == 200 and "jane@example.org" in answer.text and "7911123456" not in answer.text
    [entry] = [e for e in runtime.audit.entries_for(request_id) if e["event"] == "console.identifier_revealed"]
    assert entry["details"]["kind"] == "emails" and "jane" not in str(entry)


def test_revealing_needs_requests_read_too_the_answer_is_the_whole_page(client, runtime, keys):
    request_id = waiting(client, runtime, keys)
    sign_in(client, person(keys, "revealer", "identifiers:reveal"))
    answer = client.post("/console/requests/CON-1/reveal",
                         data={"csrf": csrf_of(client), "kind": "emails", "position": "0"})
    assert answer.status_code == 403 and "jane@example.org" not in answer.text and "CON-1" not in answer.text
    assert [e for e in runtime.audit.entries_for(request_id) if e["event"] == "console.identifier_revealed"] == []


def test_replaying_needs_requests_read_too(client, runtime, keys, monkeypatch):
    monkeypatch.setattr(runtime.settings, "webhook_secret", SecretStr("w" * 32))
    for n in range(26):  # malformed: refused and left parked, so two pages of them after the replay
        runtime.redis.hset(runtime.keys.webhook_dead_letters, f"msg_{n:02d}", "{}")
    sign_in(client, person(keys, "replayer", "webhooks:replay"))
    assert client.post("/console/dead-letters/replay", data={"csrf": csrf_of(client)}).status_code == 403
    assert runtime.redis.hlen(runtime.keys.webhook_dead_letters) == 26


def test_the_page_after_a_replay_links_to_the_list_not_the_post_only_replay(client, runtime, keys, monkeypatch):
    monkeypatch.setattr(runtime.settings, "webhook_secret", SecretStr("w" * 32))
    for n in range(26):  # malformed: refused and left parked, so two pages of them after the replay
        runtime.redis.hset(runtime.keys.webhook_dead_letters, f"msg_{n:02d}", "{}")
    sign_in(client, person(keys, "dpo-ben", "requests:read", "webhooks:replay"))
    page = client.post("/console/dead-letters/replay", data={"csrf": csrf_of(client)})
    assert page.status_code == 200 and 'href="/console/dead-letters?page=2"' in page.text
    assert "/console/dead-letters/replay?page" not in page.text


def test_a_final_request_shows_its_digest_only(client, runtime, keys):
    request_id = waiting(client, runtime, keys)
    runtime.store.update(request_id, reason="done")
    put_state(runtime, request_id, RequestState.COMPLETED)
    sign_in(client, person(keys, "dpo-anna", "requests:read", "identifiers:reveal"))
    page = client.get("/console/requests/CON-1").text
    assert "\u2022" not in page and "jane" not in page and ">Reveal<" not in page
    assert runtime.store.get(request_id).subject_digest in page


def test_holds_are_added_and_removed_through_the_register_with_the_scope(client, runtime, keys):
    token = person(keys, "dpo-anna", "requests:read", "holds:write")
    sign_in(client, token)
    client.post("/console/holds", data={"csrf": csrf_of(client), "kind": "email", "value": "Jane@Example.org",
                                        "reason": "litigation 42", "expires": "2030-01-01"})
    [hold] = runtime.holds().all()
    assert hold.kind == "subject" and hold.reason == "litigation 42" and hold.expires_at.year == 2030
    page = client.get("/console/holds").text
    assert "litigation 42" in page and "jane" not in page.lower()
    assert client.post(f"/console/holds/{hold.id}/remove", data={"csrf": csrf_of(client)}).status_code == 422
    client.post(f"/console/holds/{hold.id}/remove", data={"csrf": csrf_of(client), "reason": "case settled"})
    assert runtime.holds().all() == []
    added, removed = runtime.audit.entries()[-2:]
    assert (added["event"], removed["event"], removed["details"]["reason"]) == ("hold.added", "hold.removed", "case settled")
    key_id = token.split("_")[1]
    for entry in (added, removed):  # who changed the register, by key name and id
        assert (entry["details"]["by"], entry["details"]["key_id"]) == ("dpo-anna", key_id)


def test_the_console_refuses_a_past_expiry_and_keeps_a_given_offset(client, runtime, keys):
    sign_in(client, person(keys, "dpo-anna", "requests:read", "holds:write"))
    past = client.post("/console/holds", data={"csrf": csrf_of(client), "kind": "conversation", "value": "c-1",
                                               "reason": "case", "expires": "2020-01-01"})
    assert past.status_code == 422 and "expires" in past.text and runtime.holds().all() == []
    client.post("/console/holds", data={"csrf": csrf_of(client), "kind": "conversation", "value": "c-1",
                                        "reason": "case", "expires": "2030-01-01T01:00:00+02:00"})
    [hold] = runtime.holds().all()
    assert hold.expires_at.isoformat() == "2029-12-31T23:00:00+00:00"


def test_a_hold_needs_holds_write(client, runtime, keys):
    sign_in(client, person(keys, "reader", "requests:read"))
    answer = client.post("/console/holds", data={"csrf": csrf_of(client), "kind": "conversation", "value": "c-9",
                                                 "reason": "r"})
    assert answer.status_code == 403 and runtime.holds().all() == []


def test_the_overview_counts_states_deadlines_and_dead_letters(client, runtime, keys):
    waiting(client, runtime, keys)
    runtime.redis.hset(runtime.keys.webhook_dead_letters, "msg_x", "{}")
    sign_in(client, person(keys, "dpo-anna"))
    page = client.get("/console/").text
    assert 'id="awaiting-count">1<' in page and 'id="dead-count">1<' in page and "<svg" in page
    assert 'id="overdue-count">0<' in page


def test_the_api_refuses_the_person_behind_the_submitting_service_key_too(client, runtime, keys, sent):
    """Four eyes by person is one rule for the API and the console (services.intake.approve)."""
    anna = person(keys, "dpo-anna")
    upstream = keys.create("dsar-tool", ["requests:submit"], owner="dpo-anna")[1]
    waiting(client, runtime, keys, submitter=upstream)
    answer = client.post("/requests/CON-1/approve", headers={"Authorization": f"Bearer {anna}"})
    assert answer.status_code == 403 and runtime.store.find_by_ticket("CON-1").approval is None
    ben = person(keys, "dpo-ben")
    assert client.post("/requests/CON-1/approve", headers={"Authorization": f"Bearer {ben}"}).status_code == 200


def test_a_key_says_whether_it_is_a_person_and_whom_a_service_key_answers_to(keys):
    _, person_token = keys.create("dpo-anna", ["requests:read"], person=True)
    _, service_token = keys.create("dsar-tool", ["requests:submit"], owner="dpo-anna")
    assert keys.verify(person_token).principal.is_person and keys.verify(person_token).principal.person == "dpo-anna"
    service = keys.verify(service_token).principal
    assert not service.is_person and service.person == "dpo-anna"
    assert [(k.name, k.kind, k.owner) for k in keys.all()] == [("dpo-anna", "person", None),
                                                                ("dsar-tool", "service", "dpo-anna")]


def test_a_service_key_owner_must_be_a_live_person_key_and_names_compare_in_any_case(keys):
    with pytest.raises(ApiKeyError, match="owner: no live person key"):
        keys.create("dsar-tool", ["requests:submit"], owner="dpo-anna")  # nobody by that name yet
    keys.create("svc", ["requests:read"])
    with pytest.raises(ApiKeyError, match="owner: no live person key"):
        keys.create("dsar-tool", ["requests:submit"], owner="svc")  # a service key is nobody's person
    keys.create("dpo-anna", ["requests:read"], person=True)
    with pytest.raises(ApiKeyError, match="one person key per human"):
        keys.create("DPO-Anna", ["requests:read"], person=True)
    info, token = keys.create("dsar-tool", ["requests:submit"], owner="DPO-ANNA")
    assert info.owner == "dpo-anna" and keys.verify(token).principal.person == "dpo-anna"
    keys.revoke("dpo-anna")
    with pytest.raises(ApiKeyError, match="owner: no live person key"):
        keys.create("crm", ["requests:submit"], owner="dpo-anna")
    assert keys.create("DPO-Anna", ["requests:read"], person=True)[0].kind == "person"  # the name is free again


def test_four_eyes_compares_person_names_in_any_case(client, runtime, keys, sent):
    """A person key made before the rule, whose name differs only in case from a service key's owner."""
    anna = person(keys, "dpo-anna")
    upstream = keys.create("dsar-tool", ["requests:submit"], owner="dpo-anna")[1]
    runtime.redis.hset(runtime.keys.api_key(upstream.split("_")[1]), "owner", "DPO-Anna")
    waiting(client, runtime, keys, submitter=upstream)
    answer = client.post("/requests/CON-1/approve", headers={"Authorization": f"Bearer {anna}"})
    assert answer.status_code == 403 and runtime.store.find_by_ticket("CON-1").approval is None
    sign_in(client, anna)
    assert re.search(r'class="approve" disabled', client.get("/console/approvals").text)


def test_two_stored_person_keys_whose_names_differ_only_in_case_are_one_person_for_four_eyes(client, runtime, keys,
                                                                                              sent):
    """Person keys made before a second one under one name was refused: one human holding both cannot
    submit with one and approve (or reject) with the other, in the API or the console."""
    _, upper = stored_before_the_rule(runtime, keys, "DPO-Anna", ["requests:submit", "requests:read"])
    _, lower = stored_before_the_rule(runtime, keys, "dpo-anna", ["requests:read", "requests:approve"])
    waiting(client, runtime, keys, submitter=upper)
    answer = client.post("/requests/CON-1/approve", headers={"Authorization": f"Bearer {lower}"})
    assert answer.status_code == 403 and runtime.store.find_by_ticket("CON-1").approval is None
    sign_in(client, lower)
    page = client.get("/console/approvals").text
    assert re.search(r'class="approve" disabled', page)
    scope = re.search(r'name="scope" value="([^"]+)"', page).group(1)
    for decision in ({"decision": "approve", "scope": scope}, {"decision": "reject", "reason": "not mine"}):
        answer = client.post("/console/requests/CON-1/decide", data={"csrf": csrf_of(client), **decision})
        assert answer.status_code == 403
    record = runtime.store.find_by_ticket("CON-1")
    assert record.approval is None and record.state is RequestState.AWAITING_APPROVAL and sent == []
    ben = person(keys, "dpo-ben")
    assert client.post("/requests/CON-1/approve", headers={"Authorization": f"Bearer {ben}"}).status_code == 200


def test_a_service_key_owned_by_one_spelling_cannot_be_approved_by_the_other_stored_person_key(client, runtime, keys,
                                                                                              sent):
    stored_before_the_rule(runtime, keys, "DPO-Anna", ["requests:read"])
    upstream = keys.create("dsar-tool", ["requests:submit"], owner="DPO-Anna")[1]
    _, lower = stored_before_the_rule(runtime, keys, "dpo-anna", ["requests:read", "requests:approve"])
    waiting(client, runtime, keys, submitter=upstream)
    answer = client.post("/requests/CON-1/approve", headers={"Authorization": f"Bearer {lower}"})
    assert answer.status_code == 403 and runtime.store.find_by_ticket("CON-1").approval is None and sent == []


def test_signing_in_again_ends_the_earlier_session(client, keys):
    token = person(keys, "dpo-anna")
    sign_in(client, token)
    first = client.cookies.get(COOKIE)
    sign_in(client, token)
    assert client.cookies.get(COOKIE) != first
    client.cookies.set(COOKIE, first, path="/console")
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_pages_carry_a_strict_content_security_policy(client, keys):
    sign_in(client, person(keys, "dpo-anna"))
    policy = client.get("/console/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_lists_are_paginated(client, runtime, keys):
    for n in range(30):
        runtime.holds().add_conversation(f"conv-{n:02d}", f"reason {n}")
    sign_in(client, person(keys, "dpo-anna"))
    first, second = client.get("/console/holds").text, client.get("/console/holds?page=2").text
    assert first.count("<code>conv-") == 25 and second.count("<code>conv-") == 5
    assert 'href="/console/holds?page=2"' in first and "Page 2 of 2" in second
    assert client.get("/console/holds?page=0").status_code == 422


def test_the_request_page_reads_its_timeline_from_the_audit_index_not_the_whole_log(client, runtime, keys, monkeypatch):
    waiting(client, runtime, keys)
    sign_in(client, person(keys, "dpo-ben"))
    client.post("/console/requests/CON-1/decide", data={"csrf": csrf_of(client), "decision": "reject", "reason": "no"})

    def whole_log(*_):
        raise AssertionError("read the whole audit log")

    monkeypatch.setattr(runtime.audit, "entries_for", whole_log)
    timeline = re.search(r'<ol class="timeline" id="timeline">(.*?)</ol>', client.get("/console/requests/CON-1").text, re.S)
    assert "approval.rejected" in timeline.group(1) and "by dpo-ben" in timeline.group(1)


def test_refused_sign_ins_are_audited_by_key_once_a_minute_and_never_with_the_key(client, runtime, keys):
    service = keys.create("dsar-tool", ["requests:read"])[1]
    for _ in range(3):
        assert "failed" in sign_in(client, service).headers["location"]
    refused = [e for e in runtime.audit.entries() if e["event"] == "console.sign_in_refused"]
    assert len(refused) == 1 and refused[0]["details"] == {"reason": "not_a_person", "key_id": service.split("_")[1]}
    assert service not in str(runtime.audit.entries())


def test_a_hold_reason_typed_with_controls_is_kept_on_one_line_without_them(client, runtime, keys):
    """What is typed in the console reaches `erasure hold list`, the audit log and certificates: no escape
    sequence, bidi override or line break is kept (whitespace controls become a space, the others go)."""
    sign_in(client, person(keys, "dpo-anna", "requests:read", "holds:write"))
    client.post("/console/holds", data={"csrf": csrf_of(client), "kind": "conversation", "value": "c-1",
                                        "reason": "litigation\r\n42 \x1b[2J\x1b]0;PWNED\x07\u202e done"})
    [hold] = runtime.holds().all()
    assert hold.reason == "litigation  42 [2J]0;PWNED done"
    assert runtime.audit.entries()[-1]["details"]["reason"] == hold.reason


def test_a_rejection_reason_typed_with_controls_is_kept_without_them(client, runtime, keys):
    request_id = waiting(client, runtime, keys)
    sign_in(client, person(keys, "dpo-ben"))
    client.post("/console/requests/CON-1/decide",
                data={"csrf": csrf_of(client), "decision": "reject", "reason": "dup \x1b[2J\x1b[31mFAKE:\napproved\x9b"})
    reason = runtime.store.get(request_id).reason or ""
    assert reason.endswith("dup [2J[31mFAKE: approved")
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in reason)
