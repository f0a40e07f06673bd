"""Fixtures: one simulator per module over real HTTP, reseeded before every test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import RunningSimulator, start_in_thread

STEP_S = 0.05


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(SimConfig(subjects=12, seed=7, gdpr_step_s=STEP_S))
    yield running
    running.stop()


@pytest.fixture
def raw(sim: RunningSimulator) -> Iterator[httpx.Client]:
    """Unauthenticated client; resets the organisation first so tests do not see each other's erasures."""
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        assert client.post("/_sim/reset").status_code == 200
        yield client


def get_token(client: httpx.Client) -> str:
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sim-client", "sim-secret"))
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture
def api(sim: RunningSimulator, raw: httpx.Client) -> Iterator[httpx.Client]:
    """Client carrying a fresh bearer token."""
    token = get_token(raw)
    with httpx.Client(base_url=sim.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def subjects(raw: httpx.Client) -> list[dict[str, Any]]:
    return list(raw.get("/_sim/subjects").json())


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.02) -> Any:
    """Poll until `predicate()` is truthy; fail after `timeout` seconds (generous: the machine may be loaded,
    and a passing test never waits for the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


ALL_TIME = "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z"


def subject_body(subject: dict[str, Any]) -> dict[str, Any]:
    """A GDPRSubject carrying every identifier of a seeded subject."""
    return {
        "name": subject["name"],
        "emailAddresses": subject["emails"],
        "phoneNumbers": subject["phones"],
        "externalContactId": subject["external_contact_id"],
    }


# An organisation with every optional shape of issue 4: merged contacts, a recycled number, conversations
# still in progress, former agents, and fast async analytics jobs. The conversations in progress last
# until a test ends them (`POST /_sim/end-active`), never until a clock runs out mid-test.
SHAPED = SimConfig(
    subjects=16,
    seed=11,
    gdpr_step_s=STEP_S,
    linked_fraction=0.5,
    recycled=2,
    active=2,
    active_for_s=24 * 3600.0,
    former_agents=2,
    analytics_job_s=1.0,
)


@pytest.fixture(scope="module")
def shaped_sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(SHAPED)
    yield running
    running.stop()


@pytest.fixture
def shaped(shaped_sim: RunningSimulator) -> Iterator[httpx.Client]:
    """Unauthenticated client on the shaped organisation, reset first (which also puts the conversations in
    progress back in progress)."""
    with httpx.Client(base_url=shaped_sim.url, timeout=10) as client:
        assert client.post("/_sim/reset").status_code == 200
        yield client


@pytest.fixture
def shaped_api(shaped_sim: RunningSimulator, shaped: httpx.Client) -> Iterator[httpx.Client]:
    token = get_token(shaped)
    with httpx.Client(base_url=shaped_sim.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def gdpr_delete(api: httpx.Client, subject: dict[str, Any]) -> str:
    """Submit a confirmed GDPR_DELETE for a GDPRSubject body; returns the request id."""
    r = api.post(
        "/api/v2/gdpr/requests", params={"deleteConfirmed": "true"}, json={"requestType": "GDPR_DELETE", "subject": subject}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def wait_completed(api: httpx.Client, request_id: str) -> None:
    wait_for(lambda: api.get(f"/api/v2/gdpr/requests/{request_id}").json()["status"] == "COMPLETED")


def find(raw: httpx.Client, values: list[str]) -> list[dict[str, Any]]:
    r = raw.post("/_sim/find", json={"values": values})
    assert r.status_code == 200, r.text
    return list(r.json()["matches"])
