"""The HTTP intake in process (FastAPI's TestClient) on a test's runtime, and a bearer header for a new key:
what the API unit tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from services.intake import api
from services.intake.auth import current_runtime
from shared.api_keys import ApiKeyStore
from shared.runtime import Runtime


@contextmanager
def intake_client(runtime: Runtime) -> Iterator[TestClient]:
    """The app answering from ``runtime`` (fakeredis) until the block ends."""
    api.app.dependency_overrides[current_runtime] = lambda: runtime
    try:
        yield TestClient(api.app)
    finally:
        api.app.dependency_overrides.clear()


def bearer(keys: ApiKeyStore, name: str, *scopes: str) -> dict[str, str]:
    """The Authorization header of a new key ``name`` with ``scopes``."""
    return {"Authorization": f"Bearer {keys.create(name, list(scopes))[1]}"}
