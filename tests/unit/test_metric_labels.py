"""Metrics move where their event happens, and their labels never carry an identifier, a ticket or an id.

Read from prometheus_client's default registry as deltas (other tests share the process-wide counters)."""

from __future__ import annotations

import importlib
import re
import uuid

import httpx
import pytest
from prometheus_client import REGISTRY

from services.polling.verify import remnant_kind
from shared import celery_app, pipeline
from shared.celery_app import TASK_MODULES
from shared.errors import RunLater
from shared.genesys import GenesysClient, NotFound, TokenProvider
from shared.models import ErasureRecord, RequestKind, RequestState, Subject, utcnow
from shared.webhooks import CALLBACK, WebhookSender
from tests.unit.conftest import NoLimiter

#: Every label a metric of this project may have: names of pools, lanes, states, kinds, templates and outcomes.
ALLOWED_LABELS = {"pool", "method", "endpoint", "status", "task", "outcome", "state", "kind", "reason", "route",
                  "target_kind", "queue", "lane", "le"}
#: What a label value may look like: no "@", no "+", no run of 5 digits, no run of 8 hex digits.
UNSAFE_VALUE = re.compile(r"[@+]|\d{5}|[0-9a-f]{8}", re.IGNORECASE)
EMAIL, PHONE, TICKET = "jane.doe@example.org", "+447700900123", "DSAR-4242"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def erasure_samples() -> list[tuple[str, dict[str, str]]]:
    for module in [*TASK_MODULES, "services.intake.api"]:
        importlib.import_module(module)
    return [(s.name, s.labels) for family in REGISTRY.collect() if family.name.startswith("erasure_")
            for s in family.samples]


@pytest.fixture
def wired(runtime, monkeypatch):
    sent: list[tuple[str, object]] = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args)))
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    return runtime


def stored(runtime, ticket: str, kind: RequestKind = RequestKind.ERASE) -> str:
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=[EMAIL], phones=[PHONE]), verified_at=utcnow(),
                           state=RequestState.VERIFYING, kind=kind)
    return runtime.store.create(record).request_id


def test_a_task_delivery_is_counted_by_how_it_ended(wired):
    name = f"test.metrics.{uuid.uuid4().hex[:8]}"
    outcomes: list[str] = []

    def body(runtime, ids):
        if not outcomes:
            outcomes.append("deferred")
            raise RunLater(1.0, "not yet")
        raise ValueError("a bug")

    task = pipeline.erasure_task(name)(body)
    request_id = stored(wired, "T-OUT-1")
    task.apply(args=[[request_id]])
    assert value("erasure_tasks_total", task=name, outcome="deferred") == 1
    task.apply(args=[[request_id]])
    assert value("erasure_tasks_total", task=name, outcome="failed") == 1
    assert value("erasure_tasks_total", task=name, outcome="ok") == 0


def test_a_request_entering_a_final_state_is_counted_once_by_state_and_kind(wired):
    before = value("erasure_requests_finished_total", state="completed", kind="anonymise")
    request_id = stored(wired, "T-FIN-1", RequestKind.ANONYMISE)
    pipeline.transition(wired, request_id, RequestState.COMPLETED, "test.completed")
    assert value("erasure_requests_finished_total", state="completed", kind="anonymise") == before + 1
    # A request already moved by another delivery is not counted again.
    assert pipeline.transition(wired, request_id, RequestState.COMPLETED, "test.completed",
                               expect=RequestState.VERIFYING) is None
    assert value("erasure_requests_finished_total", state="completed", kind="anonymise") == before + 1


def test_a_parked_webhook_is_counted_by_target_kind_never_by_target(runtime):
    sender = WebhookSender(runtime.redis, runtime.keys, b"k" * 32, httpx.Client(), resolve=lambda *_: None)
    before = value("erasure_webhook_dead_letters_total", target_kind="callback")
    sender.park("r1", CALLBACK, 3, "HTTP 500")
    assert value("erasure_webhook_dead_letters_total", target_kind="callback") == before + 1


def test_a_remnant_is_counted_by_its_kind_and_anything_unknown_is_other():
    assert remnant_kind("conversation:3f2a9b1c-0000-4000-8000-000000000001") == "conversation"
    assert remnant_kind("gdpr_subject:email") == "gdpr_subject"
    assert remnant_kind(f"{EMAIL}:x") == "other" and remnant_kind("no colon") == "other"


def test_platform_calls_are_counted_by_endpoint_template_never_by_the_path_sent():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(404, json={"message": "not found"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = GenesysClient(api_base_url="https://api.example", tokens=TokenProvider(http, "https://login.example", "c", "s"),
                           limiter=NoLimiter(), http=http, pool="labels-test")
    for path in (f"/api/v2/users/{EMAIL}", f"/api/v2/externalcontacts/contacts/{uuid.uuid4()}",
                 f"/api/v2/gdpr/subjects/{PHONE}", f"/api/v2/tickets/{TICKET}"):
        with pytest.raises(NotFound):
            client.request("GET", path)
    endpoints = {labels["endpoint"] for name, labels in erasure_samples()
                 if name == "erasure_genesys_api_calls_total" and labels.get("pool") == "labels-test"}
    assert endpoints == {"/api/v2/users/{id}", "/api/v2/externalcontacts/contacts/{id}", "/api/v2/gdpr/subjects/{id}",
                         "/api/v2/tickets/{id}"}


def test_no_metric_label_names_or_holds_an_identifier(wired):
    """After the events above (and whatever else this process counted): every label is one of the allowed
    names, and no value looks like an email, a phone number, a ticket, or a request or platform id."""
    request_id = stored(wired, TICKET)
    pipeline.transition(wired, request_id, RequestState.PARTIAL, "test.partial")
    samples = erasure_samples()
    assert samples
    for name, labels in samples:
        assert set(labels) <= ALLOWED_LABELS, (name, sorted(set(labels) - ALLOWED_LABELS))
        for label, text in labels.items():
            if label == "task" and text.startswith("test."):
                continue  # a task this test suite registered under a made-up name (tests/unit/test_pipeline.py)
            if label != "le":
                assert not UNSAFE_VALUE.search(text), (name, label)
                assert TICKET not in text and request_id not in text, (name, label)
