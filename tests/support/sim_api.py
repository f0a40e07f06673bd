"""What the simulator tests share: waits, request bodies and shortcuts on the simulator's API.

A plain module (the fixtures that use it are in tests/simulator/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from genesys_sim.config import SimConfig

STEP_S = 0.05


def get_token(client: httpx.Client) -> str:
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sim-client", "sim-secret"))
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


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
