"""Per-request callback URLs: refused at every door unless the host is on the deployment's allow-list,
https unless the host is allowed over http; errors name the field and never repeat the URL (its query
may hold a token)."""

from __future__ import annotations

import pytest

from services.intake.http_models import SubmitRequest
from services.intake.validation import IntakeError, parse_request
from shared import celery_app
from shared.callbacks import CallbackPolicy, CallbackRefused, host_allowed

POLICY = CallbackPolicy(hosts=("hooks.dsar.example", ".corp.example"), http_hosts=("127.0.0.1",))
TOKEN = "s3cr3t-t0ken"


def payload(url: str) -> dict[str, object]:
    return {"ticket": "CB-1", "emails": ["jane@example.org"], "callback_url": url}


def refused(url: str, policy: CallbackPolicy | None = POLICY) -> list[str]:
    with pytest.raises(IntakeError) as info:
        parse_request(payload(url), callback_policy=policy)
    errors = info.value.errors
    assert all(e.startswith("callback_url: ") for e in errors), errors
    assert TOKEN not in str(info.value) and "evil" not in str(info.value)
    return errors


def test_an_allowed_https_host_is_kept_on_the_record():
    url = f"https://hooks.dsar.example/erasure/done?token={TOKEN}"
    assert parse_request(payload(url), callback_policy=POLICY).callback_url == url


def test_a_port_is_allowed():
    url = "https://hooks.dsar.example:8443/done"
    assert parse_request(payload(url), callback_policy=POLICY).callback_url == url


def test_a_leading_dot_entry_allows_subdomains_only():
    assert parse_request(payload("https://a.b.corp.example/x"), callback_policy=POLICY).callback_url
    assert refused(f"https://corp.example/x?token={TOKEN}")
    assert refused(f"https://evilcorp.example/x?token={TOKEN}")
    assert refused(f"https://corp.example.evil.test/x?token={TOKEN}")


@pytest.mark.parametrize(("host", "patterns", "allowed"), [
    ("Hooks.DSAR.example", ["hooks.dsar.example"], True),
    ("hooks.dsar.example.", ["hooks.dsar.example"], True),
    ("x.hooks.dsar.example", ["hooks.dsar.example"], False),
    ("x.y.example", [".y.example"], True),
    ("y.example", [".y.example"], False),
    ("xy.example", [".y.example"], False),
    ("anything", ["."], False),
    ("anything", [""], False),
])
def test_host_matching(host, patterns, allowed):
    assert host_allowed(host, patterns) is allowed


def test_http_is_refused_unless_the_host_is_allowed_over_http():
    assert refused(f"http://hooks.dsar.example/done?token={TOKEN}") == [
        "callback_url: must be https (http only to a host in ERASURE_CALLBACK_HTTP_HOSTS)"]
    url = "http://127.0.0.1:8081/done"
    assert parse_request(payload(url), callback_policy=POLICY).callback_url == url


def test_userinfo_is_refused():
    assert refused(f"https://user:{TOKEN}@hooks.dsar.example/done") == [
        "callback_url: must not carry a user name or password"]
    assert refused(f"https://{TOKEN}@hooks.dsar.example/done")


def test_a_host_not_on_the_list_is_refused():
    assert refused(f"https://evil.test/done?token={TOKEN}") == [
        "callback_url: refused: its host is not in ERASURE_CALLBACK_HOSTS"]


@pytest.mark.parametrize("url", [
    f"https://hooks.dsar.example\\@evil.test/?token={TOKEN}",  # parsers disagree on the host
    f"https://evil.test#@hooks.dsar.example/?token={TOKEN}",
    f"https://hooks.dsar.example\t.evil.test/?token={TOKEN}",
    f"ftp://hooks.dsar.example/?token={TOKEN}",
    f"hooks.dsar.example/done?token={TOKEN}",
    f"/relative?token={TOKEN}",
    f"https://hooks.dsar.example:99999/?token={TOKEN}",
    f"javascript:alert('{TOKEN}')",
])
def test_tricky_urls_are_refused(url):
    assert refused(url)


def test_without_an_allow_list_every_callback_is_refused():
    for policy in (CallbackPolicy(), None):
        assert refused(f"https://hooks.dsar.example/done?token={TOKEN}", policy) == [
            "callback_url: refused: this deployment allows no callback URLs (ERASURE_CALLBACK_HOSTS is empty)"]


def test_a_request_without_callback_needs_no_allow_list():
    record = parse_request({"ticket": "CB-2", "emails": ["jane@example.org"]})
    assert record.callback_url is None


def test_length_is_capped():
    url = "https://hooks.dsar.example/" + "a" * 2048 + TOKEN
    errors = refused(url)
    assert errors and "2048" in errors[0]
    with pytest.raises(CallbackRefused):
        POLICY.check(url)


def test_the_http_model_accepts_the_field_and_caps_it():
    body = SubmitRequest.model_validate(payload("https://hooks.dsar.example/done"))
    assert body.callback_url == "https://hooks.dsar.example/done"
    with pytest.raises(ValueError) as info:
        SubmitRequest.model_validate(payload("https://hooks.dsar.example/" + TOKEN * 300))
    assert TOKEN not in str(info.value)


# --- through the doors: submit (every door) and the HTTP API ------------------------------------------

@pytest.fixture
def sent(monkeypatch):

    calls: list[tuple[str, list]] = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: calls.append((name, args)))
    return calls


@pytest.fixture
def callbacks_on(runtime, monkeypatch):
    from pydantic import SecretStr

    monkeypatch.setattr(runtime.settings, "callback_hosts", ["hooks.dsar.example"])
    monkeypatch.setattr(runtime.settings, "webhook_secret", SecretStr("w" * 32))
    return runtime


def test_submit_stores_the_url_and_audits_its_host_only(callbacks_on, sent):
    from services.intake.submit import submit

    runtime = callbacks_on
    url = f"https://hooks.dsar.example/done?token={TOKEN}"
    record = submit(runtime, payload(url))
    assert runtime.store.get(record.request_id).callback_url == url
    [entry] = [e for e in runtime.audit.entries() if e["event"] == "request.received"]
    assert entry["details"]["callback"] == "https://hooks.dsar.example"
    assert TOKEN not in repr(runtime.store.get(record.request_id))
    assert all(TOKEN not in str(e) for e in runtime.audit.entries())


def test_submit_refuses_a_callback_without_a_signing_secret(runtime, sent, monkeypatch):
    from services.intake.submit import submit

    monkeypatch.setattr(runtime.settings, "callback_hosts", ["hooks.dsar.example"])
    with pytest.raises(IntakeError) as info:
        submit(runtime, payload("https://hooks.dsar.example/done"))
    assert info.value.errors == [
        "callback_url: refused: this deployment has no webhook signing secret (ERASURE_WEBHOOK_SECRET)"]
    assert sent == [] and runtime.store.find_by_ticket("CB-1") is None


def test_submit_refuses_every_callback_by_default(runtime, sent):
    from services.intake.submit import submit

    with pytest.raises(IntakeError):
        submit(runtime, payload(f"https://hooks.dsar.example/done?token={TOKEN}"))
    assert sent == [] and runtime.store.find_by_ticket("CB-1") is None


@pytest.fixture
def http(callbacks_on, sent):
    from fastapi.testclient import TestClient

    from services.intake import api
    from services.intake.auth import current_runtime
    from shared.api_keys import ApiKeyStore

    api.app.dependency_overrides[current_runtime] = lambda: callbacks_on
    secret = ApiKeyStore(callbacks_on.redis, callbacks_on.keys).create("dsar-tool", ["requests:submit", "requests:read"])[1]
    yield TestClient(api.app), {"Authorization": f"Bearer {secret}"}
    api.app.dependency_overrides.clear()


def test_http_refuses_a_host_off_the_list_with_422_naming_the_field(http):
    client, headers = http
    answer = client.post("/requests", json=payload(f"https://evil.test/x?token={TOKEN}"), headers=headers)
    assert answer.status_code == 422
    assert answer.json() == {"errors": ["callback_url: refused: its host is not in ERASURE_CALLBACK_HOSTS"]}
    too_long = client.post("/requests", json=payload("https://hooks.dsar.example/" + TOKEN * 300), headers=headers)
    assert too_long.status_code == 422 and TOKEN not in too_long.text
    assert too_long.json()["errors"][0].startswith("callback_url:")


def test_http_status_shows_the_callback_host_only(http):
    client, headers = http
    url = f"https://hooks.dsar.example/done?token={TOKEN}"
    assert client.post("/requests", json=payload(url), headers=headers).status_code == 202
    view = client.get("/requests/CB-1", headers=headers)
    assert view.json()["callback"] == "https://hooks.dsar.example" and TOKEN not in view.text


def test_the_certificate_names_the_callback_host_only():
    from shared.certificate import build_certificate
    from shared.certificate_html import render_certificate_html

    record = parse_request(payload(f"https://hooks.dsar.example/done?token={TOKEN}"), callback_policy=POLICY)
    cert = build_certificate(record, "hmac-sha256:abc", None)
    assert cert["callback"] == "https://hooks.dsar.example" and TOKEN not in str(cert)
    assert "https://hooks.dsar.example" in render_certificate_html(cert)


# --- at delivery: the allow-list is checked again -----------------------------------------------------

@pytest.fixture
def wire(callbacks_on):
    """Where the sender's POSTs land: the URLs it was asked to send to."""
    import httpx

    urls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(204)

    callbacks_on._webhook_http = httpx.Client(transport=httpx.MockTransport(handle))
    return urls


def final_request(runtime, url: str):
    from datetime import UTC, datetime

    from shared.certificate import certificate_json
    from shared.models import ErasureRecord, RequestState, Subject

    record = runtime.store.create(ErasureRecord(ticket="CB-9", subject=Subject(emails=["x@example.org"]),
                                                verified_at=datetime.now(UTC), state=RequestState.COMPLETED,
                                                callback_url=url))
    runtime.redis.set(runtime.keys.certificate(record.request_id), certificate_json({"ticket": "CB-9"}))
    return record


class _Task:
    class request:  # the shape of a bound Celery task's ``self.request``
        retries = 0


def test_a_callback_written_into_redis_for_a_host_off_the_list_is_not_sent(callbacks_on, wire):
    from services.polling.tasks import deliver

    record = final_request(callbacks_on, f"http://127.0.0.1:9/internal-admin?token={TOKEN}")
    deliver(_Task(), callbacks_on, record.request_id, "callback")
    assert wire == []
    assert callbacks_on.webhooks().dead_letters() == []
    [refusal] = [e for e in callbacks_on.audit.entries() if e["event"] == "webhook.refused"]
    assert refusal["details"] == {"target": "callback"}  # the target's name: never its URL
    assert TOKEN not in str(refusal)


def test_an_allowed_callback_is_sent_signed_and_recorded_by_host(callbacks_on, wire):
    from services.polling.tasks import deliver
    from shared.certificate_store import deliveries

    url = f"https://hooks.dsar.example/done?token={TOKEN}"
    record = final_request(callbacks_on, url)
    key = callbacks_on.keys.certificate(record.request_id)
    issued = callbacks_on.redis.get(key)
    deliver(_Task(), callbacks_on, record.request_id, "callback")
    assert wire == [url]
    assert deliveries(callbacks_on.redis, callbacks_on.keys, record.request_id) == ["https://hooks.dsar.example"]
    assert callbacks_on.redis.get(key) == issued  # recorded beside the signed certificate, never in it


@pytest.mark.parametrize("url", ["https://hooks.dsar.example/done?contact=jane%40example.org",
                                 "https://hooks.dsar.example/done?contact=jane%2540example.org",
                                 "https://hooks.dsar.example/subjects/JANE@EXAMPLE.ORG/done"])
def test_a_callback_url_that_spells_the_subject_is_refused_it_is_kept_after_the_erasure(url):
    [error] = refused(url)
    assert "subject's own" in error and "jane" not in error


def test_a_callback_url_with_only_a_case_reference_is_kept():
    url = "https://hooks.dsar.example/done?case=CB-1&token=s3cr3t"
    assert parse_request(payload(url), callback_policy=POLICY).callback_url == url
