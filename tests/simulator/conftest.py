"""Fixtures: one simulator per module over real HTTP, reseeded before every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from genesys_sim.config import SimConfig
from genesys_sim.server import RunningSimulator, start_in_thread

from tests.support.sim_api import SHAPED, STEP_S, get_token


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


@pytest.fixture
def api(sim: RunningSimulator, raw: httpx.Client) -> Iterator[httpx.Client]:
    """Client carrying a fresh bearer token."""
    token = get_token(raw)
    with httpx.Client(base_url=sim.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def subjects(raw: httpx.Client) -> list[dict[str, Any]]:
    return list(raw.get("/_sim/subjects").json())


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
