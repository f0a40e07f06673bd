"""A platform hiccup of one request's own call retries that request alone: the rest of its batch goes on
in the same delivery and none of its calls is made again. Run on the discovery task, eagerly, against the
in-process simulator (``apply`` runs a retry inline, as the broker would deliver it later)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import start_in_thread

from services.discovery import tasks as discovery
from shared import celery_app, pipeline
from shared.genesys import ServerError
from shared.models import DateWindow, ErasureRecord, RequestState, Subject, utcnow
from shared.task_names import DISCOVER_TASK, REDACT_TASK


@pytest.fixture(scope="module")
def sim():
    with start_in_thread(SimConfig(subjects=6, seed=3, rate_limit=6000)) as running:
        yield running


@pytest.fixture
def wired(runtime, client, monkeypatch):
    """The discovery task on the fakeredis runtime and the simulator; messages it sends are recorded."""
    sent = []
    monkeypatch.setattr(pipeline, "get_runtime", lambda: runtime)
    monkeypatch.setattr(runtime, "genesys", lambda pool: client)
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args, kw)))
    return sent


def discovering(runtime, email: str, ticket: str) -> str:
    now = utcnow()
    record = ErasureRecord(ticket=ticket, subject=Subject(emails=[email]), verified_at=now,
                           state=RequestState.DISCOVERING,
                           window=DateWindow(start=now - timedelta(days=7), end=now + timedelta(days=1)))
    return runtime.store.create(record).request_id


def test_a_5xx_of_one_requests_call_retries_that_request_alone_and_the_batch_goes_on(runtime, client, sim, wired):
    """Issue 14, cause "retries per batch": a 503 for one request's call (inside ``isolated``) used to
    propagate and retry the whole batch of 25, making every other request's calls again. Now the others
    move on (and are handed on) in that delivery, their calls made once; that request is retried alone."""
    emails = [s["emails"][0] for s in httpx.get(f"{sim.url}/_sim/subjects", timeout=30).json()[:3]]
    b, c, a = (discovering(runtime, email, f"RT-{n}") for n, email in enumerate(emails))
    a_email = emails[2]
    searched: Counter[str] = Counter()
    real_search = client.search_gdpr_subjects

    def search(kind, value):
        searched[value] += 1
        if value == a_email and searched[value] == 1:
            raise ServerError("GET /api/v2/gdpr/subjects -> 503", status=503)
        return real_search(kind, value)

    client.search_gdpr_subjects = search

    discovery.discover.apply(args=[[b, c, a]])

    handed_on = [args[0] for name, args, _ in wired if name == REDACT_TASK]
    assert handed_on == [[b, c], [a]]  # b and c in the first delivery, a after its own retry
    assert {runtime.store.get(i).state for i in (b, c, a)} == {RequestState.REDACTING}
    assert searched[a_email] == 2
    assert searched and all(count == 1 for value, count in searched.items() if value != a_email)
    assert not [m for m in wired if m[0] == DISCOVER_TASK]  # the retry was Celery's own, nothing re-sent whole
    assert not [e for i in (b, c, a) for e in runtime.audit.entries_for(i) if e["event"] == "request.failed"]


def test_a_request_whose_call_keeps_failing_fails_alone_with_a_reason(runtime, client, sim, wired):
    emails = [s["emails"][0] for s in httpx.get(f"{sim.url}/_sim/subjects", timeout=30).json()[3:5]]
    ok, bad = (discovering(runtime, email, f"RF-{n}") for n, email in enumerate(emails))
    real_search = client.search_gdpr_subjects
    calls: Counter[str] = Counter()

    def search(kind, value):
        calls[value] += 1
        if value == emails[1]:
            raise ServerError("GET /api/v2/gdpr/subjects -> 503", status=503)
        return real_search(kind, value)

    client.search_gdpr_subjects = search

    discovery.discover.apply(args=[[ok, bad]])

    assert runtime.store.get(ok).state is RequestState.REDACTING
    record = runtime.store.get(bad)
    assert record.state is RequestState.FAILED
    assert "platform kept failing (ServerError)" in record.reason and "resubmit under a new ticket" in record.reason
    assert calls[emails[1]] == pipeline.MAX_RETRIES + 1  # the first try and each retry, of that request alone
    assert calls[emails[0]] == 1
