"""The HTTP intake over real HTTP (uvicorn in its own process, the real Redis): keys, four eyes, refusals
that enqueue nothing, a retried submit, a Redis outage, and the certificate as the CLI prints it."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from genesys_sim.config import SimConfig

from shared.api_keys import ApiKeyStore, split_token
from shared.models import RequestState
from tests.integration.test_intake_refusals import queued_request_ids
from tests.support.intake_api import create_key, running_api
from tests.support.private_redis import free_port
from tests.support.stack import running_stack, wait_final, wait_until

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture()
def idle_stack(tmp_path, redis_available):
    """Redis and settings, no workers: what is enqueued stays in the queue to be counted."""
    with running_stack(tmp_path, redis_available, SimConfig(subjects=1), pools=()) as stack:
        yield stack


@pytest.fixture()
def idle_api(idle_stack):
    with running_api(idle_stack.env, idle_stack.tmp / "logs") as url:
        yield idle_stack, url


ENDPOINTS = [("GET", "/ready"), ("POST", "/requests"), ("GET", "/requests"), ("GET", "/requests/T-1"),
             ("GET", "/requests/T-1/certificate"), ("POST", "/requests/T-1/approve")]


def test_no_key_is_401_on_every_endpoint_but_health(idle_api):
    stack, url = idle_api
    _, reader = create_key(stack, "reader", "requests:read")
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    for method, path in ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer ek_0123456789ab_" + "A" * 43}):
            answer = httpx.request(method, f"{url}{path}", headers=headers)
            assert answer.status_code == 401, (method, path)
            assert answer.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{url}/ready", headers=reader).json() == {"status": "ready"}
    assert httpx.get(f"{url}/openapi.json").status_code == 401  # the schema too: only /health is open
    assert httpx.get(f"{url}/openapi.json", headers=reader).json()["components"]["securitySchemes"]["ApiKey"][
        "scheme"] == "bearer"
    for docs in ("/docs", "/redoc"):  # no docs page (they load a CDN's JavaScript on the console's origin)
        assert httpx.get(f"{url}{docs}").status_code == 404


def test_refused_requests_enqueue_nothing_and_a_retry_returns_the_original(idle_api):
    stack, url = idle_api
    _, submitter = create_key(stack, "dsar-tool", "requests:submit", "requests:read")
    body = {"ticket": "H-1", "emails": ["jane@example.org"]}
    json_type = {**submitter, "Content-Type": "application/json"}

    def post(**kwargs):
        return httpx.post(f"{url}/requests", timeout=60, **kwargs)

    refusals = {
        "text/plain": (post(content=json.dumps(body), headers={**submitter, "Content-Type": "text/plain"}), 415),
        "form": (post(data={"ticket": "H-1"}, headers=submitter), 415),
        "20 MB": (post(content=b'{"ticket": "H-1", "names": ["' + b"x" * 20_000_000 + b'"]}', headers=json_type), 413),
        "depth 10,000": (post(content='{"ticket": "H-1", "emails": ' + "[" * 10_000 + "]" * 10_000 + "}",
                              headers=json_type), 400),
        "zero-width ticket": (post(json={**body, "ticket": "H-1\u200b"}, headers=submitter), 422),
        "control ticket": (post(json={**body, "ticket": "H-1\x1b[2J"}, headers=submitter), 422),
        "traversal user_id": (post(json={"ticket": "H-2", "user_id": "../externalcontacts/contacts/0000"},
                                   headers=submitter), 422),
        "approved_by": (post(json={**body, "approved_by": "myself"}, headers=submitter), 422),
        "unknown field": (post(json={**body, "colour": "blue"}, headers=submitter), 422),
    }
    for name, (answer, status) in refusals.items():
        assert answer.status_code == status, (name, answer.text)
        assert list(answer.json()) == ["errors"], name
        assert "jane" not in answer.text and "externalcontacts" not in answer.text and "myself" not in answer.text
    assert queued_request_ids(stack) == [] and stack.runtime.store.ids() == []

    first = post(json=body, headers=submitter)
    assert first.status_code == 202
    again = post(json=body, headers=submitter)
    assert again.status_code == 200 and again.json() == first.json()
    other = post(json={"ticket": "H-1", "emails": ["someone.else@example.org"]}, headers=submitter)
    assert other.status_code == 409 and "someone" not in other.text
    request_id = first.json()["request_id"]
    assert stack.runtime.store.ids() == [request_id]
    # The original, and once more for the retry while it still waited for discovery; nothing for the 409.
    assert queued_request_ids(stack) == [request_id, request_id]
    status = httpx.get(f"{url}/requests/H-1", headers=submitter).json()
    assert status["state"] == "received" and status["approved"] is False and "jane" not in json.dumps(status)


def test_redis_down_is_503_with_retry_after_and_no_traceback(idle_stack):
    env = {**idle_stack.env, "ERASURE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    with running_api(env, idle_stack.tmp / "logs") as url:
        headers = {"Authorization": "Bearer ek_0123456789ab_" + "A" * 43}
        # The Redis client rides out a restart first (shared.redis_conn: about 15 s of retries), then gives up.
        for answer in (httpx.get(f"{url}/ready", headers=headers, timeout=60),
                       httpx.post(f"{url}/requests", json={"ticket": "X-1", "emails": ["jane@example.org"]},
                                  headers=headers, timeout=60)):
            assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
            assert answer.json()["errors"][0].startswith("service: the request store is unreachable")
            assert "Traceback" not in answer.text
        assert httpx.get(f"{url}/health").status_code == 200
    log = next((idle_stack.tmp / "logs").glob("intake-api-*.log")).read_text()
    assert "jane" not in log
    assert any(json.loads(line).get("msg", "").startswith("intake API: Redis unreachable")
               for line in log.splitlines() if line.startswith("{"))


@pytest.fixture()
def gated_stack(tmp_path, redis_available):
    with running_stack(tmp_path, redis_available, SimConfig(subjects=2, seed=5, gdpr_step_s=0.1, rate_limit=6000)) as stack:
        yield stack


def test_four_eyes_over_http_and_the_certificate_names_the_approving_key(gated_stack):
    stack = gated_stack
    subject = httpx.get(f"{stack.sim_url}/_sim/subjects").json()[0]
    with running_api(stack.env, stack.tmp / "logs") as url:
        _, upstream = create_key(stack, "dsar-tool", "requests:submit", "requests:read", "requests:approve")
        _, submit_only = create_key(stack, "ticketing", "requests:submit")
        dpo_id, dpo = create_key(stack, "dpo-desk", "requests:approve", "requests:read")

        accepted = httpx.post(f"{url}/requests", json={"ticket": "FE-1", "emails": subject["emails"][:1]},
                              headers=upstream)
        assert accepted.status_code == 202, accepted.text
        request_id = accepted.json()["request_id"]
        store = stack.runtime.store
        wait_until(lambda: store.get(request_id).state is RequestState.AWAITING_APPROVAL, timeout_s=60,
                   message="the request to wait for approval")

        assert httpx.post(f"{url}/requests/FE-1/approve", headers=submit_only).status_code == 403
        own = httpx.post(f"{url}/requests/FE-1/approve", headers=upstream)
        assert own.status_code == 403 and "four eyes" in own.json()["errors"][0]
        assert store.get(request_id).approval is None

        approved = httpx.post(f"{url}/requests/FE-1/approve", headers=dpo)
        assert approved.status_code == 200, approved.text
        assert approved.json()["approved_by"] == "dpo-desk" and approved.json()["approved_by_key"] == dpo_id
        assert wait_final(stack, [request_id])[request_id] is RequestState.COMPLETED

        over_http = wait_until(lambda: (r := httpx.get(f"{url}/requests/FE-1/certificate", headers=dpo)).status_code
                               == 200 and r, timeout_s=30, message="the certificate over HTTP")
        cli = stack.cli("certificate", "FE-1")
        assert cli.returncode == 0, cli.stderr
        assert over_http.json() == json.loads(cli.stdout)
        assert over_http.json()["approval"]["by"] == "dpo-desk" and over_http.json()["approval"]["key_id"] == dpo_id
        page = httpx.get(f"{url}/requests/FE-1/certificate", headers={**dpo, "Accept": "text/html"})
        assert page.headers["content-type"].startswith("text/html") and 'id="ticket">FE-1<' in page.text
        assert dpo_id in page.text


def test_the_html_certificate_over_http_shows_the_ticket_in_chromium(tmp_path, redis_available):
    import re
    import subprocess

    from tests.support.chromium_required import require_chromium

    chromium = require_chromium()  # before the stack: without a browser nothing is started
    with running_stack(tmp_path, redis_available, SimConfig(subjects=1), pools=()) as stack, \
            running_api(stack.env, stack.tmp / "logs") as url:
        _, key = create_key(stack, "reader", "requests:submit", "requests:read")
        request_id = httpx.post(f"{url}/requests", json={"ticket": "HTML-1", "emails": ["a@example.org"]},
                                headers=key).json()["request_id"]
        # A certificate as the polling pool stores it, with a value that must be escaped, not run.
        certificate = {"ticket": "HTML-1", "request_id": request_id, "outcome": "completed", "complete": True,
                       "deadline_met": True, "approval": {"by": "<script>document.title='pwned'</script>"}}
        stack.runtime.redis.set(stack.runtime.keys.certificate(request_id), json.dumps(certificate))
        page = httpx.get(f"{url}/requests/HTML-1/certificate", headers={**key, "Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    path = tmp_path / "certificate.html"
    path.write_text(page.text)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=90, check=True).stdout
    assert "HTML-1" in re.sub(r"<[^>]+>", " ", dom)
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)


def test_the_console_sign_in_throttle_counts_the_address_uvicorn_trusts(idle_stack):
    """Over real uvicorn: from a proxy uvicorn trusts (the loopback, its default FORWARDED_ALLOW_IPS) each
    X-Forwarded-For client is counted apart; with the loopback not trusted, the header is nobody's to believe
    and every guess counts against the peer itself."""
    anna = ApiKeyStore(idle_stack.runtime.redis, idle_stack.runtime.keys).create("dpo-anna", ["requests:read"],
                                                                                 person=True)[1]
    guess = f"ek_{split_token(anna)[0]}_{'A' * 43}"
    env = {name: value for name, value in idle_stack.env.items() if name != "FORWARDED_ALLOW_IPS"}

    def attempt(client, url, key, forwarded_for):
        form = client.get(f"{url}/console/sign-in")  # straight from loopback: the form cookie comes back over http
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        return client.post(f"{url}/console/sign-in", data={"csrf": csrf, "key": key},
                           headers={"X-Forwarded-For": forwarded_for})

    with running_api(env, idle_stack.tmp / "logs") as url, httpx.Client() as client:
        for _ in range(10):
            assert attempt(client, url, guess, "203.0.113.7").status_code == 303
        refused = attempt(client, url, anna, "203.0.113.7")
        assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 300
        assert attempt(client, url, anna, "198.51.100.20").headers["location"] == "/console/"

    with running_api({**env, "FORWARDED_ALLOW_IPS": "192.0.2.1"}, idle_stack.tmp / "logs") as url, \
            httpx.Client() as client:
        for n in range(10):
            assert attempt(client, url, guess, f"192.0.2.{n + 10}").status_code == 303
        assert attempt(client, url, anna, "192.0.2.200").status_code == 429
