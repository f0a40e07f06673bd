"""The intake API's request metrics (by route template, never a path value) and per-key rate limit
(429 with Retry-After, counted; another key unaffected), in process on fakeredis."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from services.intake import api
from shared import celery_app
from shared.api_keys import ApiKeyStore
from tests.support.intake_client import bearer, intake_client


@pytest.fixture
def client(runtime, monkeypatch):
    monkeypatch.setattr(celery_app.app, "send_task", lambda *a, **kw: None)
    with intake_client(runtime) as test_client:
        yield test_client


@pytest.fixture
def key(runtime):
    store = ApiKeyStore(runtime.redis, runtime.keys)
    return lambda name, *scopes: bearer(store, name, *scopes)


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def calls(method, route, status):
    return sample("erasure_api_requests_total", method=method, route=route, status=str(status))


# --- request metrics ---------------------------------------------------------------------------------

def test_calls_are_counted_by_route_template_never_by_the_path_sent(client, key):
    reader = key("reader", "requests:read")
    before = {"found": calls("GET", "/requests/{ticket}", 404), "list": calls("GET", "/requests", 200),
              "unmatched": calls("GET", "unmatched", 404), "guard": calls("POST", "/requests", 415),
              "other": calls("other", "/requests", 405), "timed": sample("erasure_api_request_seconds_count",
                                                                           method="GET", route="/requests/{ticket}")}
    assert client.get("/requests/T-4711", headers=reader).status_code == 404
    assert client.get("/requests", headers=reader).status_code == 200
    assert client.get("/no/such/T-4711").status_code == 404
    assert client.post("/requests", content=b"x", headers={**reader, "Content-Type": "text/plain"}).status_code == 415
    assert client.request("BREW", "/requests", headers=reader).status_code == 405
    assert calls("GET", "/requests/{ticket}", 404) == before["found"] + 1
    assert calls("GET", "/requests", 200) == before["list"] + 1
    assert calls("GET", "unmatched", 404) == before["unmatched"] + 1
    assert calls("POST", "/requests", 415) == before["guard"] + 1  # the body guard's refusal, before any route
    assert calls("other", "/requests", 405) == before["other"] + 1  # any token is a method: not a label value
    assert sample("erasure_api_request_seconds_count", method="GET", route="/requests/{ticket}") == before["timed"] + 1
    labels = {v for metric in REGISTRY.collect() if metric.name.startswith("erasure_api_request")
              for s in metric.samples for v in s.labels.values()}
    assert not any("T-4711" in value or "BREW" in value or "/no/such" in value for value in labels)


def test_metrics_are_served_to_the_metrics_and_admin_scopes_only(client, key):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=key("reader", "requests:read")).status_code == 403
    scraper = key("prometheus", "metrics:read")
    assert client.get("/metrics", headers=scraper).status_code == 200
    assert client.get("/requests", headers=scraper).status_code == 403  # a scraper reads no request
    answer = client.get("/metrics", headers=key("ops", "admin"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert 'erasure_api_requests_total{method="GET",route="/metrics",status="403"}' in answer.text


# --- the per-key rate limit --------------------------------------------------------------------------

def test_a_key_past_its_burst_is_429_with_retry_after_and_another_key_is_not(client, key, runtime):
    runtime.settings = runtime.settings.model_copy(update={"api_rate_per_minute": 60, "api_rate_burst": 3})
    busy, other = key("busy", "requests:read", "requests:submit"), key("other", "requests:read")
    refused_before = sample("erasure_api_rate_limited_total", route="/requests")
    assert [client.get("/requests", headers=busy).status_code for _ in range(3)] == [200, 200, 200]
    answer = client.get("/requests", headers=busy)
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= 2  # one call a second: the next is free within a second
    assert answer.json() == {"errors": ["rate: more than 60 calls a minute (burst 3) from this key; retry after "
                                        f"{answer.headers['Retry-After']} s"]}
    assert sample("erasure_api_rate_limited_total", route="/requests") == refused_before + 1
    # The bucket is the key's, whatever the endpoint: a submit is refused too, before its body is looked at.
    assert client.post("/requests", json={"ticket": "R-1", "emails": ["a@example.org"]}, headers=busy).status_code == 429
    assert runtime.store.find_by_ticket("R-1") is None
    assert client.get("/requests", headers=other).status_code == 200


def test_calls_refused_for_scope_spend_the_keys_budget_too(client, key, runtime):
    """The limit is taken once the key is known, before its scope is checked: a flood of 403s is metered."""
    runtime.settings = runtime.settings.model_copy(update={"api_rate_per_minute": 60, "api_rate_burst": 2})
    reader = key("reader", "requests:read")
    assert [client.get("/metrics", headers=reader).status_code for _ in range(3)] == [403, 403, 429]
    assert client.get("/requests", headers=reader).status_code == 429


def test_a_limiter_without_redis_is_503_with_retry_after_not_500(client, key, monkeypatch):
    from shared.ratelimit import LimiterUnavailable, RateLimiter

    reader = key("reader", "requests:read")

    def unavailable(self, pool="default"):
        raise LimiterUnavailable("rate limiter Redis unavailable")

    monkeypatch.setattr(RateLimiter, "try_acquire", unavailable)
    answer = client.get("/requests", headers=reader)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(api.RETRY_AFTER_S)
    assert list(answer.json()) == ["errors"]


# --- query parameters ----------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["sate=failed", "overdu=true", "=x", "limit=5&jane%40example.org=1"])
def test_an_unknown_query_parameter_is_422_without_its_name(client, key, query):
    answer = client.get(f"/requests?{query}", headers=key("reader", "requests:read"))
    assert answer.status_code == 422
    assert answer.json() == {"errors": ["query: an unknown parameter (its name is not repeated); see /openapi.json"]}


def test_declared_query_parameters_pass_on_every_route(client, key):
    reader = key("reader", "requests:read")
    assert client.get("/requests?state=failed&overdue=true&limit=5&cursor=0", headers=reader).status_code == 200
    assert client.get("/requests/T-1?x=1", headers=reader).status_code == 422  # a route without any: refused too
    assert client.get("/health?probe=1").status_code == 200  # a load balancer's probe may add a cache-buster


# --- what the schema declares --------------------------------------------------------------------------

def test_the_schema_declares_each_operations_own_errors_and_their_headers(client, key):
    paths = client.get("/openapi.json", headers=key("reader", "requests:read")).json()["paths"]
    declared = {(m.upper(), p): sorted(int(c) for c in o["responses"]) for p, ops in paths.items() for m, o in ops.items()}
    keyed = [401, 403, 422, 429, 503]
    assert declared[("GET", "/health")] == [200]
    assert declared[("GET", "/requests")] == [200, *keyed]
    assert declared[("GET", "/requests/{ticket}")] == sorted([200, 404, *keyed])
    assert declared[("POST", "/requests")] == sorted([200, 202, 400, 409, 413, 415, *keyed])
    assert declared[("POST", "/requests/{ticket}/approve")] == sorted([200, 400, 404, 409, 413, 415, *keyed])
    answers = paths["/requests"]["post"]["responses"]
    assert answers["429"]["headers"]["Retry-After"]["required"] is True
    assert answers["503"]["headers"]["Retry-After"]["required"] is True
    assert answers["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert answers["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
