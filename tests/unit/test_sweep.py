"""The GDPR sweep reads only the recent pages of the platform's list, and asks for an older pending
request directly instead of paging the organisation's whole history."""

from __future__ import annotations

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import start_in_thread

from services.polling import tasks
from shared import celery_app
from shared.genesys.models import GdprSubject
from shared.models import ErasureRecord, RequestState, Subject, utcnow
from tests.support.sim_api import wait_for


@pytest.fixture()
def sim():
    running = start_in_thread(SimConfig(subjects=8, seed=5, gdpr_step_s=0.05, rate_limit=6000))
    yield running
    running.stop()


def calls(sim, method: str, path: str) -> int:
    stats = httpx.get(f"{sim.url}/_sim/stats").json()
    return sum(r["count"] for r in stats["requests"] if (r["method"], r["path"]) == (method, path))


def test_an_old_pending_request_is_asked_for_directly(sim, client, runtime, monkeypatch):
    subjects = httpx.get(f"{sim.url}/_sim/subjects").json()
    ours = client.create_gdpr_request("GDPR_EXPORT", GdprSubject(emailAddresses=subjects[0]["emails"][:1]))
    for subject in subjects[1:7]:  # newer requests of somebody else push ours off the first page
        client.create_gdpr_request("GDPR_EXPORT", GdprSubject(emailAddresses=subject["emails"][:1]))
    record = runtime.store.create(ErasureRecord(ticket="SW-1", subject=Subject(emails=subjects[0]["emails"][:1]),
                                                verified_at=utcnow(), state=RequestState.POLLING,
                                                gdpr_request_ids=[ours.id], submitted_at=utcnow()))
    runtime.redis.hset(runtime.keys.pending_gdpr, ours.id, record.request_id)
    monkeypatch.setattr(runtime, "genesys", lambda pool: client)
    monkeypatch.setattr(tasks, "LIST_PAGE_SIZE", 2)
    monkeypatch.setattr(tasks, "SWEEP_EXTRA_PAGES", 0)
    sent = []
    monkeypatch.setattr(celery_app.app, "send_task", lambda name, args=None, **kw: sent.append((name, args)))
    wait_for(lambda: client.get_gdpr_request(ours.id).status == "COMPLETED", interval=0.1)
    gets_before = calls(sim, "GET", "/api/v2/gdpr/requests/{requestId}")

    tasks._sweep_once(runtime)

    assert calls(sim, "GET", "/api/v2/gdpr/requests") == 1  # one page of two, not the four pages of seven
    assert calls(sim, "GET", "/api/v2/gdpr/requests/{requestId}") == gets_before + 1
    assert sent == [(tasks.VERIFY_TASK, [[record.request_id]])]
    assert not runtime.redis.hexists(runtime.keys.pending_gdpr, ours.id)
